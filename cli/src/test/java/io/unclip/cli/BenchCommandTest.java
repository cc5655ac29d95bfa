package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code unclip bench} on the tiny bundle: every stage reported, ORT time within wall time. */
class BenchCommandTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");

    @Test
    void reportsEveryStageWithOrtTimeInsideWallTime() throws Exception {
        UnclipCommandTest.Result r = UnclipCommandTest.run("bench", "--models", BUNDLE, "--json", "-k", "2",
                "--warmup", "0", "--size", "32", "--prior-steps", "2", "--decoder-steps", "3", "--sr-steps", "2",
                "--threads", "1");
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        List<String> stages = new ArrayList<>();
        JsonNode total = null;
        for (String line : r.out().split("\n")) {
            JsonNode e = json.readTree(line);
            if ("bench_stage".equals(e.path("event").asText())) {
                stages.add(e.get("stage").asText());
                double wall = e.get("wall_ms").asDouble();
                double ort = e.get("onnx_ms").asDouble();
                assertTrue(ort > 0 && ort <= wall, line);
            } else if ("bench_total".equals(e.path("event").asText())) {
                total = e;
            }
        }
        assertEquals(List.of("text_encoder", "prior", "decoder", "upsampler_32"), stages);
        assertTrue(total != null && total.get("runs").asInt() == 2, r.out());
    }

    @Test
    void refusesANonPositiveRunCount() {
        UnclipCommandTest.Result r = UnclipCommandTest.run("bench", "--models", BUNDLE, "-k", "0");
        assertEquals(ExitCodes.BAD_INPUT, r.code());
        assertTrue(r.err().contains("--runs"), r.err());
    }
}
