package io.unclip.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.StageName;
import io.unclip.service.record.Records;

/** The job table the gateway keeps from the events, results and dead letters it reads. */
class JobHubTest {
    @Test
    void aRefusedResubmissionUnderTheIdDoesNotEndTheJob() {
        JobHub hub = new JobHub();
        hub.accepted("job-1", "");
        JobResult refused = Records.failedResult("job-1", Records.failure(FailureCode.ALREADY_EXISTS,
                "job_id: job-1 is already a job with another request", StageName.TEXT_ENCODER, "job_id", false), null);
        hub.onResult(refused);
        hub.onDeadLetter(DeadLetter.newBuilder().setJobId("job-1").setCode(FailureCode.ALREADY_EXISTS).build());
        assertEquals(JobState.QUEUED, hub.find("job-1").orElseThrow().getState());

        hub.onResult(JobResult.newBuilder().setJobId("job-1").setStatus(JobState.SUCCEEDED).build());
        assertEquals(JobState.SUCCEEDED, hub.find("job-1").orElseThrow().getState());
    }
}
