package io.unclip.cli.load;

/**
 * What one-at-a-time serving gives for the load's own arrivals: one server, first come first
 * served, each request taking the service time it took when run alone. Replaying the arrivals
 * makes the latencies comparable (a request run alone waits for nobody; under load it queues).
 */
public final class FifoBaseline {
    private FifoBaseline() {
    }

    /** Latencies (ns) of a closed loop of {@code clients}: request i is sent when request i - clients ends. */
    public static long[] closedLoop(long[] service, int clients) {
        long[] finish = new long[service.length];
        long[] latency = new long[service.length];
        long free = 0;
        for (int i = 0; i < service.length; i++) {
            long arrival = i < clients ? 0 : finish[i - clients];
            finish[i] = Math.max(arrival, free) + service[i];
            free = finish[i];
            latency[i] = finish[i] - arrival;
        }
        return latency;
    }

    /** Latencies (ns) of arrivals at fixed offsets (ns), served in arrival order. */
    public static long[] openLoop(long[] service, long[] arrivals) {
        long[] latency = new long[service.length];
        long free = 0;
        for (int i = 0; i < service.length; i++) {
            long finish = Math.max(arrivals[i], free) + service[i];
            free = finish;
            latency[i] = finish - arrivals[i];
        }
        return latency;
    }
}
