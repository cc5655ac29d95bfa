package io.unclip.engine.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Checks that a manifest's sections agree with each other where dimensions are fixed: tensor
 * sizes against the conditioning sizes, the resolution, and the channel count that the
 * variance type implies (learned variance doubles the prediction's channels).
 */
final class ManifestConsistency {
    private final StageManifest m;
    private final List<String> problems = new ArrayList<>();

    private ManifestConsistency(StageManifest m) {
        this.m = m;
    }

    /** Problems found, each a sentence without the file name; empty when consistent. */
    static List<String> check(StageManifest manifest) {
        ManifestConsistency c = new ManifestConsistency(manifest);
        c.conditioning();
        c.channels();
        c.resolution();
        return c.problems;
    }

    private void conditioning() {
        Conditioning c = m.conditioning();
        for (String role : List.of("text_embeds", "image_embeds")) {
            expectLast(role, c.embeddingDim(), "conditioning.embedding_dim");
        }
        if (m.kind() == StageKind.PRIOR) {
            expectLast("sample", c.embeddingDim(), "conditioning.embedding_dim");
        }
        for (String role : List.of("input_ids", "attention_mask", "text_mask", "text_hidden", "last_hidden_state")) {
            expect(role, 1, c.textTokens(), "conditioning.text_tokens");
        }
        for (String role : List.of("text_hidden", "last_hidden_state")) {
            expect(role, 2, c.textHiddenDim(), "conditioning.text_hidden_dim");
        }
        m.normalization().ifPresent(n -> c.embeddingDim().ifPresent(e -> {
            if (n.dim() != e) {
                problems.add("normalization has " + n.dim() + " values per statistic, conditioning.embedding_dim is " + e);
            }
        }));
    }

    /** Prediction channels = noisy channels, doubled for learned variance. */
    private void channels() {
        if (m.diffusion().isEmpty()) {
            return;
        }
        Optional<TensorDecl> sample = m.inputForRole("sample");
        Optional<TensorDecl> prediction = m.outputForRole("prediction");
        OptionalLong sampleChannels = sample.map(t -> t.fixedDim(1)).orElse(OptionalLong.empty());
        OptionalLong predictionChannels = prediction.map(t -> t.fixedDim(1)).orElse(OptionalLong.empty());
        if (sampleChannels.isEmpty() || predictionChannels.isEmpty()) {
            return;
        }
        long noisy = sampleChannels.getAsLong();
        String why = "input '" + sample.get().name() + "' has " + noisy;
        if (m.kind() == StageKind.UPSAMPLER && m.inputForRole("low_res").isEmpty()) {
            // the low-resolution image is concatenated to the noisy sample along channels
            if (noisy % 2 != 0) {
                problems.add("input '" + sample.get().name() + "' has " + noisy + " channels; an upsampler sample"
                        + " concatenates the noisy image with the low-resolution image, so it needs an even count");
                return;
            }
            noisy /= 2;
            why += " = 2 x " + noisy;
        }
        boolean learned = m.diffusion().get().learnedVariance();
        long expected = learned ? 2 * noisy : noisy;
        if (predictionChannels.getAsLong() != expected) {
            problems.add("output '" + prediction.get().name() + "' has " + predictionChannels.getAsLong()
                    + " channels, variance '" + m.diffusion().get().variance() + "' with " + why + " channels needs "
                    + expected);
        }
    }

    private void resolution() {
        Optional<Resolution> r = m.resolution();
        if (r.isEmpty()) {
            return;
        }
        if (m.kind() == StageKind.DECODER || m.kind() == StageKind.UPSAMPLER) {
            expectSpatial(m.inputForRole("sample"), r.get().output(), "resolution.output");
            expectSpatial(m.outputForRole("prediction"), r.get().output(), "resolution.output");
            expectSpatial(m.inputForRole("low_res"), r.get().input(), "resolution.input");
        }
        if (m.kind() == StageKind.CAPTIONER || m.kind() == StageKind.IMAGE_ENCODER) {
            expectSpatial(m.inputForRole("image"), r.get().input(), "resolution.input");
        }
    }

    private void expectSpatial(Optional<TensorDecl> t, OptionalInt size, String field) {
        if (t.isPresent() && t.get().rank() == 4) {
            expect(t.get(), 2, size, field);
            expect(t.get(), 3, size, field);
        }
    }

    private void expectLast(String role, OptionalInt size, String field) {
        tensor(role).ifPresent(t -> expect(t, t.rank() - 1, size, field));
    }

    private void expect(String role, int dim, OptionalInt size, String field) {
        tensor(role).ifPresent(t -> expect(t, dim, size, field));
    }

    private void expect(TensorDecl t, int dim, OptionalInt size, String field) {
        OptionalLong actual = t.fixedDim(dim);
        if (size.isPresent() && actual.isPresent() && actual.getAsLong() != size.getAsInt()) {
            problems.add(t.name() + " " + t.shapeText() + " has " + actual.getAsLong() + " at dimension " + dim + ", "
                    + field + " is " + size.getAsInt());
        }
    }

    private Optional<TensorDecl> tensor(String role) {
        return m.inputForRole(role).or(() -> m.outputForRole(role));
    }
}
