package io.unclip.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Joining the Java stages with the reference's. */
class SideBySideTest {
    private static TorchReport torch(TorchReport.Stage... stages) {
        return new TorchReport("1.13", 2, 3, List.of(stages), List.of());
    }

    @Test
    void ratiosPerStageAndOverall() {
        SideBySide t = new SideBySide(List.of(new SideBySide.JavaStage("prior", 25, 100, 80),
                new SideBySide.JavaStage("decoder", 50, 1000, 950)),
                torch(new TorchReport.Stage("decoder", 50, 50, 2, 3000, 2900),
                        new TorchReport.Stage("prior", 25, 25, 4, 50, 45)));
        SideBySide.Row prior = t.rows().get(0);
        assertEquals("prior", prior.stage());
        assertEquals(1.25, prior.wallOverOrt(), 1e-12);
        assertEquals(0.5, prior.torchOverJava(), 1e-12);
        SideBySide.Row decoder = t.rows().get(1);
        assertEquals(3.0, decoder.torchOverJava(), 1e-12);
        assertEquals(1100, t.total().javaMs(), 1e-9);
        assertEquals(1030, t.total().ortMs(), 1e-9);
        assertEquals(3050, t.total().torchMs(), 1e-9);
        assertTrue(t.mismatched().isEmpty());
        assertEquals(4, t.lines().size());
        assertTrue(t.lines().get(0).contains("torch/java"), t.lines().get(0));
        Map<String, Object> m = SideBySide.toMap(decoder);
        assertEquals(3.0, m.get("torch_over_java"));
        assertEquals(50, m.get("steps"));
    }

    @Test
    void aStageTheReferenceDidNotRunOrRanDifferentlyIsAMismatch() {
        SideBySide t = new SideBySide(List.of(new SideBySide.JavaStage("text_encoder", 1, 5, 4),
                new SideBySide.JavaStage("decoder", 50, 1000, 950)),
                torch(new TorchReport.Stage("decoder", 49, 49, 2, 3000, 2900)));
        assertEquals(List.of("text_encoder", "decoder"), t.mismatched());
        assertTrue(Double.isNaN(t.rows().get(0).torchMs()));
        assertTrue(Double.isNaN(t.total().torchMs()));
        assertNull(SideBySide.toMap(t.rows().get(0)).get("torch_ms"));
    }
}
