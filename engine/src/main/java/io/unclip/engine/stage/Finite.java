package io.unclip.engine.stage;

import io.unclip.engine.tensor.Tensor;

/**
 * The one check of stage outputs: every value finite. A NaN image encodes as a valid PNG and a NaN
 * embedding flows on to the next stage, so without it a broken run would count as a success.
 */
final class Finite {
    private Finite() {
    }

    /**
     * @param t     a stage's output
     * @param stage what produced it, for the message ("decoder")
     * @param field the input that drove it, as the requests name it ("image_embeds")
     * @param hint  what is probably wrong with that input
     * @return {@code t}
     * @throws NonFiniteOutputException when a value is NaN or infinite
     */
    static Tensor output(Tensor t, String stage, String field, String hint) {
        if (t != null) {
            java.nio.FloatBuffer b = t.buffer();
            for (int i = 0, n = t.size(); i < n; i++) {
                if (!Float.isFinite(b.get(i))) {
                    throw new NonFiniteOutputException(field, "the " + stage + "'s output is not finite (NaN/Inf) for"
                            + " this input; " + hint);
                }
            }
        }
        return t;
    }
}
