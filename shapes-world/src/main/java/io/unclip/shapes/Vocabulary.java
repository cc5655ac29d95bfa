package io.unclip.shapes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The closed caption vocabulary: every word a caption of any style can contain, plus the comma token.
 * Order (stable; tokenizers may use it for ids): function words, relation words, cell words, sizes,
 * colours, shapes, backgrounds, ",".
 */
public final class Vocabulary {
    public static final List<String> WORDS;
    private static final Set<String> SET;

    static {
        LinkedHashSet<String> w = new LinkedHashSet<>();
        Collections.addAll(w, "a", "and", "at", "the", "on", "of", "to", "background");
        Collections.addAll(w, "above", "below");
        Collections.addAll(w, "top", "bottom", "left", "right", "center");
        for (Size s : Size.values()) w.add(s.word());
        for (ObjectColor c : ObjectColor.values()) w.add(c.word());
        for (Shape s : Shape.values()) w.add(s.word());
        for (Background b : Background.values()) w.add(b.word());
        w.add(",");
        WORDS = Collections.unmodifiableList(new ArrayList<>(w));
        SET = Collections.unmodifiableSet(w);
    }

    private Vocabulary() {}

    public static boolean contains(String token) {
        return SET.contains(token);
    }

    /** Splits a caption into tokens: whitespace-separated words, with every comma its own token. */
    public static List<String> tokenize(String caption) {
        List<String> out = new ArrayList<>();
        for (String part : caption.trim().split("\\s+")) {
            if (part.isEmpty()) continue;
            int start = 0;
            for (int i = 0; i < part.length(); i++) {
                if (part.charAt(i) == ',') {
                    if (i > start) out.add(part.substring(start, i));
                    out.add(",");
                    start = i + 1;
                }
            }
            if (start < part.length()) out.add(part.substring(start));
        }
        return out;
    }
}
