package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.JobCancelled;
import io.unclip.api.v1.JobEvent;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageInputs;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.api.v1.StageTimings;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.tensor.Tensor;
import io.unclip.kafka.testkit.EmbeddedKafka;
import io.unclip.service.codec.JobJson;
import io.unclip.service.codec.ProtoTensors;
import io.unclip.service.codec.ResultJson;
import io.unclip.service.record.Records;
import io.unclip.service.stage.TaskContext;

/**
 * The stage worker against a real broker with stand-in stage logic: task in, next task out with
 * events; dead letters with failed results; JSON batch jobs; cancellation within one step.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StageWorkerTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    EmbeddedKafka kafka;
    KafkaSettings settings;
    Producer<String, byte[]> producer;
    @TempDir
    Path results;

    @BeforeAll
    void start() {
        kafka = EmbeddedKafka.start();
        settings = new KafkaSettings(kafka.bootstrapServers(), 6000, Map.of());
        try (Admin admin = Admin.create(settings.admin("test-admin"))) {
            Topics.ensure(admin, 2, (short) 1, 30_000);
        }
        producer = new KafkaProducer<>(settings.producer("test"));
    }

    @AfterAll
    void stop() {
        producer.close();
        kafka.close();
    }

    static StageTask task(String jobId, StageName stage, boolean progress) {
        return StageTask.newBuilder().setJobId(jobId).setStage(stage).setAttempt(1)
                .setRequest(JobRequest.newBuilder().setJobId(jobId).setStreamProgress(progress)
                        .setGenerate(GenerateRequest.newBuilder().setPrompt("a red circle").setSeed(7).setPreviewInterval(2)))
                .build();
    }

    void send(String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get();
    }

    /** Prior stand-in: three steps (a preview at step 2), then a decoder task with "embeddings". */
    static final class FakePrior implements StageHandler {
        final AtomicInteger runs = new AtomicInteger();

        @Override
        public StageName stage() {
            return StageName.PRIOR;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) {
            runs.incrementAndGet();
            for (int s = 1; s <= 3; s++) {
                ctx.progress(s, 3, s == 2 ? Tensor.zeros(1, 3, 8, 8) : null);
            }
            StageTask next = task.toBuilder().setStage(StageName.DECODER).setAttempt(1)
                    .setInputs(StageInputs.newBuilder().setImageEmbeds(ProtoTensors.inlineOnly()
                            .toProto(new float[] {1, 2, 3, 4}, 1, 4)))
                    .addTimings(StageTimings.newBuilder().setStage(StageName.PRIOR).setSteps(3))
                    .build();
            return Outcome.next(next, StageTimings.newBuilder().setStage(StageName.PRIOR).setSteps(3).build());
        }
    }

    WorkerStack worker(StageName stage, StageHandler h, String instance, boolean jobs) {
        StageWorker.Config c = StageWorker.Config.of(stage, instance);
        if (jobs) {
            c = c.withReader(Topics.JOBS, TaskReader.jobs());
        }
        WorkerStack w = WorkerStack.start(settings, c, h, results, 0, new SimpleMeterRegistry(), Duration.ofMinutes(1));
        try {
            assertTrue(w.worker().awaitAssignment(WAIT), "worker joined its group");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return w;
    }

    @Test
    void taskInNextTaskOutWithEventsAndDeadLetters() throws Exception {
        FakePrior prior = new FakePrior();
        try (WorkerStack w = worker(StageName.PRIOR, prior, "p1", false);
             TopicTail decoder = new TopicTail(settings, Topics.DECODER);
             TopicTail events = new TopicTail(settings, Topics.EVENTS);
             TopicTail dead = new TopicTail(settings, Topics.DEAD_LETTER);
             TopicTail res = new TopicTail(settings, Topics.RESULTS)) {
            send(Topics.PRIOR, "job-a", task("job-a", StageName.PRIOR, true).toByteArray());
            StageTask next = StageTask.parseFrom(decoder.await(TopicTail.key("job-a"), 1, WAIT).get(0).value());
            assertEquals(StageName.DECODER, next.getStage());
            assertEquals(4, next.getInputs().getImageEmbeds().getDataCount());
            assertTrue(next.hasCreatedAt());

            List<GenerateEvent> evs = events.await(r -> "job-a".equals(r.key())
                    && "stage_finished".equals(RecordHeaders.text(r.headers(), RecordHeaders.EVENT)), 1, WAIT)
                    .isEmpty() ? List.of() : events.settle(TopicTail.key("job-a"), Duration.ZERO).stream()
                    .map(StageWorkerTest::event).toList();
            assertEquals(GenerateEvent.EventCase.STAGE_STARTED, evs.get(0).getEventCase());
            assertEquals(GenerateEvent.EventCase.STAGE_FINISHED, evs.get(evs.size() - 1).getEventCase());
            List<GenerateEvent> progress = evs.stream().filter(GenerateEvent::hasProgress).toList();
            assertFalse(progress.isEmpty());
            assertEquals(3, progress.get(progress.size() - 1).getProgress().getStep(), "the last step is always sent");
            for (int i = 1; i < progress.size(); i++) {
                assertTrue(progress.get(i).getProgress().getStep() > progress.get(i - 1).getProgress().getStep(),
                        "progress in step order");
            }
            assertTrue(progress.stream().anyMatch(p -> p.getProgress().hasPreviewPng()), "the preview is sent");

            // garbage, then a task for another stage, then a valid task: the valid one still runs
            send(Topics.PRIOR, "bad-1", "not a protobuf \u0000\u0001".getBytes(StandardCharsets.UTF_8));
            send(Topics.PRIOR, "bad-2", task("bad-2", StageName.DECODER, false).toByteArray());
            send(Topics.PRIOR, "job-b", task("job-b", StageName.PRIOR, false).toByteArray());
            decoder.await(TopicTail.key("job-b"), 1, WAIT);

            DeadLetter dl1 = DeadLetter.parseFrom(dead.await(TopicTail.key("bad-1"), 1, WAIT).get(0).value());
            assertEquals("bad-1", dl1.getJobId());
            assertEquals(Topics.PRIOR, dl1.getTopic());
            assertEquals(FailureCode.DEAD_LETTERED, dl1.getCode());
            assertTrue(dl1.getReason().startsWith("unparseable StageTask"), dl1.getReason());
            DeadLetter dl2 = DeadLetter.parseFrom(dead.await(TopicTail.key("bad-2"), 1, WAIT).get(0).value());
            assertTrue(dl2.getReason().contains("a task for stage DECODER"), dl2.getReason());

            JobResult r1 = JobResult.parseFrom(res.await(TopicTail.key("bad-1"), 1, WAIT).get(0).value());
            assertEquals(JobState.FAILED, r1.getStatus());
            assertEquals(FailureCode.DEAD_LETTERED, r1.getError().getCode());
            assertEquals(dl1.getReason(), r1.getError().getMessage());

            // a redelivered task (same job, stage, step) is not run twice by this replica
            int runs = prior.runs.get();
            send(Topics.PRIOR, "job-b", task("job-b", StageName.PRIOR, false).toByteArray());
            send(Topics.PRIOR, "job-c", task("job-c", StageName.PRIOR, false).toByteArray());
            decoder.await(TopicTail.key("job-c"), 1, WAIT);
            assertEquals(runs + 1, prior.runs.get());
            assertEquals(1, decoder.settle(TopicTail.key("job-b"), Duration.ZERO).size());
        }
    }

    static GenerateEvent event(ConsumerRecord<String, byte[]> r) {
        try {
            return JobEvent.parseFrom(r.value()).getEvent();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Text encoder stand-in that finishes the job itself with one 8x8 image. */
    static final class FakeFinisher implements StageHandler {
        @Override
        public StageName stage() {
            return StageName.TEXT_ENCODER;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) {
            byte[] png = PngCodec.withDefaultLimits().encode(Tensor.zeros(1, 3, 8, 8), 0, Map.of());
            JobResult r = JobResult.newBuilder().setJobId(task.getJobId()).setStatus(JobState.SUCCEEDED)
                    .setSeed(task.getRequest().getGenerate().getSeed())
                    .addImages(GeneratedImage.newBuilder().setIndex(0).setWidth(8).setHeight(8)
                            .setSeed(task.getRequest().getGenerate().getSeed())
                            .setImage(ImageRef.newBuilder().setPng(ByteString.copyFrom(png))))
                    .build();
            return Outcome.done(r, StageTimings.newBuilder().setStage(StageName.TEXT_ENCODER).build());
        }
    }

    /** A stage that keeps failing fails the job after 3 attempts with an error id, not its exception. */
    @Test
    void aStageErrorReachesTheJobAsAnErrorIdNotTheException() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        StageHandler broken = new StageHandler() {
            @Override
            public StageName stage() {
                return StageName.PRIOR;
            }

            @Override
            public Outcome handle(StageTask task, TaskContext ctx) {
                runs.incrementAndGet();
                throw new IllegalStateException("cannot open /opt/secret/prior.onnx");
            }
        };
        try (WorkerStack w = worker(StageName.PRIOR, broken, "p-broken", false);
             TopicTail res = new TopicTail(settings, Topics.RESULTS)) {
            send(Topics.PRIOR, "job-broken", task("job-broken", StageName.PRIOR, false).toByteArray());
            JobResult r = JobResult.parseFrom(res.await(TopicTail.key("job-broken"), 1, WAIT).get(0).value());
            assertEquals(JobState.FAILED, r.getStatus());
            assertEquals(FailureCode.STAGE_ERROR, r.getError().getCode());
            assertTrue(r.getError().getMessage().matches("PRIOR failed \\(error id [0-9a-f]{8}\\); see the service log"),
                    r.getError().getMessage());
            assertEquals(3, runs.get(), "3 attempts");
        }
    }

    @Test
    void jsonBatchJobsGetJsonResultsAndMalformedOnesAnErrorResult() throws Exception {
        try (WorkerStack w = worker(StageName.TEXT_ENCODER, new FakeFinisher(), "t1", true);
             TopicTail res = new TopicTail(settings, Topics.RESULTS);
             TopicTail dead = new TopicTail(settings, Topics.DEAD_LETTER)) {
            send(Topics.JOBS, "json-bad", "{\"job_id\": \"json-bad\", \"prompt\": ".getBytes(StandardCharsets.UTF_8));
            send(Topics.JOBS, null, "{\"job_id\": \"json-blank\", \"prompt\": \"  \"}".getBytes(StandardCharsets.UTF_8));
            send(Topics.JOBS, "json-1", ("{\"job_id\": \"json-1\", \"prompt\": \"a red circle\", \"seed\": 1, "
                    + "\"num_images\": 1, \"size\": 128, \"colour\": \"ignored\", \"decoder\": {\"steps\": 5}}")
                    .getBytes(StandardCharsets.UTF_8));

            JsonNode ok = ResultJson.parse(res.await(TopicTail.key("json-1"), 1, WAIT).get(0).value());
            assertEquals("SUCCEEDED", ok.get("status").asText());
            assertEquals(1, ok.get("seed").asLong());
            Path png = Path.of(ok.get("images").get(0).get("path").asText());
            assertTrue(Files.size(png) > 0, png.toString());
            assertTrue(png.startsWith(results));

            JsonNode bad = ResultJson.parse(res.await(TopicTail.key("json-bad"), 1, WAIT).get(0).value());
            assertEquals("FAILED", bad.get("status").asText());
            assertEquals("DEAD_LETTERED", bad.get("error").get("code").asText());
            assertTrue(bad.get("error").get("message").asText().startsWith("malformed JSON job"), bad.toString());

            JsonNode blank = ResultJson.parse(res.await(TopicTail.key("json-blank"), 1, WAIT).get(0).value());
            assertEquals("INVALID_REQUEST", blank.get("error").get("code").asText());
            assertEquals("prompt", blank.get("error").get("field").asText());
            assertEquals(1, dead.await(TopicTail.key("json-blank"), 1, WAIT).size());
        }
    }

    @Test
    void captionJobsAreRoutedToTheCaptionerAndBadOnesFailed() throws Exception {
        byte[] png = PngCodec.withDefaultLimits().encode(Tensor.zeros(1, 3, 8, 8), 0, Map.of());
        String b64 = java.util.Base64.getEncoder().encodeToString(png);
        try (WorkerStack w = worker(StageName.TEXT_ENCODER, new FakeFinisher(), "t2", true);
             TopicTail captioner = new TopicTail(settings, Topics.CAPTIONER);
             TopicTail text = new TopicTail(settings, Topics.TEXT_ENCODER);
             TopicTail res = new TopicTail(settings, Topics.RESULTS)) {
            send(Topics.JOBS, "cap-style", ("{\"job_id\": \"cap-style\", \"type\": \"caption\", \"image\": \"" + b64
                    + "\", \"style\": \"poetic\"}").getBytes(StandardCharsets.UTF_8));
            send(Topics.JOBS, "cap-b64", "{\"job_id\": \"cap-b64\", \"type\": \"caption\", \"image\": \"%%%\"}"
                    .getBytes(StandardCharsets.UTF_8));
            send(Topics.JOBS, "cap-type", "{\"job_id\": \"cap-type\", \"type\": \"paint\", \"prompt\": \"a red circle\"}"
                    .getBytes(StandardCharsets.UTF_8));
            send(Topics.JOBS, "cap-1", ("{\"job_id\": \"cap-1\", \"type\": \"caption\", \"image\": \"" + b64
                    + "\", \"style\": \"descriptive\", \"max_tokens\": 12}").getBytes(StandardCharsets.UTF_8));

            StageTask routed = StageTask.parseFrom(captioner.await(TopicTail.key("cap-1"), 1, WAIT).get(0).value());
            assertEquals(StageName.CAPTIONER, routed.getStage());
            assertEquals(io.unclip.api.v1.CaptionStyle.DESCRIPTIVE, routed.getRequest().getCaption().getStyle());
            assertEquals(12, routed.getRequest().getCaption().getMaxTokens());
            assertEquals(ByteString.copyFrom(png), routed.getRequest().getCaption().getImage());
            assertEquals(io.unclip.api.v1.ResultFormat.JSON, routed.getRequest().getResultFormat());
            assertTrue(text.settle(TopicTail.key("cap-1"), Duration.ZERO).isEmpty(), "not run by the text encoder");
            assertTrue(res.settle(TopicTail.key("cap-1"), Duration.ofMillis(300)).isEmpty(),
                    "the result is the captioner's to write");

            JsonNode style = ResultJson.parse(res.await(TopicTail.key("cap-style"), 1, WAIT).get(0).value());
            assertEquals("style", style.get("error").get("field").asText(), style.toString());
            JsonNode b64Bad = ResultJson.parse(res.await(TopicTail.key("cap-b64"), 1, WAIT).get(0).value());
            assertEquals("image", b64Bad.get("error").get("field").asText(), b64Bad.toString());
            assertTrue(b64Bad.get("error").get("message").asText().contains("base64"), b64Bad.toString());
            JsonNode type = ResultJson.parse(res.await(TopicTail.key("cap-type"), 1, WAIT).get(0).value());
            assertEquals("type", type.get("error").get("field").asText(), type.toString());
            assertTrue(captioner.settle(r -> !"cap-1".equals(r.key()), Duration.ZERO).isEmpty(),
                    "invalid caption jobs are not routed");
        }
    }

    /** A decoder stand-in: 1000 steps of 5 ms, checking for cancellation before each. */
    static final class SlowDecoder implements StageHandler {
        final CountDownLatch started = new CountDownLatch(1);
        volatile int stepsDone;
        volatile long stoppedAt;

        @Override
        public StageName stage() {
            return StageName.DECODER;
        }

        @Override
        public Outcome handle(StageTask task, TaskContext ctx) throws Exception {
            for (int s = 0; s < 1000; s++) {
                if (ctx.cancelled()) {
                    stoppedAt = System.nanoTime();
                    throw new SamplingCancelledException(s, 1000);
                }
                started.countDown();
                Thread.sleep(5);
                stepsDone = s + 1;
                ctx.progress(s + 1, 1000, null);
            }
            throw new AssertionError("not cancelled");
        }
    }

    @Test
    void cancelStopsTheRunWithinOneStep() throws Exception {
        SlowDecoder decoder = new SlowDecoder();
        try (WorkerStack w = worker(StageName.DECODER, decoder, "d1", false);
             TopicTail ups = new TopicTail(settings, Topics.UPSAMPLER)) {
            send(Topics.DECODER, "job-x", task("job-x", StageName.DECODER, true).toByteArray());
            assertTrue(decoder.started.await(30, TimeUnit.SECONDS));
            long sent = System.nanoTime();
            JobEvent cancel = Records.event("job-x", null, 0, GenerateEvent.newBuilder()
                    .setCancelled(JobCancelled.newBuilder().setReason("client")), "test");
            ProducerRecord<String, byte[]> rec = new ProducerRecord<>(Topics.EVENTS, "job-x", cancel.toByteArray());
            RecordHeaders.put(rec.headers(), RecordHeaders.EVENT, "cancelled");
            producer.send(rec).get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (decoder.stoppedAt == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(decoder.stoppedAt > 0, "the loop stopped");
            assertTrue(decoder.stepsDone < 1000);
            assertTrue(ups.settle(TopicTail.key("job-x"), Duration.ofMillis(500)).isEmpty(), "no output after a cancel");
            System.out.printf("cancel reached the sampler %.1f ms after it was sent%n", (decoder.stoppedAt - sent) / 1e6);
        }
    }

    @Test
    void jsonJobIdRecovery() {
        assertEquals("k1", JobJson.recoverJobId("{".getBytes(StandardCharsets.UTF_8), "k1"));
        assertEquals("j-2", JobJson.recoverJobId("{\"job_id\" : \"j-2\", \"x\":".getBytes(StandardCharsets.UTF_8), null));
        assertEquals(null, JobJson.recoverJobId("{".getBytes(StandardCharsets.UTF_8), null));
    }
}
