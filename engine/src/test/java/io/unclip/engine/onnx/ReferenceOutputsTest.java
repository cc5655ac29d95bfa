package io.unclip.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ONNX Runtime in Java reproduces the outputs PyTorch computed at export time. */
class ReferenceOutputsTest {
    private static final double TOLERANCE = 1e-5;
    private static OrtRuntime runtime;

    @BeforeAll
    static void open() {
        runtime = new OrtRuntime(Fixtures.lightCpu());
    }

    @AfterAll
    static void close() {
        runtime.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"text_encoder", "prior", "decoder", "upsampler_32", "captioner", "image_encoder"})
    void matchesPyTorch(String stage) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(Fixtures.resource("onnx-reference/" + stage + ".json").toFile());
        ModelSession session = runtime.session(stage, Fixtures.resource(ref.get("model").asText()));

        ModelInputs in = ModelInputs.create();
        for (JsonNode input : ref.get("inputs")) {
            long[] shape = longs(input.get("shape"));
            if (input.get("type").asText().equals("float32")) {
                in.put(input.get("name").asText(), Tensor.of(floats(input.get("data")), shape));
            } else { // int64 and bool are both fed as integers
                in.put(input.get("name").asText(), longs(input.get("data")), shape);
            }
        }
        Map<String, Tensor> out = session.run(in);

        assertEquals(ref.get("outputs").size(), out.size());
        for (JsonNode expected : ref.get("outputs")) {
            Tensor actual = out.get(expected.get("name").asText());
            assertArrayEquals(longs(expected.get("shape")), actual.shape(), expected.get("name").asText());
            float[] want = floats(expected.get("data"));
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(want[i] - actual.get(i)));
            }
            assertTrue(worst <= TOLERANCE, stage + "/" + expected.get("name").asText() + ": max abs error " + worst);
        }
    }

    static float[] floats(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) array.get(i).asDouble();
        }
        return v;
    }

    static long[] longs(JsonNode array) {
        long[] v = new long[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).asLong();
        }
        return v;
    }
}
