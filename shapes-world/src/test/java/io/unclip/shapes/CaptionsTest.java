package io.unclip.shapes;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class CaptionsTest {
    static SceneObject obj(Shape s, ObjectColor c, Size z, Cell cell) {
        return new SceneObject(s, c, z, cell, cell.centreX(), cell.centreY());
    }

    @Test
    void exactStringsForKnownScenes() {
        Scene one = new Scene(Background.WHITE, List.of(obj(Shape.CIRCLE, ObjectColor.RED, Size.SMALL, Cell.TOP_LEFT)));
        assertEquals("a red circle", Captions.shortCaption(one));
        assertEquals("a small red circle at the top left on a white background", Captions.descriptive(one));
        assertNull(Captions.relational(one));

        Scene two = new Scene(Background.GRAY, List.of(obj(Shape.CIRCLE, ObjectColor.RED, Size.LARGE, Cell.TOP_LEFT),
                obj(Shape.SQUARE, ObjectColor.BLUE, Size.SMALL, Cell.BOTTOM_RIGHT)));
        assertEquals("a red circle and a blue square", Captions.shortCaption(two));
        assertEquals("a large red circle at the top left and a small blue square at the bottom right, on a gray background",
                Captions.descriptive(two));
        assertEquals("a red circle above a blue square", Captions.relational(two));

        Scene row = new Scene(Background.BLACK, List.of(obj(Shape.DIAMOND, ObjectColor.ORANGE, Size.SMALL, Cell.RIGHT),
                obj(Shape.TRIANGLE, ObjectColor.CYAN, Size.SMALL, Cell.CENTER)));
        assertEquals("a orange diamond to the right of a cyan triangle", Captions.relational(row));
        assertEquals("a small orange diamond at the right and a small cyan triangle at the center, on a black background",
                Captions.descriptive(row));
        Scene left = new Scene(Background.BLACK, List.of(obj(Shape.DIAMOND, ObjectColor.PINK, Size.SMALL, Cell.BOTTOM_LEFT),
                obj(Shape.TRIANGLE, ObjectColor.CYAN, Size.SMALL, Cell.BOTTOM)));
        assertEquals("a pink diamond to the left of a cyan triangle", Captions.relational(left));
        Scene below = new Scene(Background.BLACK, List.of(obj(Shape.SQUARE, ObjectColor.YELLOW, Size.SMALL, Cell.BOTTOM_LEFT),
                obj(Shape.CIRCLE, ObjectColor.GREEN, Size.SMALL, Cell.TOP_RIGHT)));
        assertEquals("a yellow square below a green circle", Captions.relational(below));
    }

    @Test
    void vocabularyIsClosedAndCaptionsAreWellFormed() {
        for (int i = 0; i < 2000; i++) {
            Scene s = SceneSampler.sample(9, i);
            for (String c : new String[] {Captions.shortCaption(s), Captions.descriptive(s), Captions.relational(s)}) {
                if (c == null) {
                    assertEquals(1, s.objects().size());
                    continue;
                }
                assertEquals(c.toLowerCase(), c);
                assertFalse(c.contains("  ") || c.startsWith(" ") || c.endsWith(" "));
                assertTrue(c.matches("[a-z ,]+"), c);
                assertTrue(c.startsWith("a "));
                for (String t : Vocabulary.tokenize(c)) assertTrue(Vocabulary.contains(t), t + " in " + c);
            }
            if (s.objects().size() == 2) assertNotNull(Captions.relational(s));
        }
    }

    @Test
    void vocabularyHoldsExactlyTheSpecWords() {
        assertEquals(List.of("a", "and", "at", "the", "on", "of", "to", "background", "above", "below", "top", "bottom",
                "left", "right", "center", "small", "large", "red", "green", "blue", "yellow", "purple", "orange", "cyan",
                "pink", "circle", "square", "triangle", "diamond", "white", "gray", "black", ","), Vocabulary.WORDS);
        assertEquals(List.of("a", "x", ",", "on", "b"), Vocabulary.tokenize(" a  x, on b "));
    }
}
