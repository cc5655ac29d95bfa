package io.unclip.cli.eval;

import io.unclip.shapes.Judgement;
import io.unclip.shapes.PromptSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything an evaluation measures, image by image, and the metrics made from it. Model-free: the command runs
 * the models and hands over verdicts, features, embeddings and captions.
 *
 * <ul>
 *   <li>Prompt following: SceneJudge verdicts of the generated images, per group (single_object, two_object) and
 *       over all images; the same for the rendered references (a check of the harness: the judge should be right
 *       on every reference).</li>
 *   <li>CLIP score: mean of {@code 100 * max(cos(image_embed, text_embed), 0)}.</li>
 *   <li>FID: {@link FrechetDistance} between the image-encoder features of the generated and of the reference
 *       images.</li>
 *   <li>IS: {@link InceptionScore} over {@link CaptionLabels} of the captions.</li>
 *   <li>Captioner agreement: {@link CaptionAgreement} of the captions with the prompts, for generated images and
 *       (the captioner's own accuracy) for references.</li>
 * </ul>
 */
public final class EvalResults {
    /** Groups in report order. */
    public static final List<String> GROUPS = List.of("single_object", "two_object");

    /** One side of the evaluation: generated images or rendered references. */
    public static final class Side {
        final Map<String, AttributeTally> judged = new LinkedHashMap<>();
        final Map<String, AttributeTally> captions = new LinkedHashMap<>();
        final List<float[]> features = new ArrayList<>();
        final List<double[]> labels = new ArrayList<>();
        double clipSum;
        int images;
        int parsed;

        Side() {
            for (String g : GROUPS) {
                judged.put(g, new AttributeTally());
                captions.put(g, new AttributeTally());
            }
            judged.put("all", new AttributeTally());
            captions.put("all", new AttributeTally());
        }

        void add(String group, Judgement judge, float[] feature, double clip, PromptSpec prompt, PromptSpec caption) {
            judged.get(group).add(judge);
            judged.get("all").add(judge);
            Judgement agree = CaptionAgreement.score(prompt, caption);
            captions.get(group).add(agree);
            captions.get("all").add(agree);
            features.add(feature);
            labels.add(CaptionLabels.distribution(caption));
            clipSum += clip;
            images++;
            if (caption != null) {
                parsed++;
            }
        }

        public AttributeTally judged(String group) {
            return judged.get(group);
        }

        public AttributeTally captions(String group) {
            return captions.get(group);
        }

        public int images() {
            return images;
        }

        public int parsedCaptions() {
            return parsed;
        }

        public double clipScore() {
            return images == 0 ? Double.NaN : clipSum / images;
        }

        public double inceptionScore() {
            return InceptionScore.of(labels);
        }

        public List<float[]> features() {
            return features;
        }
    }

    private final Side generated = new Side();
    private final Side references = new Side();
    private final List<Map<String, Object>> perImage = new ArrayList<>();

    public Side generated() {
        return generated;
    }

    public Side references() {
        return references;
    }

    /**
     * One generated image.
     *
     * @param caption the caption text; {@code parsed} its parse, null when it did not parse
     */
    public void addGenerated(EvalPrompt p, int index, String file, Judgement judge, float[] feature, float[] text,
                             String caption, PromptSpec parsed) {
        double clip = clipScore(feature, text);
        generated.add(p.group(), judge, feature, clip, p.spec(), parsed);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("index", index);
        m.put("file", file);
        m.put("group", p.group());
        m.put("all_correct", judge.allCorrect());
        m.put("verdicts", verdicts(judge));
        m.put("clip_score", round(clip));
        m.put("caption", caption);
        m.put("caption_parsed", parsed != null);
        m.put("caption_verdicts", verdicts(CaptionAgreement.score(p.spec(), parsed)));
        perImage.add(m);
    }

    /** One rendered reference image of a prompt. */
    public void addReference(EvalPrompt p, Judgement judge, float[] feature, float[] text, PromptSpec parsed) {
        references.add(p.group(), judge, feature, clipScore(feature, text), p.spec(), parsed);
    }

    public List<Map<String, Object>> perImage() {
        return perImage;
    }

    /** {@code 100 * max(cos(a, b), 0)}; 0 when either vector is zero. */
    public static double clipScore(float[] image, float[] text) {
        if (image.length != text.length) {
            throw new IllegalArgumentException("image embedding has " + image.length + " dimensions, text embedding "
                    + text.length + ": the bundle's image and text encoders do not share an embedding space");
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < image.length; i++) {
            dot += (double) image[i] * text[i];
            na += (double) image[i] * image[i];
            nb += (double) text[i] * text[i];
        }
        if (na == 0 || nb == 0) {
            return 0;
        }
        return 100 * Math.max(dot / Math.sqrt(na * nb), 0);
    }

    /** FID between the generated and the reference features. */
    public double fid() {
        return FrechetDistance.between(generated.features, references.features);
    }

    /**
     * The metrics as a JSON-ready map: {@code prompt_following}, {@code clip_score}, {@code fid},
     * {@code inception_score}, {@code captioner}.
     *
     * @param captionStyle the captioner style the captions were asked in
     */
    public Map<String, Object> metrics(String captionStyle) {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> pf = new LinkedHashMap<>();
        pf.put("judge", "shapes-world SceneJudge: every attribute the prompt states, GenEval-style fractions");
        for (String g : GROUPS) {
            if (generated.judged(g).images() > 0) {
                pf.put(g, generated.judged(g).toMap());
            }
        }
        pf.put("all", generated.judged("all").toMap());
        pf.put("judge_on_references", references.judged("all").toMap());
        m.put("prompt_following", pf);

        Map<String, Object> clip = new LinkedHashMap<>();
        clip.put("value", round(generated.clipScore()));
        clip.put("reference_value", round(references.clipScore()));
        clip.put("images", generated.images());
        clip.put("model", "the bundle's own mini-CLIP (text_encoder text_embeds, image_encoder image_embeds),"
                + " not OpenAI CLIP");
        clip.put("definition", "mean over images of 100 * max(cos(image_embed(image), text_embed(prompt)), 0)");
        m.put("clip_score", clip);

        Map<String, Object> fid = new LinkedHashMap<>();
        int dims = generated.features.isEmpty() ? 0 : generated.features.get(0).length;
        fid.put("value", round(fid()));
        fid.put("name", "FID (bundle image-encoder features)");
        fid.put("features", "image_encoder image_embeds, " + dims + " dimensions");
        fid.put("generated", generated.images());
        fid.put("reference", references.images());
        fid.put("reference_images", "rendered Shapes-World scenes satisfying the same prompts, one per generated"
                + " image");
        if (generated.images() <= dims) {
            fid.put("note", "fewer images than feature dimensions: the covariances are singular and FID is biased"
                    + " upwards; compare only runs with the same prompt set and -n");
        }
        m.put("fid", fid);

        Map<String, Object> is = new LinkedHashMap<>();
        is.put("value", round(generated.inceptionScore()));
        is.put("reference_value", round(references.inceptionScore()));
        is.put("images", generated.images());
        is.put("classes", CaptionLabels.CLASSES);
        is.put("labels", "captioner's parsed (colour, shape) per image, one-hot (two objects: 1/2 each); captions that"
                + " do not parse form one 'unreadable' class; IS = exp(E_x KL(p(y|x) || p(y))), 1 .. "
                + CaptionLabels.CLASSES);
        m.put("inception_score", is);

        Map<String, Object> cap = new LinkedHashMap<>();
        cap.put("style", captionStyle);
        cap.put("generated", captionMap(generated));
        cap.put("reference", captionMap(references));
        cap.put("reading", "generated: how often the captioner's description of a generated image agrees with its"
                + " prompt; reference: the same on rendered references, i.e. the captioner's own accuracy");
        m.put("captioner", cap);
        return m;
    }

    private static Map<String, Object> captionMap(Side s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parsed", AttributeTally.fraction(s.parsed, s.images));
        for (String g : GROUPS) {
            if (s.captions(g).images() > 0) {
                m.put(g, s.captions(g).toMap());
            }
        }
        m.put("all", s.captions("all").toMap());
        return m;
    }

    static Map<String, Object> verdicts(Judgement j) {
        Map<String, Object> m = new LinkedHashMap<>();
        Boolean[] v = j.verdicts();
        for (int i = 0; i < v.length; i++) {
            if (v[i] != null) {
                m.put(Judgement.NAMES[i], v[i]);
            }
        }
        return m;
    }

    /** Rounds to 4 decimals for the report; NaN and infinities become null (JSON has none). */
    public static Double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null;
    }
}
