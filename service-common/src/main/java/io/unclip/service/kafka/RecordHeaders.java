package io.unclip.service.kafka;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import io.unclip.api.v1.ResultFormat;

/**
 * Kafka record headers of the pipeline. Values are UTF-8 strings.
 * <ul>
 *   <li>{@value #RESULT_FORMAT}: "json" or "protobuf", on every record of a job, so that whoever
 *       writes the job's result (even for a record whose value does not parse) encodes it as the
 *       submitter expects.</li>
 *   <li>{@value #EVENT}: on unclip.events, the kind of event ("accepted", "stage_started",
 *       "progress", "stage_finished", "cancelled", ...): consumers that only want cancellations
 *       skip the others without parsing them.</li>
 * </ul>
 */
public final class RecordHeaders {
    private RecordHeaders() {
    }

    public static final String RESULT_FORMAT = "unclip-result-format";
    public static final String EVENT = "unclip-event";

    public static final String JSON = "json";
    public static final String PROTOBUF = "protobuf";

    public static String text(Headers headers, String name) {
        if (headers == null) {
            return null;
        }
        Header h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    public static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    /** The result format a record's header asks for; protobuf when absent. */
    public static ResultFormat resultFormat(Headers headers) {
        return JSON.equals(text(headers, RESULT_FORMAT)) ? ResultFormat.JSON : ResultFormat.PROTOBUF;
    }

    public static String name(ResultFormat f) {
        return f == ResultFormat.JSON ? JSON : PROTOBUF;
    }
}
