package io.unclip.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.shapes.CaptionParser;
import io.unclip.shapes.Judgement;
import io.unclip.shapes.PromptSpec;
import org.junit.jupiter.api.Test;

/** Captions compared with prompts, attribute by attribute. */
class CaptionAgreementTest {
    private static Judgement agree(String prompt, String caption) {
        return CaptionAgreement.score(CaptionParser.parse(prompt), caption == null ? null : CaptionParser.parse(caption));
    }

    @Test
    void theSameDescriptionAgreesOnEverything() {
        String p = "a large red circle at the top left and a small blue square at the bottom right, on a gray background";
        Judgement j = agree(p, p);
        assertTrue(j.allCorrect());
        assertTrue(j.binding());
        assertTrue(j.background());
        assertNull(j.relation());
    }

    @Test
    void descriptiveCaptionsAnswerRelationalPrompts() {
        String caption = "a small red circle at the top left and a small blue square at the bottom, on a white background";
        Judgement j = agree("a red circle above a blue square", caption);
        assertTrue(j.allCorrect(), j.toString());
        assertFalse(agree("a red circle below a blue square", caption).relation());
        assertFalse(agree("a blue circle above a red square", caption).binding());
        assertTrue(agree("a blue circle above a red square", caption).colors());
        // the caption's objects in the other order: the assignment follows colour and shape, not position
        assertTrue(agree("a blue square below a red circle", caption).allCorrect());
    }

    @Test
    void relationalCaptionsAnswerRelationalPrompts() {
        assertTrue(agree("a red circle above a blue square", "a red circle above a blue square").relation());
        assertTrue(agree("a blue square below a red circle", "a red circle above a blue square").relation());
        assertFalse(agree("a red circle to the left of a blue square", "a red circle above a blue square").relation());
        assertTrue(agree("a red circle to the left of a blue square", "a blue square to the right of a red circle")
                .relation());
    }

    @Test
    void missingAttributesAndUnreadableCaptionsAreWrong() {
        Judgement j = agree("a small red circle at the top left on a white background", "a red circle");
        assertTrue(j.count());
        assertTrue(j.colors());
        assertTrue(j.shapes());
        assertFalse(j.sizes());
        assertFalse(j.cells());
        assertFalse(j.background());
        Judgement none = agree("a red circle above a blue square", null);
        for (Boolean v : none.verdicts()) {
            assertTrue(v == null || !v);
        }
        assertFalse(none.count());
        assertFalse(none.relation());
        assertNull(none.sizes());
        Judgement extra = agree("a red circle", "a red circle and a blue square");
        assertFalse(extra.count());
        assertTrue(extra.colors());
        PromptSpec p = CaptionParser.parse("a green triangle");
        assertEquals(Boolean.FALSE, CaptionAgreement.score(p, CaptionParser.parse("a green diamond")).shapes());
    }
}
