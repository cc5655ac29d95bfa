package io.unclip.prior;

import java.util.Arrays;

import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.TextConditioning;

/** Small valid tensors for tests. */
final class Tensors {
    private Tensors() {
    }

    static FloatTensor filled(float value, long... shape) {
        long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        FloatTensor.Builder b = FloatTensor.newBuilder();
        for (long d : shape) {
            b.addShape(d);
        }
        for (long i = 0; i < n; i++) {
            b.addData(value);
        }
        return b.build();
    }

    static TextConditioning text(int width, int tokens, int hidden) {
        return TextConditioning.newBuilder()
                .setTextEmbeds(filled(0.25f, width))
                .setLastHiddenState(filled(0.5f, tokens, hidden))
                .setAttentionMask(filled(1f, tokens))
                .build();
    }
}
