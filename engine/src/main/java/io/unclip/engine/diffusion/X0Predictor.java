package io.unclip.engine.diffusion;

/**
 * Turns the first C channels of a model output into the clamped x0 prediction
 * (improved-diffusion {@code _predict_xstart_from_eps} and {@code process_xstart}).
 * Arithmetic is float32 with float32 coefficients, in the reference's operation order.
 */
final class X0Predictor {
    private X0Predictor() {
    }

    static void predict(GaussianDiffusion diffusion, ModelOutputSpec spec, int index,
                        float[] x, float[] modelOutput, SampleLayout layout, float[] predX0) {
        int channels = layout.channels();
        int spatial = layout.spatial();
        int outChannels = spec.variance().outputChannels(channels);
        boolean fromEps = spec.prediction() == Prediction.EPSILON;
        float recip = (float) diffusion.sqrtRecipAlphaCumprod(index);
        float recipm1 = (float) diffusion.sqrtRecipm1AlphaCumprod(index);
        boolean clip = spec.clip().enabled();
        float hi = (float) spec.clip().limit();
        float lo = -hi;
        for (int n = 0; n < layout.batch(); n++) {
            for (int c = 0; c < channels; c++) {
                int xi = (n * channels + c) * spatial;
                int oi = (n * outChannels + c) * spatial;
                for (int s = 0; s < spatial; s++) {
                    float m = modelOutput[oi + s];
                    float v = fromEps ? recip * x[xi + s] - recipm1 * m : m;
                    if (clip) {
                        v = Math.max(lo, Math.min(hi, v));
                    }
                    predX0[xi + s] = v;
                }
            }
        }
    }
}
