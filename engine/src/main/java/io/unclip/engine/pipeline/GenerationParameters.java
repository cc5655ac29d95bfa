package io.unclip.engine.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.stage.SamplerSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to reproduce a cascade run's images: what was asked and the parameters each
 * stage actually used.
 *
 * @param mode            "generate", "variations", "interpolate" or "inpaint"
 * @param prompt          the prompt (null when the mode has none)
 * @param seed            the seed (unsigned 64-bit)
 * @param numImages       images (frames) made
 * @param size            output side in pixels
 * @param sizes           the resolutions the run went through, decoder first
 * @param stages          per diffusion stage run (bundle stage name), the sampler settings used, in run order
*                       (candidates included: the prior's best of 2 is its settings' candidates)
 * @param bundleName      the model bundle's name
 * @param bundleVersion   the model bundle's version
 * @param extra           mode-specific values (frames, towards prompt, source caption, ...)
 */
public record GenerationParameters(String mode, String prompt, long seed, int numImages, int size, List<Integer> sizes,
                                   Map<String, SamplerSettings> stages, String bundleName,
                                   String bundleVersion, Map<String, Object> extra) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public GenerationParameters {
        sizes = List.copyOf(sizes);
        stages = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(stages));
        extra = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /** A JSON-friendly map of everything (the seed as an unsigned decimal string). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", mode);
        if (prompt != null) {
            m.put("prompt", prompt);
        }
        m.put("seed", Requests.seedText(seed));
        m.put("num_images", numImages);
        m.put("size", size);
        m.put("sizes", sizes);
        Map<String, Object> st = new LinkedHashMap<>();
        stages.forEach((k, v) -> st.put(k, v.toMap()));
        m.put("stages", st);
        Map<String, Object> bundle = new LinkedHashMap<>(); // ordered: PNG bytes must not vary per JVM
        bundle.put("name", bundleName);
        bundle.put("version", bundleVersion);
        m.put("bundle", bundle);
        m.putAll(extra);
        return m;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(toMap());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * PNG text metadata for image {@code index}: readable keys ("prompt", "seed", "size",
     * "decoder", ...) plus "parameters" holding {@link #toJson()} with the image index.
     */
    public Map<String, String> pngText(int index) {
        Map<String, String> t = new LinkedHashMap<>();
        if (prompt != null) {
            t.put("prompt", prompt);
        }
        t.put("seed", Requests.seedText(seed));
        t.put("image_index", Integer.toString(index));
        t.put("num_images", Integer.toString(numImages));
        t.put("size", size + "x" + size);
        t.put("sizes", String.join(",", sizes.stream().map(String::valueOf).toList()));
        t.put("mode", mode);
        stages.forEach((k, v) -> t.put(k, v.describe()));
        t.put("bundle", bundleName + " " + bundleVersion);
        extra.forEach((k, v) -> t.put(k, String.valueOf(v)));
        Map<String, Object> all = toMap();
        all.put("image_index", index);
        try {
            t.put("parameters", JSON.writeValueAsString(all));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        t.put("software", "unclip");
        return t;
    }
}
