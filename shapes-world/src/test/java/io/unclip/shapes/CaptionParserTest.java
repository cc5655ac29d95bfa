package io.unclip.shapes;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class CaptionParserTest {
    @Test
    void roundTripOnAllThreeStyles() {
        for (int i = 0; i < 2000; i++) {
            Scene s = SceneSampler.sample(21, i);
            List<SceneObject> o = s.objects();

            PromptSpec d = CaptionParser.parse(Captions.descriptive(s));
            assertEquals(s.background(), d.background());
            assertNull(d.relation());
            assertEquals(o.size(), d.objects().size());
            for (int k = 0; k < o.size(); k++) assertEquals(ObjectSpec.of(o.get(k)), d.objects().get(k));

            PromptSpec sh = CaptionParser.parse(Captions.shortCaption(s));
            assertNull(sh.background());
            for (int k = 0; k < o.size(); k++)
                assertEquals(new ObjectSpec(o.get(k).shape(), o.get(k).color(), null, null), sh.objects().get(k));

            String rel = Captions.relational(s);
            if (rel != null) {
                PromptSpec r = CaptionParser.parse(rel);
                assertEquals(Relation.between(o.get(0).cell(), o.get(1).cell()), r.relation());
                assertEquals(o.get(0).color(), r.objects().get(0).color());
                assertEquals(o.get(1).shape(), r.objects().get(1).shape());
            }
        }
    }

    @Test
    void partialPromptsParse() {
        PromptSpec p = CaptionParser.parse("a small red circle at the top left");
        assertEquals(new ObjectSpec(Shape.CIRCLE, ObjectColor.RED, Size.SMALL, Cell.TOP_LEFT), p.objects().get(0));
        assertNull(p.background());
        p = CaptionParser.parse("A  Blue Diamond on a black background");
        assertEquals(Background.BLACK, p.background());
        assertEquals(new ObjectSpec(Shape.DIAMOND, ObjectColor.BLUE, null, null), p.objects().get(0));
        p = CaptionParser.parse("a triangle at the top to the left of a large square at the bottom, on a gray background");
        assertEquals(Relation.LEFT_OF, p.relation());
        assertEquals(Cell.TOP, p.objects().get(0).cell());
        assertEquals(Cell.BOTTOM, p.objects().get(1).cell());
        assertEquals(Size.LARGE, p.objects().get(1).size());
        assertEquals(Cell.CENTER, CaptionParser.parse("a circle at the center").objects().get(0).cell());
    }

    @Test
    void rejectsWordsOutsideTheVocabulary() {
        CaptionParseException e = assertThrows(CaptionParseException.class, () -> CaptionParser.parse("a red hexagon"));
        assertTrue(e.getMessage().contains("'hexagon'") && e.getMessage().contains("not in the Shapes-World vocabulary"),
                e.getMessage());
        e = assertThrows(CaptionParseException.class, () -> CaptionParser.parse("an orange circle"));
        assertTrue(e.getMessage().contains("'an'"));
        assertThrows(CaptionParseException.class, () -> CaptionParser.parse("a red circle."));
        assertThrows(CaptionParseException.class, () -> CaptionParser.parse(""));
    }

    @Test
    void rejectsOffGrammarText() {
        for (String bad : new String[] {"red circle", "a red", "a circle red", "a red circle and", "a white circle",
                "a red circle at the middle", "a red circle above", "a red circle to the top of a blue square",
                "a red circle on a red background", "a red circle, and a blue square", "a red circle a blue square",
                "a red circle and a blue square and a green diamond", "a red circle on a white background on a gray background"}) {
            CaptionParseException e = assertThrows(CaptionParseException.class, () -> CaptionParser.parse(bad), bad);
            assertFalse(e.getMessage().isBlank());
        }
        CaptionParseException e = assertThrows(CaptionParseException.class, () -> CaptionParser.parse("a white circle"));
        assertTrue(e.getMessage().contains("background colour only"), e.getMessage());
    }
}
