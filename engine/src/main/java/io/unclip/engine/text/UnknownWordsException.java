package io.unclip.engine.text;

import java.util.List;
import java.util.stream.Collectors;

/** A text uses words outside the tokenizer's closed vocabulary. */
public class UnknownWordsException extends IllegalArgumentException {
    private final List<String> words;

    public UnknownWordsException(List<String> words) {
        super("words outside the vocabulary: " + words.stream().map(w -> "'" + w + "'")
                .collect(Collectors.joining(", ")));
        this.words = List.copyOf(words);
    }

    /** The unknown words, distinct, in order of first appearance. */
    public List<String> words() {
        return words;
    }
}
