package io.unclip.engine.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A Hugging Face tokenizer ({@code tokenizer.json}, read offline) producing fixed-length ids for
 * a model with a given context length, and decoding ids back to text.
 *
 * <p>Padding and truncation are done here rather than by the tokenizer's own settings, so that
 * the length always equals the manifest's context length and a trailing special token (EOS)
 * survives truncation, as CLIP-style encoders expect. Thread-safe.
 */
public final class TextTokenizer implements AutoCloseable {
    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerFile info;
    private final int contextLength;
    private final long padId;
    private final long maxId;

    private TextTokenizer(Path file, HuggingFaceTokenizer tokenizer, TokenizerFile info, int contextLength,
                          long padId) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.info = info;
        this.contextLength = contextLength;
        this.padId = padId;
        this.maxId = info.vocabulary().values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /**
     * Loads {@code tokenizer.json}.
     *
     * @param contextLength every encoding is padded or truncated to this many tokens
     * @throws TokenizerException if the file is missing or not a usable tokenizer
     */
    public static TextTokenizer load(Path tokenizerJson, int contextLength) {
        return load(tokenizerJson, contextLength, Optional.empty());
    }

    /**
     * Loads {@code tokenizer.json}, padding with {@code padToken} when given (a manifest's
     * {@code pad_token}: CLIP's tokenizer.json has no padding section, its pad token is
     * {@code <|endoftext|>}), else with the file's own padding token.
     *
     * @throws TokenizerException if the file is missing or not a usable tokenizer, or there is no
     *                            padding token
     */
    public static TextTokenizer load(Path tokenizerJson, int contextLength, Optional<String> padToken) {
        if (contextLength < 2) {
            throw new IllegalArgumentException("context length must be >= 2, got " + contextLength);
        }
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new TokenizerException(tokenizerJson + ": tokenizer file not found");
        }
        TokenizerFile info = TokenizerFile.read(tokenizerJson);
        long pad;
        if (padToken.isPresent()) {
            Long id = info.vocabulary().get(padToken.get());
            if (id == null) {
                throw new TokenizerException(tokenizerJson + ": has no token '" + padToken.get()
                        + "', which the manifest's pad_token names");
            }
            pad = id;
        } else {
            pad = info.padId().orElseThrow(() -> new TokenizerException(tokenizerJson + ": no padding token: add"
                    + " a \"padding\" section with \"pad_id\" or a special added token named one of "
                    + TokenizerFile.PAD_NAMES + ", or name one in the manifest's pad_token (CLIP pads with"
                    + " <|endoftext|>)"));
        }
        try {
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("padding", "false", "truncation", "false", "addSpecialTokens", "true"));
            return new TextTokenizer(tokenizerJson, hf, info, contextLength, pad);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerException(tokenizerJson + ": cannot load tokenizer: " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    public int contextLength() {
        return contextLength;
    }

    /** Number of token ids, 0..vocabularySize()-1 (vocabulary plus added tokens). */
    public int vocabularySize() {
        return (int) maxId + 1;
    }

    /** The id of a token string such as "[EOS]" or "red", if it is in the vocabulary. */
    public OptionalLong tokenId(String token) {
        Long id = info.vocabulary().get(token);
        return id == null ? OptionalLong.empty() : OptionalLong.of(id);
    }

    public long padId() {
        return padId;
    }

    /** Encodes one text to {@link #contextLength()} ids with special tokens added. */
    public EncodedText encode(String text) {
        Encoding e = tokenizer.encode(text);
        return fit(e.getIds(), e.getSpecialTokenMask());
    }

    /** Encodes several texts into one {@code [batch, contextLength]} block. */
    public EncodedBatch encodeBatch(List<String> texts) {
        List<EncodedText> items = new ArrayList<>(texts.size());
        for (String t : texts) {
            items.add(encode(t));
        }
        return new EncodedBatch(items, contextLength);
    }

    /**
     * Words of {@code text} that the vocabulary lacks (they would become the unknown token),
     * distinct and in order. Always empty for tokenizers without an unknown token.
     */
    public List<String> unknownWords(String text) {
        if (info.unknownId().isEmpty()) {
            return List.of();
        }
        long unk = info.unknownId().get();
        Encoding e = tokenizer.encode(text, false, false);
        long[] ids = e.getIds();
        CharSpan[] spans = e.getCharTokenSpans();
        Set<String> words = new LinkedHashSet<>();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == unk) {
                words.add(original(text, spans[i], e.getTokens()[i]));
            }
        }
        return List.copyOf(words);
    }

    /** @throws UnknownWordsException if any word of {@code text} is outside the vocabulary */
    public void requireKnownWords(String text) {
        List<String> unknown = unknownWords(text);
        if (!unknown.isEmpty()) {
            throw new UnknownWordsException(unknown);
        }
    }

    /**
     * Decodes ids to text, leaving out special tokens (padding, BOS, EOS). A BPE model's
     * end-of-word suffix that the file's decoder leaves in (CLIP's "</w>" under a ByteLevel
     * decoder) becomes a space, as transformers' CLIPTokenizer decodes.
     */
    public String decode(long[] ids) {
        for (long id : ids) {
            if (id < 0 || id > maxId) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + maxId + ")");
            }
        }
        String text = tokenizer.decode(ids, true);
        String suffix = info.endOfWordSuffix();
        if (!suffix.isEmpty() && text.contains(suffix)) {
            text = text.replace(suffix, " ").strip();
        }
        return text;
    }

    /** Pads to the context length, or truncates keeping a trailing special token (EOS). */
    private EncodedText fit(long[] ids, long[] specialMask) {
        int n = ids.length;
        long[] out = new long[contextLength];
        long[] mask = new long[contextLength];
        boolean truncated = n > contextLength;
        int kept = Math.min(n, contextLength);
        System.arraycopy(ids, 0, out, 0, kept);
        if (truncated && specialMask[n - 1] == 1) {
            out[contextLength - 1] = ids[n - 1];
        }
        Arrays.fill(out, kept, contextLength, padId);
        Arrays.fill(mask, 0, kept, 1);
        return new EncodedText(out, mask, kept, truncated);
    }

    /** The text a token came from; offsets count Unicode code points, not UTF-16 units. */
    private static String original(String text, CharSpan span, String token) {
        if (span == null) {
            return token;
        }
        try {
            int start = text.offsetByCodePoints(0, span.getStart());
            int end = text.offsetByCodePoints(start, span.getEnd() - span.getStart());
            return text.substring(start, end);
        } catch (IndexOutOfBoundsException e) {
            return token;
        }
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "TextTokenizer[" + file.getFileName() + ", context " + contextLength + "]";
    }
}
