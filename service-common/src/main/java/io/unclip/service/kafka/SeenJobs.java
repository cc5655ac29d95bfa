package io.unclip.service.kafka;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import io.unclip.api.v1.JobRequest;

/**
 * The requests a replica has seen, by job: a second submission of a job id with another request
 * is a conflict (rejected, ALREADY_EXISTS), one with the same request a duplicate (dropped, as a
 * redelivery is). Requests are compared by a digest of their canonical form: the JobRequest
 * without what differs between two submissions of the same work (submission time, submitter,
 * deadline, whether to stream progress).
 *
 * <p>Per replica and bounded (the latest {@value #REMEMBERED} jobs), like the worker's record of
 * the tasks it finished: records are keyed by job id, so every submission of an id lands on the
 * same partition, hence on the one replica of the stage that owns it. A conflict is missed when
 * that replica restarted, the partition moved, or more than {@value #REMEMBERED} jobs came in
 * between.
 */
final class SeenJobs {
    static final int REMEMBERED = 10_000;

    private final Map<String, String> digests = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * Remembers {@code request} under {@code key} (a job, or a job's stage task) unless a request
     * was seen under it before.
     *
     * @return the digest of the first request seen under {@code key} when it differs from this
     *         one's; null for a first or identical request
     */
    synchronized String conflict(String key, JobRequest request) {
        String d = digest(request);
        String first = digests.putIfAbsent(key, d);
        return first != null && !first.equals(d) ? first : null;
    }

    /** The first 12 bytes of SHA-256 of the request's canonical form, in hex. */
    static String digest(JobRequest request) {
        byte[] canonical = request.toBuilder().clearSubmittedAt().clearSubmitter().clearDeadline().clearStreamProgress()
                .build().toByteArray();
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical);
            return HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
