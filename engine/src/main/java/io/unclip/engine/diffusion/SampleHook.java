package io.unclip.engine.diffusion;

/**
 * Changes x_t around the model calls of one {@link SamplingState}, e.g. inpainting's
 * replacement of the known pixels by their noised originals.
 */
public interface SampleHook {
    SampleHook NONE = new SampleHook() {
        @Override
        public void beforeModel(int index, float[] x) {
        }

        @Override
        public void afterLast(float[] x) {
        }
    };

    /** Before the model sees x_t at respaced step {@code index}; may rewrite {@code x} in place. */
    void beforeModel(int index, float[] x);

    /** After the last step, on x_0. */
    void afterLast(float[] x);
}
