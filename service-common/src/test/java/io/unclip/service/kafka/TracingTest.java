package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.stage.TaskContext;
import io.unclip.service.telemetry.LogContext;
import io.unclip.service.telemetry.TraceHeaders;

/**
 * Traces and log context of the stage worker on a real broker: a record's traceparent is the
 * parent of the worker's span, and every record the worker writes carries that span; a record
 * without one starts a trace; log lines of a task carry its job id, request id, stage and trace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracingTest {
    static final Duration WAIT = OnePartitionBroker.WAIT;
    static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String PARENT_ID = "00f067aa0ba902b7";
    static final org.jboss.logging.Logger HANDLER_LOG = org.jboss.logging.Logger.getLogger("io.unclip.test.prior");

    OnePartitionBroker broker;
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    OpenTelemetrySdk sdk;
    WorkerStack worker;
    final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r instanceof ExtLogRecord x) {
                x.copyAll(); // the MDC is read lazily: take it now, on the logging thread, as queueing handlers do
            }
            logged.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** Prior stand-in: logs, sends progress with a preview, makes a decoder task. */
    static final class LoggingPrior implements StageHandler {
        @Override
        public StageName stage() {
            return StageName.PRIOR;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) {
            HANDLER_LOG.infof("sampling the prior of %s", task.getJobId());
            ctx.progress(1, 2, null);
            ctx.progress(2, 2, Tensor.zeros(1, 3, 8, 8));
            StageTimings t = StageTimings.newBuilder().setStage(StageName.PRIOR).setSteps(2).build();
            return Outcome.next(task.toBuilder().setStage(StageName.DECODER).addTimings(t).build(), t);
        }
    }

    @BeforeAll
    void start(@TempDir Path results) throws Exception {
        broker = new OnePartitionBroker();
        sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
        java.util.logging.Logger.getLogger("").addHandler(capture);
        worker = WorkerStack.start(broker.settings, StageWorker.Config.of(StageName.PRIOR, "traced"), new LoggingPrior(),
                results, 0, new SimpleMeterRegistry(), Duration.ofMinutes(1), sdk);
        assertTrue(worker.worker().awaitAssignment(WAIT), "worker joined its group");
    }

    @AfterAll
    void stop() {
        java.util.logging.Logger.getLogger("").removeHandler(capture);
        worker.close();
        sdk.close();
        broker.close();
    }

    static StageTask task(String jobId, String requestId) {
        return StageTask.newBuilder().setJobId(jobId).setStage(StageName.PRIOR).setAttempt(1)
                .setRequest(JobRequest.newBuilder().setJobId(jobId).setStreamProgress(true)
                        .setGenerate(GenerateRequest.newBuilder().setPrompt("a red circle").setSeed(7)
                                .setPreviewInterval(1).setRequestId(requestId)))
                .build();
    }

    /** [trace id, parent span id] of a record's traceparent; fails when it has none. */
    static String[] traceparent(ConsumerRecord<String, byte[]> r) {
        String tp = RecordHeaders.text(r.headers(), TraceHeaders.TRACEPARENT);
        assertNotNull(tp, "record on " + r.topic() + " carries a traceparent");
        String[] parts = tp.split("-");
        assertEquals(4, parts.length, tp);
        return new String[] {parts[1], parts[2]};
    }

    SpanData awaitSpan(String jobId) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (SpanData s : spans.getFinishedSpanItems()) {
                if (jobId.equals(s.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("unclip.job_id")))) {
                    return s;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no span of " + jobId + " in " + spans.getFinishedSpanItems());
    }

    @Test
    void aTracedTaskIsAChildSpanAndEveryRecordItWritesCarriesIt() throws Exception {
        try (TopicTail decoder = new TopicTail(broker.settings, Topics.DECODER);
             TopicTail events = new TopicTail(broker.settings, Topics.EVENTS)) {
            ProducerRecord<String, byte[]> in = new ProducerRecord<>(Topics.PRIOR, "job-traced",
                    task("job-traced", "req-7").toByteArray());
            in.headers().add(TraceHeaders.TRACEPARENT, ("00-" + TRACE_ID + "-" + PARENT_ID + "-01")
                    .getBytes(StandardCharsets.UTF_8));
            broker.producer.send(in).get();

            ConsumerRecord<String, byte[]> next = decoder.await(TopicTail.key("job-traced"), 1, WAIT).get(0);
            SpanData span = awaitSpan("job-traced");
            assertEquals(TRACE_ID, span.getTraceId());
            assertEquals(PARENT_ID, span.getParentSpanId());
            assertEquals(SpanKind.CONSUMER, span.getKind());
            assertEquals(Topics.PRIOR + " process", span.getName());
            assertEquals("succeeded", span.getAttributes().get(
                    io.opentelemetry.api.common.AttributeKey.stringKey("unclip.outcome")));

            String[] out = traceparent(next);
            assertEquals(List.of(TRACE_ID, span.getSpanId()), List.of(out[0], out[1]), "the next task's parent");
            List<ConsumerRecord<String, byte[]>> evs = events.await(r -> "job-traced".equals(r.key())
                    && "stage_finished".equals(RecordHeaders.text(r.headers(), RecordHeaders.EVENT)), 1, WAIT);
            assertFalse(evs.isEmpty());
            List<ConsumerRecord<String, byte[]>> all = events.settle(TopicTail.key("job-traced"), Duration.ZERO);
            assertTrue(all.stream().anyMatch(r -> "progress".equals(RecordHeaders.text(r.headers(), RecordHeaders.EVENT))),
                    "progress sent from the event publisher's thread");
            for (ConsumerRecord<String, byte[]> e : all) {
                String[] tp = traceparent(e);
                assertEquals(List.of(TRACE_ID, span.getSpanId()), List.of(tp[0], tp[1]),
                        RecordHeaders.text(e.headers(), RecordHeaders.EVENT) + " event");
            }

            // the handler's log line has the task's context in its MDC
            LogRecord line = logged.stream().filter(r -> "io.unclip.test.prior".equals(r.getLoggerName()))
                    .findFirst().orElseThrow(() -> new AssertionError("handler line not captured"));
            ExtLogRecord ext = (ExtLogRecord) line;
            assertEquals("job-traced", ext.getMdc(LogContext.JOB_ID));
            assertEquals("req-7", ext.getMdc(LogContext.REQUEST_ID));
            assertEquals("prior", ext.getMdc(LogContext.STAGE));
            assertEquals(TRACE_ID, ext.getMdc(LogContext.TRACE_ID));
            assertEquals(span.getSpanId(), ext.getMdc(LogContext.SPAN_ID));
        }
    }

    @Test
    void aRecordWithoutTraceStartsOneAndItsDeadLetterAndResultCarryIt() throws Exception {
        try (TopicTail dead = new TopicTail(broker.settings, Topics.DEAD_LETTER);
             TopicTail res = new TopicTail(broker.settings, Topics.RESULTS)) {
            broker.send(Topics.PRIOR, "job-garbage", "not a protobuf \u0000\u0001".getBytes(StandardCharsets.UTF_8));
            ConsumerRecord<String, byte[]> dl = dead.await(TopicTail.key("job-garbage"), 1, WAIT).get(0);
            ConsumerRecord<String, byte[]> failed = res.await(TopicTail.key("job-garbage"), 1, WAIT).get(0);
            SpanData span = awaitSpan("job-garbage");
            assertFalse(span.getParentSpanContext().isValid(), "a new trace");
            assertEquals(StatusCode.ERROR, span.getStatus().getStatusCode());
            assertEquals(List.of(span.getTraceId(), span.getSpanId()), List.of(traceparent(dl)));
            assertEquals(List.of(span.getTraceId(), span.getSpanId()), List.of(traceparent(failed)));

            // the worker's own warning names the job in its MDC too
            ExtLogRecord warning = logged.stream()
                    .filter(r -> r instanceof ExtLogRecord x && x.getFormattedMessage().contains("dead-lettered (job job-garbage)"))
                    .map(ExtLogRecord.class::cast)
                    .findFirst().orElseThrow(() -> new AssertionError("dead-letter warning not captured"));
            assertEquals("job-garbage", warning.getMdc(LogContext.JOB_ID));
            assertEquals("prior", warning.getMdc(LogContext.STAGE));
            assertEquals(span.getTraceId(), warning.getMdc(LogContext.TRACE_ID));
        }
    }
}
