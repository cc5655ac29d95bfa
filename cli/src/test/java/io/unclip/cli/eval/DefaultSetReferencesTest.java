package io.unclip.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.shapes.CaptionParser;
import io.unclip.shapes.Captions;
import io.unclip.shapes.Judgement;
import io.unclip.shapes.ObjectSpec;
import io.unclip.shapes.Relation;
import io.unclip.shapes.RgbImage;
import io.unclip.shapes.Scene;
import io.unclip.shapes.SceneJudge;
import io.unclip.shapes.SceneObject;
import io.unclip.shapes.SplitMix64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The evaluation harness without models: reference scenes of the default prompt set satisfy their prompts, the
 * judge finds every stated attribute in their renders, and a caption that describes them exactly agrees with the
 * prompt. A generated image can only score 1 where these hold.
 */
class DefaultSetReferencesTest {
    private static final List<EvalPrompt> SET = PromptSet.generate(PromptSet.DEFAULT_SEED, PromptSet.DEFAULT_COUNT);

    @Test
    void referenceScenesSatisfyTheirPrompts() {
        for (EvalPrompt p : SET) {
            SplitMix64 rng = new SplitMix64(p.seed());
            for (int i = 0; i < 8; i++) {
                Scene s = ReferenceScenes.sample(p.spec(), rng);
                List<ObjectSpec> want = p.spec().objects();
                assertEquals(want.size(), s.objects().size());
                for (int k = 0; k < want.size(); k++) {
                    ObjectSpec o = want.get(k);
                    SceneObject got = s.objects().get(k);
                    assertEquals(o.shape(), got.shape());
                    assertTrue(o.color() == null || o.color() == got.color());
                    assertTrue(o.size() == null || o.size() == got.size());
                    assertTrue(o.cell() == null || o.cell() == got.cell());
                }
                assertTrue(p.spec().background() == null || p.spec().background() == s.background());
                if (p.spec().relation() != null) {
                    assertEquals(p.spec().relation(), Relation.between(s.objects().get(0).cell(),
                            s.objects().get(1).cell()));
                }
                // an exact description of the reference agrees with the prompt on everything it states
                Judgement exact = CaptionAgreement.score(p.spec(), CaptionParser.parse(Captions.descriptive(s)));
                assertTrue(exact.allCorrect(), p.prompt() + " vs " + Captions.descriptive(s));
                String rel = Captions.relational(s);
                if (p.spec().relation() != null) {
                    assertTrue(CaptionAgreement.score(p.spec(), CaptionParser.parse(rel)).allCorrect(), rel);
                }
            }
        }
    }

    @Test
    void theJudgeIsRightOnEveryReferenceAt128And512() {
        AttributeTally t128 = judge(128, 4);
        assertEquals(t128.images(), t128.allCorrect(), "judge on 128x128 references");
        assertEquals(320, t128.images());
        AttributeTally t512 = judge(512, 1);
        assertEquals(t512.images(), t512.allCorrect(), "judge on 512x512 references");
    }

    @Test
    void theJudgeIsRightOnReferencesAt32() {
        AttributeTally t = judge(32, 4);
        // at 32x32 a small triangle is 7 pixels wide; SceneJudgeTest allows 0.5% shape misses there
        assertTrue(t.overall() >= 0.99, "all correct " + t.overall());
        for (String a : new String[] {"count", "colors", "sizes", "cells", "binding", "relation", "background"}) {
            assertEquals(1.0, t.accuracy(a), a);
        }
    }

    private static AttributeTally judge(int size, int n) {
        AttributeTally t = new AttributeTally();
        for (EvalPrompt p : SET) {
            // the references exactly as the command makes them
            for (RgbImage img : ReferenceScenes.render(p, n, size)) {
                t.add(SceneJudge.judge(img, p.spec()));
            }
        }
        return t;
    }

    @Test
    void impossiblePromptsHaveNoReference() {
        for (String prompt : new String[] {
            "a red circle at the center and a blue square at the center",
            "a red circle and a red circle",
            "a large red circle at the top left and a large blue square at the top",
            "a red circle at the bottom above a blue square at the top"}) {
            assertThrows(IllegalArgumentException.class,
                    () -> ReferenceScenes.sample(CaptionParser.parse(prompt), new SplitMix64(1)), prompt);
        }
    }
}
