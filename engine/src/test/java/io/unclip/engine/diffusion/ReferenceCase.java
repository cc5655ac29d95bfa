package io.unclip.engine.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One reference JSON file (fields per shared/reference/diffusion/README.md). */
record ReferenceCase(Path file, String name, String schedule, int numTrainTimesteps, String respacing,
                     long[] timesteps, String prediction, String variance, String sampler, double eta,
                     boolean clipDenoised, Double guidanceScale, long[] shape, int modelOutputChannels,
                     List<Step> steps) {

    record Step(int index, long modelTimestep, float[] xT, float[] modelOutput, float[] uncondModelOutput,
                float[] noise, float[] expectedPredX0, float[] expectedXPrev, float[] expectedMean,
                float[] expectedLogVariance) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    static ReferenceCase read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read reference case " + file, e);
        }
        List<Step> steps = new ArrayList<>();
        for (JsonNode s : required(root, "steps", file)) {
            steps.add(new Step(required(s, "index", file).asInt(), required(s, "model_timestep", file).asLong(),
                    floats(required(s, "x_t", file)), floats(required(s, "model_output", file)),
                    optionalFloats(s, "uncond_model_output"), floats(required(s, "noise", file)),
                    floats(required(s, "expected_pred_x0", file)), floats(required(s, "expected_x_prev", file)),
                    optionalFloats(s, "expected_mean"), optionalFloats(s, "expected_log_variance")));
        }
        JsonNode guidance = root.get("guidance_scale");
        JsonNode eta = root.get("eta");
        return new ReferenceCase(file, required(root, "name", file).asText(), required(root, "schedule", file).asText(),
                required(root, "num_train_timesteps", file).asInt(), required(root, "respacing", file).asText(),
                longs(required(root, "timesteps", file)), required(root, "prediction", file).asText(),
                required(root, "variance", file).asText(), required(root, "sampler", file).asText(),
                eta == null || eta.isNull() ? 0.0 : eta.asDouble(), required(root, "clip_denoised", file).asBoolean(),
                guidance == null || guidance.isNull() ? null : guidance.asDouble(),
                longs(required(root, "shape", file)), required(root, "model_output_channels", file).asInt(), steps);
    }

    private static JsonNode required(JsonNode node, String field, Path file) {
        JsonNode v = node.get(field);
        if (v == null) {
            throw new IllegalStateException(file + ": missing field '" + field + "'");
        }
        return v;
    }

    private static float[] optionalFloats(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : floats(v);
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
