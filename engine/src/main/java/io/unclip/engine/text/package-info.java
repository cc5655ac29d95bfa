/**
 * Tokenizers: {@link io.unclip.engine.text.TextTokenizer} wraps a Hugging Face tokenizer.json
 * (read offline through djl) for fixed-length model inputs, caption decoding and closed-vocabulary
 * checks.
 */
package io.unclip.engine.text;
