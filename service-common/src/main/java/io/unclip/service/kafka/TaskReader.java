package io.unclip.service.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.google.protobuf.InvalidProtocolBufferException;

import io.unclip.api.v1.JobRequest;
import io.unclip.api.v1.ResultFormat;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTask;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.codec.JobJson;
import io.unclip.service.record.Records;
import io.unclip.service.record.TaskRejectedException;
import io.unclip.service.stage.ImageRequestValidator;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.Limits;

/**
 * Turns a consumed record into the task to run, or rejects it ({@link TaskRejectedException}:
 * dead-lettered, and the job failed when its id is known).
 */
@FunctionalInterface
public interface TaskReader {
    StageTask read(ConsumerRecord<String, byte[]> rec);

    /** A StageTask (protobuf) for {@code stage}, from a stage topic. */
    static TaskReader stageTasks(StageName stage) {
        ImageRequestValidator validator = new ImageRequestValidator();
        return rec -> {
            String keyId = JobJson.recoverJobId(null, rec.key());
            if (rec.value() == null) {
                throw TaskRejectedException.unreadable("empty record", keyId);
            }
            StageTask t;
            try {
                t = StageTask.parseFrom(rec.value());
            } catch (InvalidProtocolBufferException e) {
                throw TaskRejectedException.unreadable("unparseable StageTask: " + e.getMessage(), keyId);
            }
            String jobId = t.getJobId();
            try {
                Checks.jobId("job_id", jobId);
            } catch (InvalidRequestException e) {
                throw TaskRejectedException.unreadable(e.getMessage(), keyId);
            }
            requireKeyIsJobId(rec, jobId);
            if (t.getStage() != stage) {
                throw TaskRejectedException.unreadable("a task for stage " + t.getStage() + " on " + rec.topic()
                        + " (this worker runs " + stage + ")", jobId);
            }
            if (Integer.toUnsignedLong(t.getCascadeStep()) >= Limits.MAX_CASCADE_STEPS
                    || (stage != StageName.UPSAMPLER && t.getCascadeStep() != 0)) {
                throw TaskRejectedException.unreadable("cascade_step " + Integer.toUnsignedLong(t.getCascadeStep())
                        + " is out of range for " + stage, jobId);
            }
            validateRequest(validator, t.getRequest(), t.hasRequest(), jobId);
            return t;
        };
    }

    /**
     * A job from unclip.jobs (protobuf JobRequest or a JSON batch job, see {@link JobJson}) as its
     * first task: the text encoder's, or the captioner's for a caption job (the worker that reads
     * unclip.jobs forwards it).
     */
    static TaskReader jobs() {
        ImageRequestValidator validator = new ImageRequestValidator();
        return rec -> {
            String keyId = JobJson.recoverJobId(null, rec.key());
            if (rec.value() == null || rec.value().length == 0) {
                throw TaskRejectedException.unreadable("empty job record", keyId);
            }
            JobRequest job;
            if (JobJson.looksLikeJson(rec.value())) {
                job = JobJson.parse(rec.value(), rec.key());
            } else {
                try {
                    job = JobRequest.parseFrom(rec.value());
                } catch (InvalidProtocolBufferException e) {
                    throw TaskRejectedException.unreadable("unparseable JobRequest: " + e.getMessage(), keyId);
                }
                try {
                    Checks.jobId("job_id", job.getJobId());
                } catch (InvalidRequestException e) {
                    throw TaskRejectedException.unreadable(e.getMessage(), keyId);
                }
                if (RecordHeaders.resultFormat(rec.headers()) == ResultFormat.JSON) {
                    job = job.toBuilder().setResultFormat(ResultFormat.JSON).build();
                }
            }
            requireKeyIsJobId(rec, job.getJobId());
            job = withSeed(job); // same rule as JSON jobs: a redelivered job must not draw another seed
            validateRequest(validator, job, true, job.getJobId());
            if (!job.hasSubmittedAt()) {
                job = job.toBuilder().setSubmittedAt(Records.timestamp(java.time.Instant.ofEpochMilli(rec.timestamp()))).build();
            }
            return StageTask.newBuilder()
                    .setJobId(job.getJobId())
                    .setStage(job.hasCaption() ? StageName.CAPTIONER : StageName.TEXT_ENCODER)
                    .setAttempt(1)
                    .setRequest(job)
                    .setCreatedAt(Records.now())
                    .build();
        };
    }

    /**
     * A record key is optional, but when present it must be the job id: records are partitioned
     * (and duplicates found) by key, results written under the body's id. The job is failed under
     * the body's id, which the caller has checked.
     */
    private static void requireKeyIsJobId(ConsumerRecord<String, byte[]> rec, String jobId) {
        if (rec.key() != null && !rec.key().isEmpty() && !rec.key().equals(jobId)) {
            throw TaskRejectedException.invalid("job_id", "job_id: '" + jobId + "' differs from the record key '"
                    + Records.cut(rec.key(), Limits.MAX_ID_CHARS + 3) + "' (the key is optional; when set it must be"
                    + " the job id)", jobId);
        }
    }

    /** The job with its seed resolved: an absent one derived from the job id. */
    private static JobRequest withSeed(JobRequest job) {
        long seed = JobJson.derivedSeed(job.getJobId());
        return switch (job.getRequestCase()) {
            case GENERATE -> job.getGenerate().hasSeed() ? job
                    : job.toBuilder().setGenerate(job.getGenerate().toBuilder().setSeed(seed)).build();
            case VARIATIONS -> job.getVariations().hasSeed() ? job
                    : job.toBuilder().setVariations(job.getVariations().toBuilder().setSeed(seed)).build();
            case INTERPOLATE -> job.getInterpolate().hasSeed() ? job
                    : job.toBuilder().setInterpolate(job.getInterpolate().toBuilder().setSeed(seed)).build();
            default -> job;
        };
    }

    private static void validateRequest(ImageRequestValidator validator, JobRequest r, boolean present, String jobId) {
        if (!present) {
            throw TaskRejectedException.unreadable("the task has no request", jobId);
        }
        if (!r.getJobId().equals(jobId)) {
            throw TaskRejectedException.unreadable("request.job_id '" + r.getJobId() + "' differs from the task's '"
                    + jobId + "'", jobId);
        }
        try {
            switch (r.getRequestCase()) {
                case GENERATE -> {
                    validator.validate(r.getGenerate());
                    requireSeed(r.getGenerate().hasSeed(), jobId);
                }
                case VARIATIONS -> {
                    validator.validate(r.getVariations());
                    requireSeed(r.getVariations().hasSeed(), jobId);
                }
                case INTERPOLATE -> {
                    validator.validate(r.getInterpolate());
                    requireSeed(r.getInterpolate().hasSeed(), jobId);
                }
                case CAPTION -> validator.validate(r.getCaption());
                default -> throw Checks.invalid("request", "one of generate, variations, interpolate or caption is"
                        + " required");
            }
        } catch (InvalidRequestException e) {
            throw TaskRejectedException.invalid(e.field(), e.getMessage(), jobId);
        }
    }

    private static void requireSeed(boolean present, String jobId) {
        if (!present) {
            throw TaskRejectedException.invalid("seed", "seed: must be resolved before the job is queued", jobId);
        }
    }
}
