package io.unclip.gateway.http;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;

import io.unclip.engine.pipeline.CascadePlan;
import io.unclip.engine.stage.InvalidRequestException;

/**
 * OpenAI's Images API parameters in the contract's terms. Its own parameters map to the request's fields
 * ({@code prompt}, {@code n} = num_images, {@code size} "WxH" = size); ours go in one object, {@code unclip}, which
 * is the proto3 JSON of the rest of the request message (seed, prior / decoder / upsampler SamplerParams,
 * preview_interval, request_id), so it has the .proto files' schema and no second one. OpenAI parameters that do not
 * apply here are accepted and ignored (model, quality, style, moderation, output_compression, user) or refused when
 * they ask for what the gateway cannot make (background=transparent, output_format other than png); any other name
 * is refused, as OpenAI refuses an unknown argument.
 */
final class OpenAiRequest {
    enum Format { B64_JSON, URL }

    /** What the door does besides the job: how it answers. */
    record Answer(Format format, boolean stream, int partialImages, int size) {
    }

    static final int MAX_PARTIAL_IMAGES = 3;
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");
    /** OpenAI parameters that change nothing here (one model, PNG, no moderation). */
    static final Set<String> IGNORED = Set.of("model", "quality", "style", "moderation", "output_compression", "user");
    /** Fields of the request message that OpenAI parameters set, so not in {@code unclip}. */
    private static final Map<String, String> SET_BY_OPENAI = Map.of("prompt", "prompt", "numImages", "n",
            "num_images", "n", "size", "size", "image", "image");

    private OpenAiRequest() {
    }

    /** OpenAI's name of a field of the request message, for an error's param (unclip.* for ours). */
    static String param(String field) {
        return switch (field) {
            case "prompt", "size", "image", "body", "n", "response_format", "output_format", "background", "stream",
                 "partial_images", "user" -> field;
            case "num_images" -> "n";
            default -> field.startsWith("unclip") ? field : "unclip." + field;
        };
    }

    /** The same error, its field in OpenAI's names. */
    static InvalidRequestException renamed(InvalidRequestException e) {
        return new InvalidRequestException(param(e.field()), e.reason(), e);
    }

    static String text(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new InvalidRequestException(name, "must be a string");
        }
        return v.asText();
    }

    /** An integer parameter (JSON number or, from a form, its digits), or null when absent. */
    static Integer integer(String name, JsonNode v, int min, int max) {
        if (v == null || v.isNull()) {
            return null;
        }
        long n;
        if (v.isIntegralNumber()) {
            n = v.asLong();
        } else if (v.isTextual() && v.asText().strip().matches("-?\\d{1,10}")) {
            n = Long.parseLong(v.asText().strip());
        } else {
            throw new InvalidRequestException(name, "must be an integer, got " + v);
        }
        if (n < min || n > max) {
            throw new InvalidRequestException(name, "must be between " + min + " and " + max + ", got " + n);
        }
        return (int) n;
    }

    static boolean bool(String name, JsonNode v) {
        if (v == null || v.isNull()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isTextual() && Set.of("true", "false").contains(v.asText())) {
            return Boolean.parseBoolean(v.asText());
        }
        throw new InvalidRequestException(name, "must be true or false, got " + v);
    }

    /**
     * The size: "WxH" with W = H, one of the sizes the bundle makes when the gateway knows its bundle (else the
     * text encoder checks it); absent or "auto" = the bundle's largest (0).
     */
    static int size(String value, Optional<CascadePlan> plan) {
        if (value == null || value.equals("auto")) {
            return 0;
        }
        Matcher m = SIZE.matcher(value);
        List<String> made = plan.map(p -> p.sizes().stream().map(s -> s + "x" + s).toList()).orElse(List.of());
        String which = made.isEmpty() ? "" : "; this gateway makes " + String.join(", ", made);
        if (!m.matches()) {
            throw new InvalidRequestException("size", "must be WIDTHxHEIGHT (e.g. 64x64) or auto, got '"
                    + cut(value) + "'" + which);
        }
        int w = Integer.parseInt(m.group(1));
        int h = Integer.parseInt(m.group(2));
        if (w != h) {
            throw new InvalidRequestException("size", "images are square here (width = height), got " + value + which);
        }
        if (!made.isEmpty() && !made.contains(value)) {
            throw new InvalidRequestException("size", value + " is not a size this gateway makes" + which);
        }
        return w;
    }

    /** How the door answers: response_format, stream, partial_images, and the refusals of what it cannot make. */
    static Answer answer(JsonNode body, int size) {
        String format = Optional.ofNullable(text(body, "response_format")).orElse("b64_json");
        Format f = switch (format) {
            case "b64_json" -> Format.B64_JSON;
            case "url" -> Format.URL;
            default -> throw new InvalidRequestException("response_format", "must be b64_json or url, got '"
                    + cut(format) + "'");
        };
        String output = text(body, "output_format");
        if (output != null && !output.equals("png")) {
            throw new InvalidRequestException("output_format", "this gateway makes png only, got '" + cut(output) + "'");
        }
        String background = text(body, "background");
        if (background != null && !Set.of("auto", "opaque").contains(background)) {
            throw new InvalidRequestException("background", "this gateway makes opaque images (auto or opaque), got '"
                    + cut(background) + "'");
        }
        boolean stream = bool("stream", body.get("stream"));
        Integer partial = integer("partial_images", body.get("partial_images"), 0, MAX_PARTIAL_IMAGES);
        return new Answer(f, stream, partial == null ? 0 : partial, size);
    }

    /**
     * Refuses a parameter that is neither OpenAI's nor {@code unclip}.
     *
     * @param known the parameters of this route
     */
    static void refuseUnknown(JsonNode body, Set<String> known) {
        body.fieldNames().forEachRemaining(name -> {
            if (!known.contains(name) && !IGNORED.contains(name) && !name.equals("unclip")) {
                throw new InvalidRequestException(cut(name), "unknown parameter (ours go in the 'unclip' object)");
            }
        });
    }

    /**
     * Merges the {@code unclip} object (proto3 JSON of the rest of the request message) into {@code into}: a JSON
     * object, or its text (a multipart form field).
     */
    static <B extends Message.Builder> B unclip(JsonNode v, B into) {
        if (v == null || v.isNull()) {
            return into;
        }
        JsonNode obj = v;
        if (v.isTextual()) {
            try {
                obj = new com.fasterxml.jackson.databind.ObjectMapper().readTree(v.asText());
            } catch (java.io.IOException e) {
                throw new InvalidRequestException("unclip", "is not JSON: " + cut(String.valueOf(e.getMessage())));
            }
        }
        if (!(obj instanceof ObjectNode o)) {
            throw new InvalidRequestException("unclip", "must be an object of unclip's own parameters (seed, prior,"
                    + " decoder, upsampler, preview_interval, request_id)");
        }
        o.fieldNames().forEachRemaining(name -> {
            String openAi = SET_BY_OPENAI.get(name);
            if (openAi != null) {
                throw new InvalidRequestException("unclip." + name, "is set by the OpenAI parameter '" + openAi + "'");
            }
        });
        return ProtoJson.parse(o.toString(), into, "unclip");
    }

    static String cut(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    static String sizeText(int size) {
        return size <= 0 ? "auto" : String.format(Locale.ROOT, "%dx%d", size, size);
    }
}
