package io.unclip.gateway;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import io.unclip.api.v1.JobStatus;

/**
 * The jobs this gateway knows, by id. Today nothing creates jobs (the distributed pipeline is
 * not started), so every lookup misses; the Kafka consumers of unclip.events and unclip.results
 * will keep it up to date.
 */
@ApplicationScoped
public class JobRegistry {
    private final Map<String, JobStatus> jobs = new ConcurrentHashMap<>();

    public Optional<JobStatus> find(String jobId) {
        return Optional.ofNullable(jobs.get(jobId));
    }

    public void put(JobStatus status) {
        jobs.put(status.getJobId(), status);
    }
}
