package io.unclip.service.telemetry;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jboss.logging.MDC;

import io.opentelemetry.api.trace.SpanContext;
import io.unclip.api.v1.JobRequest;

/**
 * The MDC keys of a task's or a call's log lines ({@value #JOB_ID}, {@value #REQUEST_ID},
 * {@value #STAGE}, {@value #TRACE_ID}, {@value #SPAN_ID}): the JSON log format prints them with
 * every line, so one job's lines can be found across services. Opened around a unit of work on
 * its thread; {@link #close()} puts back what the keys held before (nothing, on a pool thread).
 */
public final class LogContext implements AutoCloseable {
    public static final String JOB_ID = "job_id";
    public static final String REQUEST_ID = "request_id";
    public static final String STAGE = "stage";
    public static final String TRACE_ID = "trace_id";
    public static final String SPAN_ID = "span_id";
    private static final List<String> KEYS = List.of(JOB_ID, REQUEST_ID, STAGE, TRACE_ID, SPAN_ID);

    private final Map<String, Object> before = new LinkedHashMap<>();

    private LogContext() {
        for (String k : KEYS) {
            before.put(k, MDC.get(k));
        }
    }

    public static LogContext open() {
        return new LogContext();
    }

    /** Sets a key for the rest of the unit of work (empty and null values are skipped). */
    public LogContext put(String key, String value) {
        set(key, value);
        return this;
    }

    /** The trace and span ids, when the span is real (tracing on, or a context passed on). */
    public LogContext span(SpanContext span) {
        if (span != null && span.isValid()) {
            set(TRACE_ID, span.getTraceId());
            set(SPAN_ID, span.getSpanId());
        }
        return this;
    }

    /** Sets a key on this thread; an open LogContext on it clears it again. */
    public static void set(String key, String value) {
        if (value != null && !value.isEmpty()) {
            MDC.put(key, value);
        }
    }

    /** The request id of a job's request (its idempotency key), "" when it has none. */
    public static String requestId(JobRequest r) {
        return switch (r.getRequestCase()) {
            case GENERATE -> r.getGenerate().getRequestId();
            case VARIATIONS -> r.getVariations().getRequestId();
            case INTERPOLATE -> r.getInterpolate().getRequestId();
            default -> "";
        };
    }

    @Override
    public void close() {
        for (Map.Entry<String, Object> e : before.entrySet()) {
            if (e.getValue() == null) {
                MDC.remove(e.getKey());
            } else {
                MDC.put(e.getKey(), e.getValue());
            }
        }
    }
}
