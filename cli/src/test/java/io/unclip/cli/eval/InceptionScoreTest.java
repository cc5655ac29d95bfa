package io.unclip.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.unclip.shapes.CaptionParser;
import io.unclip.shapes.ObjectColor;
import io.unclip.shapes.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** IS known cases, and the captioner labels it is computed over. */
class InceptionScoreTest {
    private static double[] oneHot(int k, int y) {
        double[] p = new double[k];
        p[y] = 1;
        return p;
    }

    @Test
    void uniformOneHotGivesTheNumberOfClasses() {
        for (int k : new int[] {1, 2, 5, 33}) {
            List<double[]> p = new ArrayList<>();
            for (int rep = 0; rep < 3; rep++) {
                for (int y = 0; y < k; y++) {
                    p.add(oneHot(k, y));
                }
            }
            assertEquals(k, InceptionScore.of(p), 1e-9);
        }
    }

    @Test
    void oneClassForEveryImageGivesOne() {
        List<double[]> p = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            p.add(oneHot(33, 7));
        }
        assertEquals(1.0, InceptionScore.of(p), 1e-12);
        // identical soft distributions: KL to the marginal is 0
        List<double[]> soft = List.of(new double[] {0.5, 0.5}, new double[] {0.5, 0.5});
        assertEquals(1.0, InceptionScore.of(soft), 1e-12);
        assertEquals(1.0, InceptionScore.of(List.of()), 0);
    }

    @Test
    void halfAndHalf() {
        // two one-hot images on 2 of 4 classes: IS 2
        assertEquals(2.0, InceptionScore.of(List.of(oneHot(4, 0), oneHot(4, 3))), 1e-12);
    }

    @Test
    void captionLabels() {
        double[] one = CaptionLabels.distribution(CaptionParser.parse("a small red circle at the top left"));
        assertEquals(1.0, one[CaptionLabels.index(ObjectColor.RED, Shape.CIRCLE)]);
        double[] two = CaptionLabels.distribution(CaptionParser.parse("a red circle above a blue square"));
        assertEquals(0.5, two[CaptionLabels.index(ObjectColor.RED, Shape.CIRCLE)]);
        assertEquals(0.5, two[CaptionLabels.index(ObjectColor.BLUE, Shape.SQUARE)]);
        double[] noColour = CaptionLabels.distribution(CaptionParser.parse("a diamond"));
        assertEquals(1.0 / 8, noColour[CaptionLabels.index(ObjectColor.PINK, Shape.DIAMOND)], 1e-15);
        double[] bad = CaptionLabels.distribution(null);
        assertEquals(1.0, bad[CaptionLabels.UNREADABLE]);
        assertEquals(33, CaptionLabels.CLASSES);
        assertEquals(33, CaptionLabels.names().size());
        assertEquals("red circle", CaptionLabels.names().get(CaptionLabels.index(ObjectColor.RED, Shape.CIRCLE)));
    }
}
