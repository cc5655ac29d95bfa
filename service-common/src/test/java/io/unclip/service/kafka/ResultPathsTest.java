package io.unclip.service.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.service.record.TaskRejectedException;

/**
 * No job id can place a result image outside the result store: every Kafka door rejects ids
 * outside the id grammar, and the result store refuses any path that leaves its directory.
 */
class ResultPathsTest {
    static final List<String> ESCAPES = List.of("..", ".", "../../tmp/x");

    @TempDir
    Path tmp;

    static JobResult withImage(String jobId) {
        return JobResult.newBuilder().setJobId(jobId).setStatus(JobState.SUCCEEDED)
                .addImages(GeneratedImage.newBuilder().setIndex(0).setImage(ImageRef.newBuilder()
                        .setPng(ByteString.copyFromUtf8("not really a png"))))
                .build();
    }

    @Test
    void theResultStoreRefusesPathsOutsideIt() throws Exception {
        Path dir = tmp.resolve("a/b/results");
        ResultPublisher store = new ResultPublisher(null, dir);
        for (String id : ESCAPES) {
            assertThrows(IllegalArgumentException.class, () -> store.writeImages(withImage(id)), id);
        }
        try (Stream<Path> all = Files.walk(tmp)) {
            assertEquals(List.of(), all.filter(Files::isRegularFile).toList(), "nothing written");
        }
        List<Path> ok = store.writeImages(withImage("fine-1.v2"));
        assertEquals(List.of(dir.toAbsolutePath().resolve("fine-1.v2/0.png")), ok);
        assertTrue(Files.size(ok.get(0)) > 0);
    }

    static TaskRejectedException rejected(TaskReader reader, String topic, String key, byte[] value) {
        return assertThrows(TaskRejectedException.class,
                () -> reader.read(new ConsumerRecord<>(topic, 0, 0L, key, value)), new String(value, StandardCharsets.UTF_8));
    }

    @Test
    void everyKafkaDoorRejectsIdsThatCouldEscape() {
        TaskReader jobs = TaskReader.jobs();
        TaskReader stage = TaskReader.stageTasks(StageName.PRIOR);
        for (String id : ESCAPES) {
            byte[] json = ("{\"job_id\": \"" + id + "\", \"prompt\": \"a red circle\"}").getBytes(StandardCharsets.UTF_8);
            TaskRejectedException e = rejected(jobs, Topics.JOBS, null, json);
            assertEquals("job_id", e.field(), e.getMessage());
            assertNull(e.jobId(), "no failed result under " + id);

            JobRequest pb = JobRequest.newBuilder().setJobId(id)
                    .setGenerate(GenerateRequest.newBuilder().setPrompt("a red circle").setSeed(1)).build();
            assertNull(rejected(jobs, Topics.JOBS, null, pb.toByteArray()).jobId());
            assertNull(rejected(jobs, Topics.JOBS, id, pb.toByteArray()).jobId(), "an escaping key is no job id either");

            StageTask t = StageWorkerTest.task(id, StageName.PRIOR, false);
            assertNull(rejected(stage, Topics.PRIOR, null, t.toByteArray()).jobId());
            StageTask inner = StageWorkerTest.task("fine-2", StageName.PRIOR, false).toBuilder()
                    .setRequest(t.getRequest()).build();
            rejected(stage, Topics.PRIOR, "fine-2", inner.toByteArray());
        }
        assertEquals("fine-3", jobs.read(new ConsumerRecord<>(Topics.JOBS, 0, 0L, "fine-3",
                "{\"job_id\": \"fine-3\", \"prompt\": \"a red circle\"}".getBytes(StandardCharsets.UTF_8))).getJobId());
    }
}
