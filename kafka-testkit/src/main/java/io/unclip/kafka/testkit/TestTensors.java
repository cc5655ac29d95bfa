package io.unclip.kafka.testkit;

import java.util.Arrays;

import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.TextConditioning;

/** Small valid protobuf tensors for the services' tests. */
public final class TestTensors {
    private TestTensors() {
    }

    /** A tensor of {@code shape} with every value {@code value}. */
    public static FloatTensor filled(float value, long... shape) {
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

    /** Text conditioning of one prompt: pooled embedding [width], hidden states [tokens, hidden], full mask. */
    public static TextConditioning text(int width, int tokens, int hidden) {
        return TextConditioning.newBuilder()
                .setTextEmbeds(filled(0.25f, width))
                .setLastHiddenState(filled(0.5f, tokens, hidden))
                .setAttentionMask(filled(1f, tokens))
                .build();
    }
}
