package io.unclip.service.codec;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

import io.unclip.api.v1.Failure;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.service.record.Records;

/**
 * The JSON form of a {@link JobResult} for batch jobs (records.proto, ResultFormat.JSON):
 *
 * <pre>
 * {"job_id": "...", "status": "SUCCEEDED", "seed": 1,
 *  "images": [{"index": 0, "path": "/var/unclip/results/job-1/0.png", "width": 128, "height": 128, "seed": 1}],
 *  "parameters": {"prompt": "...", "size": 128, "prior": {...}, "decoder": {...}, "upsampler": {...}, "model_bundle": "..."},
 *  "timings": [{"stage": "TEXT_ENCODER", "cascade_step": 0, "wall_ms": "3", ...}, ...],
 *  "finished_at": "2026-11-25T16:00:00.123Z"}
 * {"job_id": "...", "status": "SUCCEEDED", "caption": "a red circle", "caption_style": "short", "timings": [...], ...}
 * {"job_id": "...", "status": "FAILED", "error": {"code": "INVALID_REQUEST", "message": "prompt: must not be blank", ...}, ...}
 * </pre>
 *
 * Nested messages use protobuf's JSON mapping with the .proto field names (64-bit integers as
 * strings); the seeds are JSON numbers (unsigned).
 */
public final class ResultJson {
    private ResultJson() {
    }

    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
            .omittingInsignificantWhitespace();

    /** @param paths the image files, in the order of {@code result.getImagesList()} */
    public static byte[] render(JobResult result, List<Path> paths) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("job_id", result.getJobId());
        o.put("status", result.getStatus().name());
        boolean caption = !result.getCaption().isEmpty();
        if ((result.getStatus() == JobState.SUCCEEDED && !caption) || result.getSeed() != 0) {
            o.put("seed", new BigInteger(Long.toUnsignedString(result.getSeed())));
        }
        if (result.getStatus() == JobState.SUCCEEDED && caption) {
            o.put("caption", result.getCaption());
            o.put("caption_style", result.getCaptionStyle());
        } else if (result.getStatus() == JobState.SUCCEEDED) {
            ArrayNode images = o.putArray("images");
            for (int i = 0; i < result.getImagesCount(); i++) {
                GeneratedImage g = result.getImages(i);
                ObjectNode img = images.addObject();
                img.put("index", g.getIndex());
                img.put("path", paths.get(i).toAbsolutePath().toString());
                img.put("width", g.getWidth());
                img.put("height", g.getHeight());
                img.put("seed", new BigInteger(Long.toUnsignedString(g.getSeed())));
            }
        }
        if (result.hasParams()) {
            o.set("parameters", node(result.getParams()));
        }
        ArrayNode timings = o.putArray("timings");
        result.getTimingsList().forEach(t -> timings.add(node(t)));
        if (result.hasError()) {
            o.set("error", node(result.getError()));
        }
        if (result.hasFinishedAt()) {
            o.put("finished_at", Records.instant(result.getFinishedAt()).toString());
        }
        try {
            return MAPPER.writeValueAsBytes(o);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write result JSON", e);
        }
    }

    /** A failure's JSON object. */
    public static ObjectNode errorNode(Failure f) {
        return (ObjectNode) node(f);
    }

    static JsonNode node(MessageOrBuilder m) {
        try {
            return MAPPER.readTree(PRINTER.print(m));
        } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render " + m.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** Parses a JSON result (for clients and tests). */
    public static JsonNode parse(byte[] json) {
        try {
            return MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not a JSON result: " + e.getMessage(), e);
        }
    }
}
