package io.unclip.it;

import java.nio.charset.StandardCharsets;

import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.engine.stage.SamplerOverrides;

/**
 * One JSON batch job for {@code unclip.jobs}, and the embedded cascade's request that must give
 * the same images: both made from the same fields, so an audit compares like with like.
 *
 * @param id           the job id (also the record key)
 * @param prompt       no quotes or backslashes (written into the JSON as is)
 * @param seed         the job's seed
 * @param size         output side (32 on the tiny bundle: decoder and one upsampler step; 128: two)
 * @param decoderSteps the decoder's sampling steps (the tiny decoder takes ~1 ms a step and image:
 *                     1000 steps of 8 images make a run long enough to crash in, even on a loaded machine)
 * @param numImages    images of the job, sampled as one batch
 */
record BatchJob(String id, String prompt, long seed, int size, int decoderSteps, int numImages) {
    BatchJob {
        if (prompt.contains("\"") || prompt.contains("\\")) {
            throw new IllegalArgumentException("prompt needs JSON escaping: " + prompt);
        }
    }

    /** A job of one image. */
    BatchJob(String id, String prompt, long seed, int size, int decoderSteps) {
        this(id, prompt, seed, size, decoderSteps, 1);
    }

    /** The record value: a fire-and-forget job (no progress events). */
    byte[] json() {
        return ("{\"job_id\": \"" + id + "\", \"prompt\": \"" + prompt + "\", \"seed\": " + seed
                + ", \"num_images\": " + numImages + ", \"size\": " + size + ", \"decoder\": {\"steps\": " + decoderSteps + "},"
                + " \"stream_progress\": false}").getBytes(StandardCharsets.UTF_8);
    }

    /** What {@code Cascade.generate} must be asked to make the same image. */
    GenerationRequest embedded() {
        return new GenerationRequest(prompt, numImages, seed, size,
                StageOverrides.none().withDecoder(SamplerOverrides.none().withSteps(decoderSteps)), 0);
    }
}
