package io.unclip.engine.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the engine needs from a Hugging Face {@code tokenizer.json} that the djl binding does not
 * expose: the vocabulary, the unknown token, the padding token (empty when the file has none, as
 * CLIP's has not) and a BPE model's end-of-word suffix (CLIP's "</w>").
 */
record TokenizerFile(Map<String, Long> vocabulary, Optional<Long> unknownId, Optional<Long> padId,
                     String endOfWordSuffix) {

    /** Conventional names of a padding token, tried when the file has no "padding" section. */
    static final List<String> PAD_NAMES = List.of("[PAD]", "<pad>", "<PAD>", "<|pad|>");

    static TokenizerFile read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": not a readable tokenizer.json: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new TokenizerException(file + ": not a tokenizer.json (no \"model\" object)");
        }
        Map<String, Long> vocab = new HashMap<>();
        JsonNode v = root.path("model").path("vocab");
        if (v.isObject()) { // WordLevel, WordPiece, BPE: {"token": id}
            v.fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asLong()));
        } else if (v.isArray()) { // Unigram: [["piece", score], ...], id = index
            for (int i = 0; i < v.size(); i++) {
                vocab.put(v.get(i).path(0).asText(), (long) i);
            }
        }
        Map<String, Long> special = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            vocab.put(t.path("content").asText(), t.path("id").asLong());
            if (t.path("special").asBoolean(false)) {
                special.put(t.path("content").asText(), t.path("id").asLong());
            }
        }
        if (vocab.isEmpty()) {
            throw new TokenizerException(file + ": tokenizer.json has an empty vocabulary");
        }
        JsonNode unk = root.path("model").path("unk_token");
        Optional<Long> unknownId = unk.isTextual() ? Optional.ofNullable(vocab.get(unk.asText())) : Optional.empty();
        JsonNode suffix = root.path("model").path("end_of_word_suffix");
        return new TokenizerFile(Map.copyOf(vocab), unknownId, padId(root, special),
                suffix.isTextual() ? suffix.asText() : "");
    }

    /** The "padding" section's pad_id, else a special token with a conventional padding name. */
    private static Optional<Long> padId(JsonNode root, Map<String, Long> special) {
        JsonNode padding = root.path("padding");
        if (padding.isObject() && padding.path("pad_id").canConvertToLong()) {
            return Optional.of(padding.path("pad_id").asLong());
        }
        for (String name : PAD_NAMES) {
            if (special.containsKey(name)) {
                return Optional.of(special.get(name));
            }
        }
        return Optional.empty();
    }
}
