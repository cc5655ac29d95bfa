package io.unclip.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Parsing what torch_reference.py prints. */
class TorchReportTest {
    /** The shape of a real report (trimmed), as torch_reference.py writes it. */
    static final String REPORT = "{\"reference\": \"pytorch-eager\", \"torch_version\": \"1.13.0a0\", \"threads\": 2,"
            + " \"bundle\": \"/b\", \"size\": 128, \"num_images\": 1, \"candidates\": 2, \"runs\": 3, \"warmup\": 1,"
            + " \"self_check\": [{\"stage\": \"text_encoder\", \"max_abs_error\": 4.9e-08, \"tolerance\": 0.0001,"
            + " \"ok\": true}, {\"stage\": \"upsampler_128\", \"ok\": null, \"note\": \"no reference.json\"}],"
            + " \"stages\": [{\"stage\": \"text_encoder\", \"steps\": 1, \"model_calls\": 1, \"model_batch\": 1,"
            + " \"wall_ms\": 2.5, \"model_ms\": 2.4}, {\"stage\": \"decoder\", \"steps\": 50, \"model_calls\": 50,"
            + " \"model_batch\": 2, \"wall_ms\": 7000.0, \"model_ms\": 6900.5}], \"total_ms\": 7002.5}";

    @Test
    void readsStagesChecksAndRunSettings() {
        TorchReport r = TorchReport.parse("some noise\n" + REPORT + "\n\n");
        assertEquals("1.13.0a0", r.torchVersion());
        assertEquals(2, r.threads());
        assertEquals(3, r.runs());
        assertEquals(2, r.stages().size());
        TorchReport.Stage d = r.stage("decoder");
        assertEquals(50, d.steps());
        assertEquals(50, d.modelCalls());
        assertEquals(2, d.modelBatch());
        assertEquals(7000.0, d.wallMs());
        assertEquals(6900.5, d.modelMs());
        assertNull(r.stage("prior"));
        assertTrue(r.selfCheckPassed(), "a stage without reference.json does not fail the check");
        assertEquals(4.9e-08, r.checks().get(0).maxAbsError());
        assertNull(r.checks().get(1).ok());
    }

    @Test
    void aFailedSelfCheckIsReported() {
        TorchReport r = TorchReport.parse(REPORT.replace("\"ok\": true", "\"ok\": false"));
        assertFalse(r.selfCheckPassed());
    }

    @Test
    void theReferencesOwnErrorBecomesTheMessage() {
        String failed = REPORT.replace("\"total_ms\"", "\"error\": \"self-check failed: decoder\", \"x\"");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TorchReport.parse(failed));
        assertEquals("self-check failed: decoder", e.getMessage());
    }

    @Test
    void rejectsWhatIsNotAReport() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TorchReport.parse(""))
                .getMessage().contains("no output"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TorchReport.parse("Traceback (most recent"))
                .getMessage().contains("not JSON"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TorchReport.parse("[1, 2]"))
                .getMessage().contains("not a JSON object"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TorchReport.parse(REPORT.replace("pytorch-eager", "onnx"))).getMessage().contains("reference"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TorchReport.parse(REPORT.replace("\"wall_ms\": 2.5", "\"wall_ms\": \"fast\"")))
                .getMessage().contains("wall_ms"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TorchReport.parse(REPORT.replace("\"steps\": 50", "\"steps\": 50.5")))
                .getMessage().contains("steps"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TorchReport.parse(REPORT.replace("\"stages\"", "\"stagez\""))).getMessage().contains("stages"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TorchReport.parse(REPORT.replace("\"wall_ms\": 2.5", "\"wall_ms\": -1")))
                .getMessage().contains("wall_ms"));
    }
}
