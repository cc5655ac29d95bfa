package io.unclip.service.codec;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;

import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionStyle;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.ResultFormat;
import io.unclip.api.v1.SamplerParams;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.record.Records;
import io.unclip.service.record.TaskRejectedException;
import io.unclip.service.validate.Checks;

/**
 * Batch jobs as JSON on unclip.jobs:
 *
 * <pre>
 * {"job_id": "night-1", "prompt": "a red circle", "seed": 1, "num_images": 1, "size": 128,
 *  "preview_interval": 0, "stream_progress": false,
 *  "prior": {"steps": 10, "guidance_scale": 4}, "decoder": {"sampler": "ddim", "steps": 20}, "upsampler": {...}}
 * </pre>
 *
 * or a caption job:
 *
 * <pre>
 * {"job_id": "cap-1", "type": "caption", "image": "&lt;base64 of a PNG or JPEG&gt;", "style": "descriptive", "max_tokens": 0}
 * </pre>
 *
 * {@code type} is "generate" (the default) or "caption". A generate job needs {@code job_id} and
 * {@code prompt}, a caption job {@code job_id} and {@code image}; the rest is optional (absent = the bundle's
 * defaults) and unknown fields are ignored. Stage parameters are SamplerParams in protobuf's JSON
 * mapping (sampler, steps, respacing, eta, guidance_scale, clip_x0 {min, max}). An absent seed is
 * derived from the job id (so a redelivered job cannot change its images). The result comes back
 * as JSON on unclip.results ({@link ResultJson}).
 */
public final class JobJson {
    private JobJson() {
    }

    private static final Pattern JOB_ID = Pattern.compile("\"job_id\"\\s*:\\s*\"([^\"]{1,64})\"");
    private static final JsonFormat.Parser PARAMS = JsonFormat.parser().ignoringUnknownFields();

    /** Whether a jobs-topic value looks like JSON (else it is a protobuf JobRequest). */
    public static boolean looksLikeJson(byte[] value) {
        for (byte b : value) {
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                continue;
            }
            return b == '{' || b == '[' || b == '"';
        }
        return false;
    }

    /**
     * Parses a JSON job and checks it against the public API's limits.
     *
     * @param key the record key (the job id, if the producer keyed it)
     * @throws TaskRejectedException naming what is wrong; its job id is the one recovered, if any
     */
    public static JobRequest parse(byte[] value, String key) {
        String fallbackId = recoverJobId(value, key);
        JsonNode root;
        try {
            root = ResultJson.MAPPER.readTree(value);
        } catch (JsonProcessingException e) {
            throw TaskRejectedException.unreadable("malformed JSON job: " + e.getOriginalMessage(), fallbackId);
        } catch (java.io.IOException e) {
            throw TaskRejectedException.unreadable("malformed JSON job: " + e.getMessage(), fallbackId);
        }
        if (root == null || !root.isObject()) {
            throw TaskRejectedException.unreadable("a JSON job must be an object", fallbackId);
        }
        JsonNode idNode = root.get("job_id");
        if (idNode == null || !idNode.isTextual()) {
            throw TaskRejectedException.invalid("job_id", "job_id: is required (a string)", fallbackId);
        }
        String jobId = idNode.asText();
        try {
            Checks.jobId("job_id", jobId);
        } catch (InvalidRequestException e) {
            throw TaskRejectedException.invalid(e.field(), e.getMessage(), fallbackId);
        }
        try {
            String type = text(root, "type");
            JobRequest.Builder job = JobRequest.newBuilder().setJobId(jobId);
            switch (type) {
                case "", "generate" -> job.setGenerate(generate(root, jobId));
                case "caption" -> job.setCaption(caption(root));
                default -> throw Checks.invalid("type", "must be \"generate\" or \"caption\", got \"" + type + "\"");
            }
            JsonNode stream = root.get("stream_progress");
            return job.setSubmittedAt(Records.now())
                    .setSubmitter("json")
                    .setStreamProgress(stream != null && stream.asBoolean(false))
                    .setResultFormat(ResultFormat.JSON)
                    .build();
        } catch (InvalidRequestException e) {
            throw TaskRejectedException.invalid(e.field(), e.getMessage(), jobId);
        }
    }

    private static GenerateRequest generate(JsonNode root, String jobId) {
        GenerateRequest.Builder g = GenerateRequest.newBuilder();
        g.setPrompt(text(root, "prompt"));
        g.setNumImages(uint(root, "num_images"));
        g.setSize(uint(root, "size"));
        g.setPreviewInterval(uint(root, "preview_interval"));
        g.setSeed(seed(root, jobId));
        for (String stage : new String[] {"prior", "decoder", "upsampler"}) {
            JsonNode p = root.get(stage);
            if (p != null && !p.isNull()) {
                SamplerParams params = params(stage, p);
                switch (stage) {
                    case "prior" -> g.setPrior(params);
                    case "decoder" -> g.setDecoder(params);
                    default -> g.setUpsampler(params);
                }
            }
        }
        return g.build();
    }

    private static CaptionRequest caption(JsonNode root) {
        String b64 = text(root, "image");
        if (b64.isEmpty()) {
            throw Checks.invalid("image", "is required for a caption job (base64 of a PNG or JPEG)");
        }
        byte[] image;
        try {
            image = java.util.Base64.getDecoder().decode(b64.replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw Checks.invalid("image", "is not valid base64: " + e.getMessage());
        }
        String style = text(root, "style").toLowerCase(java.util.Locale.ROOT);
        CaptionStyle s = switch (style) {
            case "", "short" -> CaptionStyle.SHORT;
            case "descriptive" -> CaptionStyle.DESCRIPTIVE;
            default -> throw Checks.invalid("style", "must be \"short\" or \"descriptive\", got \"" + style + "\"");
        };
        return CaptionRequest.newBuilder().setImage(ByteString.copyFrom(image)).setStyle(s)
                .setMaxTokens(uint(root, "max_tokens")).build();
    }

    private static String text(JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return "";
        }
        if (!n.isTextual()) {
            throw Checks.invalid(field, "must be a string");
        }
        return n.asText();
    }

    private static int uint(JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
            throw Checks.invalid(field, "must be a non-negative integer, got " + n);
        }
        return n.intValue();
    }

    private static long seed(JsonNode root, String jobId) {
        JsonNode n = root.get("seed");
        if (n == null || n.isNull()) {
            return derivedSeed(jobId);
        }
        BigInteger v;
        if (n.isIntegralNumber()) {
            v = n.bigIntegerValue();
        } else if (n.isTextual() && n.asText().matches("[0-9]{1,20}")) {
            v = new BigInteger(n.asText());
        } else {
            throw Checks.invalid("seed", "must be an integer in [0, 2^64 - 1], got " + n);
        }
        if (v.signum() < 0 || v.bitLength() > 64) {
            throw Checks.invalid("seed", "must be in [0, 2^64 - 1], got " + v);
        }
        return v.longValue();
    }

    /** The seed of a job that gave none: the first 8 bytes of SHA-256("unclip-seed:" + job id). */
    public static long derivedSeed(String jobId) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(("unclip-seed:" + jobId).getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SamplerParams params(String field, JsonNode p) {
        if (!p.isObject()) {
            throw Checks.invalid(field, "must be an object of sampler parameters");
        }
        com.fasterxml.jackson.databind.node.ObjectNode copy = ((com.fasterxml.jackson.databind.node.ObjectNode) p).deepCopy();
        JsonNode sampler = copy.get("sampler");
        if (sampler != null && sampler.isTextual()) {
            copy.put("sampler", sampler.asText().toUpperCase(java.util.Locale.ROOT));
        }
        SamplerParams.Builder b = SamplerParams.newBuilder();
        try {
            PARAMS.merge(copy.toString(), b);
        } catch (InvalidProtocolBufferException e) {
            throw Checks.invalid(field, "invalid sampler parameters: " + e.getMessage());
        }
        return b.build();
    }

    /** The job id of a record that may not parse: its key, else a "job_id": "..." in its text. */
    public static String recoverJobId(byte[] value, String key) {
        if (Checks.isId(key)) {
            return key;
        }
        if (value == null) {
            return null;
        }
        Matcher m = JOB_ID.matcher(new String(value, 0, Math.min(value.length, 64 * 1024), StandardCharsets.UTF_8));
        return m.find() && Checks.isId(m.group(1)) ? m.group(1) : null;
    }
}
