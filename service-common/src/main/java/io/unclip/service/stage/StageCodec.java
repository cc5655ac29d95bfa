package io.unclip.service.stage;

import java.util.Arrays;
import java.util.Map;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.ClipRange;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.Sampler;
import io.unclip.api.v1.SamplerParams;
import io.unclip.api.v1.StageImages;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.SamplerSettings;
import io.unclip.engine.stage.StageTimings;
import io.unclip.engine.stage.TextConditioning;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.codec.ProtoTensors;
import io.unclip.service.validate.Checks;

/**
 * unclip.v1 messages to the engine's stage types and back, bit-exact for tensors (float32 values
 * travel unchanged), so that a stage run from a record computes exactly what the embedded
 * cascade computes.
 */
public final class StageCodec {
    private final ProtoTensors tensors;

    public StageCodec(ProtoTensors tensors) {
        this.tensors = tensors;
    }

    public ProtoTensors tensors() {
        return tensors;
    }

    // ---- sampler parameters ----

    /** The request's sampler parameters as engine overrides (absent fields keep the manifest's). */
    public static SamplerOverrides overrides(String field, SamplerParams p, boolean present) {
        if (!present) {
            return SamplerOverrides.none();
        }
        String sampler = switch (p.getSampler()) {
            case DDPM -> "ddpm";
            case DDIM -> "ddim";
            case CONSISTENCY -> "consistency";
            case SAMPLER_UNSPECIFIED -> null;
            default -> throw new InvalidRequestException(Checks.path(field, "sampler"),
                    "unknown sampler " + p.getSamplerValue());
        };
        Double clip = null;
        if (p.hasClipX0()) {
            ClipRange r = p.getClipX0();
            if (!(r.getMax() > 0) || !Float.isFinite(r.getMax()) || r.getMin() != -r.getMax()) {
                throw new InvalidRequestException(Checks.path(field, "clip_x0"), "the engine"
                        + " clips symmetrically to [-r, r], r > 0: min must be -max, got [" + r.getMin() + ", "
                        + r.getMax() + "]");
            }
            clip = (double) r.getMax();
        }
        return new SamplerOverrides(sampler,
                p.hasSteps() ? Integer.valueOf(p.getSteps()) : null,
                p.hasRespacing() ? p.getRespacing() : null,
                p.hasEta() ? Double.valueOf(p.getEta()) : null,
                p.hasGuidanceScale() ? Double.valueOf(p.getGuidanceScale()) : null,
                clip,
                p.hasClassifierGuidance() ? Double.valueOf(p.getClassifierGuidance()) : null,
                p.hasCandidates() ? Integer.valueOf(p.getCandidates()) : null).check(field);
    }

    /** Engine overrides as the API's sampler parameters (the inverse of {@link #overrides}; null fields stay unset). */
    public static SamplerParams params(SamplerOverrides o) {
        SamplerParams.Builder b = SamplerParams.newBuilder();
        if (o.sampler() != null) {
            b.setSampler(sampler(o.sampler()));
        }
        if (o.steps() != null) {
            b.setSteps(o.steps());
        }
        if (o.respacing() != null) {
            b.setRespacing(o.respacing());
        }
        if (o.eta() != null) {
            b.setEta(o.eta().floatValue());
        }
        if (o.guidanceScale() != null) {
            b.setGuidanceScale(o.guidanceScale().floatValue());
        }
        if (o.clipRange() != null && Double.isFinite(o.clipRange())) {
            float r = o.clipRange().floatValue();
            b.setClipX0(ClipRange.newBuilder().setMin(-r).setMax(r));
        }
        if (o.classifierScale() != null) {
            b.setClassifierGuidance(o.classifierScale().floatValue());
        }
        if (o.candidates() != null) {
            b.setCandidates(o.candidates());
        }
        return b.build();
    }

    private static Sampler sampler(String name) {
        return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "ddim" -> Sampler.DDIM;
            case "consistency" -> Sampler.CONSISTENCY;
            default -> Sampler.DDPM;
        };
    }

    /** The settings a stage run used, for GenerationParams (every field set). */
    public static SamplerParams effective(SamplerSettings s) {
        SamplerParams.Builder b = SamplerParams.newBuilder()
                .setSampler(sampler(s.sampler()))
                .setSteps(s.steps())
                .setRespacing(s.respacing())
                .setEta((float) s.eta())
                .setGuidanceScale((float) s.guidanceScale());
        if (s.clipRange().isPresent()) {
            float r = (float) s.clipRange().getAsDouble();
            b.setClipX0(ClipRange.newBuilder().setMin(-r).setMax(r));
        }
        if (s.classifierScale() != 0) {
            b.setClassifierGuidance((float) s.classifierScale());
        }
        if (s.candidates() != 1) {
            b.setCandidates(s.candidates());
        }
        return b.build();
    }

    // ---- timings ----

    public static io.unclip.api.v1.StageTimings timings(StageTimings t, io.unclip.api.v1.StageName stage) {
        return io.unclip.api.v1.StageTimings.newBuilder()
                .setStage(stage)
                .setCascadeStep(t.cascadeStep())
                .setWallMs(Math.round(t.wallMillis()))
                .setModelMs(Math.round(t.ortMillis()))
                .setSteps(t.kind().isDiffusion() ? t.steps() : 0)
                .build();
    }

    // ---- text conditioning ----

    /** Row {@code row} of an engine conditioning as a message (text_embeds [D], last_hidden_state [L, H]). */
    public io.unclip.api.v1.TextConditioning toProto(TextConditioning t, int row) {
        TextConditioning one = t.gather(row);
        int l = one.length();
        io.unclip.api.v1.TextConditioning.Builder b = io.unclip.api.v1.TextConditioning.newBuilder()
                .setTextEmbeds(tensors.toProto(one.textEmbeds(), one.textEmbeds().dim(1)));
        if (one.hiddenStates() != null) {
            b.setLastHiddenState(tensors.toProto(one.hiddenStates(), l, one.hiddenStates().dim(2)));
        }
        long[] mask = one.mask();
        float[] m = new float[l];
        for (int i = 0; i < l; i++) {
            m[i] = mask[i];
        }
        b.setAttentionMask(tensors.toProto(m, l));
        for (long id : one.ids()) {
            b.addTokenIds((int) id);
        }
        return b.build();
    }

    /**
     * A one-row engine conditioning from a message, for the stage whose manifest is {@code m}: the message's shapes
     * are checked, then its sizes against the model's inputs. Both doors of a stage (gRPC, Kafka) convert here, so
     * a conditioning is checked once and in one way.
     */
    public TextConditioning text(String field, io.unclip.api.v1.TextConditioning tc, boolean present,
            StageManifest m) {
        TextConditioning t = toEngine(field, tc, present);
        checkText(field, t, m);
        return t;
    }

    /** Image embeddings [rows, E] from a message, checked against the stage's image_embeds input (see text). */
    public Tensor embeddings(String field, FloatTensor f, int rows, StageManifest m) {
        Tensor embeds = fromProto(field, f);
        checkEmbeddings(field, embeds, rows, m);
        return embeds;
    }

    private TextConditioning toEngine(String field, io.unclip.api.v1.TextConditioning tc, boolean present) {
        Checks.TextShape shape = Checks.textConditioning(field, tc, present);
        int l = (int) shape.tokens();
        Tensor embeds = tensors.fromProto(Checks.path(field, "text_embeds"), tc.getTextEmbeds(), 1, shape.embedWidth());
        Tensor hidden = tensors.fromProto(Checks.path(field, "last_hidden_state"), tc.getLastHiddenState(), 1, l,
                shape.hiddenWidth());
        float[] m = tensors.values(Checks.path(field, "attention_mask"), tc.getAttentionMask());
        long[] mask = new long[l];
        for (int i = 0; i < l; i++) {
            mask[i] = (long) m[i];
        }
        long[] ids = new long[l];
        for (int i = 0; i < tc.getTokenIdsCount(); i++) {
            ids[i] = tc.getTokenIds(i);
        }
        return new TextConditioning(embeds, hidden, ids, mask, l, new boolean[1]);
    }

    // ---- checks against the loaded model ----

    /**
     * Checks that a conditioning fits the model's inputs where the manifest fixes their sizes
     * (text_embeds width, token count, per-token width), so a mismatch is an invalid task, not an
     * inference error.
     */
    private static void checkText(String field, TextConditioning t, StageManifest m) {
        expect(field + ".text_embeds", m, "text_embeds", 1, t.textEmbeds().dim(1));
        for (String role : new String[] {"text_hidden", "text_mask", "input_ids"}) {
            expect(field + (role.equals("text_hidden") ? ".last_hidden_state" : ".attention_mask"), m, role, 1, t.length());
        }
        if (t.hiddenStates() != null) {
            expect(field + ".last_hidden_state", m, "text_hidden", 2, t.hiddenStates().dim(2));
        }
    }

    /** Checks image embeddings [N, E] against the model's image_embeds input, if it has one. */
    private static void checkEmbeddings(String field, Tensor embeds, int rows, StageManifest m) {
        if (embeds.rank() != 2 || embeds.dim(0) != rows) {
            throw Checks.invalid(field + ".shape", "must be [" + rows + ", E] for " + rows + " images, got "
                    + Arrays.toString(embeds.shape()));
        }
        expect(field, m, "image_embeds", 1, embeds.dim(1));
    }

    private static void expect(String field, StageManifest m, String role, int dim, long actual) {
        m.inputForRole(role).ifPresent(d -> d.fixedDim(dim).ifPresent(want -> {
            if (want != actual) {
                throw Checks.invalid(field, m.stage() + " takes " + want + " at dimension " + dim + " of its " + role
                        + " input, got " + actual);
            }
        }));
    }

    // ---- tensors ----

    public FloatTensor toProto(Tensor t) {
        return tensors.toProto(t);
    }

    /** @see ProtoTensors#values(String, FloatTensor) */
    public Tensor fromProto(String field, FloatTensor f) {
        return tensors.fromProto(field, f);
    }

    /** Images [N, 3, H, W] as a stage's output: the pixels, and each image as a PNG when {@code encodePng}. */
    public StageImages images(Tensor images, boolean encodePng, PngCodec png) {
        StageImages.Builder b = StageImages.newBuilder().setPixels(toProto(images));
        if (encodePng) {
            for (int i = 0; i < images.dim(0); i++) {
                b.addImages(ImageRef.newBuilder()
                        .setPng(ByteString.copyFrom(png.encode(images, i, Map.of())))
                        .setWidth((int) images.dim(3)).setHeight((int) images.dim(2)));
            }
        }
        return b.build();
    }

    /** The rows 0..n-1: a call's images, each with its own seed stream. */
    public static int[] range(int n) {
        int[] r = new int[n];
        Arrays.setAll(r, i -> i);
        return r;
    }
}
