package io.unclip.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ModelSessionTest {
    private OrtRuntime runtime;
    private ModelSession decoder;

    @BeforeEach
    void open() {
        runtime = new OrtRuntime(Fixtures.lightCpu());
        decoder = runtime.session("decoder", Fixtures.tinyModel("decoder", "decoder.onnx"));
    }

    @AfterEach
    void close() {
        runtime.close();
    }

    @Test
    void readsInputAndOutputMetadataFromTheSession() {
        assertEquals(List.of("sample", "timestep", "image_embeds", "encoder_hidden_states"),
                List.copyOf(decoder.inputs().keySet()));
        TensorSpec sample = decoder.input("sample");
        assertEquals(ElementType.FLOAT32, sample.type());
        assertArrayEquals(new long[] {-1, 3, 8, 8}, sample.shape());
        assertEquals("[batch,3,8,8]", sample.shapeText());
        assertEquals(ElementType.INT64, decoder.input("timestep").type());
        TensorSpec out = decoder.outputs().get("out_sample");
        assertArrayEquals(new long[] {-1, 6, 8, 8}, out.shape());
        assertEquals(Device.CPU, decoder.device());
    }

    @Test
    void runInfersIntegerShapesFromTheModelAndCountsOrtTime() {
        Map<String, Tensor> out = decoder.run(decoderFloats(3), Map.of("timestep", new long[] {1, 500, 999}));

        assertArrayEquals(new long[] {3, 6, 8, 8}, out.get("out_sample").shape());
        assertEquals(1, decoder.runCount());
        assertTrue(decoder.ortNanos() > 0);
        decoder.run(decoderFloats(3), Map.of("timestep", new long[] {1, 2, 3}));
        assertEquals(2, decoder.runCount());
    }

    @Test
    void timestepChangesTheOutput() {
        Map<String, Tensor> floats = decoderFloats(1);
        Tensor a = decoder.run(floats, Map.of("timestep", new long[] {0})).get("out_sample");
        Tensor b = decoder.run(floats, Map.of("timestep", new long[] {900})).get("out_sample");
        assertNotEquals(a.get(0), b.get(0));
    }

    @Test
    void runIntoWritesOutputsInPlaceWithTheSameValues() {
        Map<String, Tensor> floats = decoderFloats(2);
        Tensor expected = decoder.run(floats, Map.of("timestep", new long[] {10, 20})).get("out_sample");

        Tensor target = Tensor.zeros(2, 6, 8, 8);
        ModelInputs in = ModelInputs.create().put("timestep", LongTensor.vector(10, 20));
        floats.forEach(in::put);
        decoder.runInto(in, Map.of("out_sample", target));

        assertArrayEquals(expected.toArray(), target.toArray());
    }

    @Test
    void concurrentRunsShareOneSession() throws Exception {
        Map<String, Tensor> floats = decoderFloats(1);
        float[] expected = decoder.run(floats, Map.of("timestep", new long[] {7})).get("out_sample").toArray();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<float[]>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 16; i++) {
                results.add(pool.submit(() -> decoder.run(floats, Map.of("timestep", new long[] {7}))
                        .get("out_sample").toArray()));
            }
            for (java.util.concurrent.Future<float[]> r : results) {
                assertArrayEquals(expected, r.get());
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(17, decoder.runCount());
    }

    @Test
    void boolMaskInputsAcceptIntegerValues() {
        ModelSession prior = runtime.session("prior", Fixtures.tinyModel("prior", "prior.onnx"));
        assertEquals(ElementType.BOOL, prior.input("attention_mask").type());
        long[] mask = new long[24];
        java.util.Arrays.fill(mask, 0, 5, 1);
        Map<String, Tensor> out = prior.run(Map.of(
                        "hidden_states", Tensor.zeros(1, 16),
                        "proj_embedding", Tensor.zeros(1, 16),
                        "encoder_hidden_states", ramp(1, 24, 16)),
                Map.of("timestep", new long[] {5}, "attention_mask", mask));
        assertArrayEquals(new long[] {1, 16}, out.get("predicted_image_embedding").shape());
    }

    @Test
    void missingInputIsNamed() {
        InferenceException e = assertThrows(InferenceException.class,
                () -> decoder.run(decoderFloats(1), Map.of()));
        assertEquals("decoder: missing input(s) [timestep]; model inputs are "
                + "[sample, timestep, image_embeds, encoder_hidden_states]", e.getMessage());
    }

    @Test
    void unknownInputIsNamed() {
        Map<String, Tensor> floats = new java.util.HashMap<>(decoderFloats(1));
        floats.put("noise", Tensor.zeros(1));
        InferenceException e = assertThrows(InferenceException.class,
                () -> decoder.run(floats, Map.of("timestep", new long[] {1})));
        assertTrue(e.getMessage().startsWith("decoder: unknown input(s) [noise]"), e.getMessage());
    }

    @Test
    void wrongShapeNamesTensorAndBothShapes() {
        Map<String, Tensor> floats = new java.util.HashMap<>(decoderFloats(1));
        floats.put("sample", Tensor.zeros(1, 3, 16, 16));
        InferenceException e = assertThrows(InferenceException.class,
                () -> decoder.run(floats, Map.of("timestep", new long[] {1})));
        assertEquals("decoder: input 'sample' has shape [1,3,16,16], model expects [batch,3,8,8]", e.getMessage());
    }

    @Test
    void floatValuesForAnIntegerInputAreRejected() {
        Map<String, Tensor> floats = new java.util.HashMap<>(decoderFloats(1));
        floats.put("timestep", Tensor.zeros(1));
        InferenceException e = assertThrows(InferenceException.class, () -> decoder.run(floats, Map.of()));
        assertEquals("decoder: input 'timestep' is int64 in the model, got a float32 tensor", e.getMessage());
    }

    @Test
    void batchMismatchBetweenInputsIsReportedByTheRuntime() {
        InferenceException e = assertThrows(InferenceException.class,
                () -> decoder.run(decoderFloats(2), Map.of("timestep", new long[] {1, 2, 3})));
        assertTrue(e.getMessage().startsWith("decoder: run failed: "), e.getMessage());
    }

    @Test
    void integerValuesThatCannotFillTheShapeAreRejected() {
        ModelSession text = runtime.session("text_encoder", Fixtures.tinyModel("text_encoder", "text_encoder.onnx"));
        InferenceException e = assertThrows(InferenceException.class,
                () -> text.run(Map.of(), Map.of("input_ids", new long[25], "attention_mask", new long[24])));
        assertEquals("text_encoder: input 'input_ids' has shape [batch,24], which 25 values cannot fill",
                e.getMessage());
    }

    private static Map<String, Tensor> decoderFloats(int batch) {
        return Map.of("sample", ramp(batch, 3, 8, 8),
                "image_embeds", ramp(batch, 16),
                "encoder_hidden_states", ramp(batch, 24, 16));
    }

    private static Tensor ramp(long... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, (float) Math.sin(i * 0.37));
        }
        return t;
    }
}
