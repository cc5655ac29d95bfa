package io.unclip.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses any caption or prompt of the closed Shapes-World grammar into its intended attributes. Input is
 * lower-cased and whitespace-collapsed first; every other deviation is rejected with a message that names the
 * offending word and its position. Grammar (a superset of the three caption styles: attributes are optional):
 * <pre>
 *   prompt     := object [ "and" object | relation object ] [ [","] "on" "a" BACKGROUND "background" ]
 *   object     := "a" [SIZE] [COLOR] SHAPE [ "at" "the" CELL ]
 *   relation   := "above" | "below" | "to" "the" ("left" | "right") "of"
 *   CELL       := "top" ["left" | "right"] | "bottom" ["left" | "right"] | "left" | "right" | "center"
 * </pre>
 */
public final class CaptionParser {
    private final List<String> toks;
    private int pos;

    private CaptionParser(List<String> toks) {
        this.toks = toks;
    }

    /** Parses a prompt; throws {@link CaptionParseException} on words outside the vocabulary or off-grammar text. */
    public static PromptSpec parse(String prompt) {
        if (prompt == null || prompt.isBlank()) throw new CaptionParseException("empty prompt");
        List<String> toks = Vocabulary.tokenize(prompt.toLowerCase(Locale.ROOT));
        for (int i = 0; i < toks.size(); i++) {
            if (!Vocabulary.contains(toks.get(i)))
                throw new CaptionParseException("word '" + toks.get(i) + "' (token " + (i + 1)
                        + ") is not in the Shapes-World vocabulary; allowed words: " + String.join(" ", Vocabulary.WORDS));
        }
        return new CaptionParser(toks).prompt();
    }

    private PromptSpec prompt() {
        List<ObjectSpec> objs = new ArrayList<>();
        Relation rel = null;
        Background bg = null;
        objs.add(object());
        if (accept("and")) {
            objs.add(object());
        } else if (peek("above") || peek("below") || peek("to")) {
            rel = relation();
            objs.add(object());
        }
        boolean comma = accept(",");
        if (accept("on")) {
            expect("a");
            String w = next("a background colour (white, gray, black)");
            bg = Background.fromWord(w);
            if (bg == null) fail("expected a background colour (white, gray, black) but found '" + w + "'", pos - 1);
            expect("background");
        } else if (comma) {
            fail("a comma must be followed by 'on a <colour> background'", pos);
        }
        if (pos < toks.size()) fail("unexpected '" + toks.get(pos) + "'", pos);
        return new PromptSpec(objs, rel, bg);
    }

    private ObjectSpec object() {
        expect("a");
        Size size = null;
        ObjectColor color = null;
        String w = next("an object");
        if ((size = Size.fromWord(w)) != null) w = next("a colour or shape");
        if ((color = ObjectColor.fromWord(w)) != null) w = next("a shape");
        Shape shape = Shape.fromWord(w);
        if (shape == null) {
            if (Background.fromWord(w) != null)
                fail("'" + w + "' is a background colour only; objects are red, green, blue, yellow, purple, orange, cyan or pink", pos - 1);
            fail("expected a shape (circle, square, triangle, diamond) but found '" + w + "'", pos - 1);
        }
        Cell cell = null;
        if (accept("at")) {
            expect("the");
            cell = cell();
        }
        return new ObjectSpec(shape, color, size, cell);
    }

    private Cell cell() {
        String w = next("a cell");
        switch (w) {
            case "top":
            case "bottom":
                if (peek("left") || peek("right")) {
                    // "top left" etc.; but "... at the top to the left of" cannot occur (relations follow objects)
                    return Cell.fromWords(w + " " + toks.get(pos++));
                }
                return Cell.fromWords(w);
            case "left":
            case "right":
            case "center":
                return Cell.fromWords(w);
            default:
                fail("expected a cell (top left, top, top right, left, center, right, bottom left, bottom, bottom right) but found '" + w + "'", pos - 1);
                return null;
        }
    }

    private Relation relation() {
        if (accept("above")) return Relation.ABOVE;
        if (accept("below")) return Relation.BELOW;
        expect("to");
        expect("the");
        String w = next("'left' or 'right'");
        Relation r = w.equals("left") ? Relation.LEFT_OF : w.equals("right") ? Relation.RIGHT_OF : null;
        if (r == null) fail("expected 'left' or 'right' but found '" + w + "'", pos - 1);
        expect("of");
        return r;
    }

    private boolean peek(String w) {
        return pos < toks.size() && toks.get(pos).equals(w);
    }

    private boolean accept(String w) {
        if (peek(w)) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(String w) {
        if (!accept(w)) {
            if (pos >= toks.size()) fail("expected '" + w + "' but the prompt ended", pos);
            fail("expected '" + w + "' but found '" + toks.get(pos) + "'", pos);
        }
    }

    private String next(String what) {
        if (pos >= toks.size()) fail("expected " + what + " but the prompt ended", pos);
        return toks.get(pos++);
    }

    private void fail(String msg, int at) {
        throw new CaptionParseException(msg + " (at token " + (at + 1) + " of: " + String.join(" ", toks) + ")");
    }
}
