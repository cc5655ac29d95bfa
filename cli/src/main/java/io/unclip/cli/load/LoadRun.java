package io.unclip.cli.load;

import io.unclip.engine.pipeline.GenerationRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Drives a list of requests at a {@link Target} and records when each was submitted, showed its
 * first preview and finished: a closed loop (N requests always in flight), an open loop (Poisson
 * arrivals at a rate, whatever the target does), or one at a time.
 */
public final class LoadRun {
    /** Where the requests go: the embedded cascade, or a gateway. */
    @FunctionalInterface
    public interface Target {
        /**
         * Runs one request to its end, calling {@code previewed} as each preview arrives.
         *
         * @throws Refused when the target is at capacity
         */
        Images generate(GenerationRequest request, Runnable previewed, BooleanSupplier cancelled) throws Exception;
    }

    /** A finished request's images: how many, and each as PNG bytes, made only when asked for. */
    public interface Images {
        int count();

        byte[] png(int index) throws IOException;
    }

    /** The target turned the request away: a full queue, not a failure of the request. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    /** Called on the request's thread as each request ends (e.g. to save its images); null images on failure. */
    @FunctionalInterface
    public interface Finished {
        void accept(Sample sample, Images images);
    }

    /** One request's record; times are {@link System#nanoTime()}, -1 where it did not happen. */
    public record Sample(int index, int images, long submitted, long firstPreview, long finished, String error,
                         boolean refused) {
        public boolean ok() {
            return error == null;
        }

        public long latency() {
            return finished - submitted;
        }

        public long timeToFirstPreview() {
            return firstPreview < 0 ? -1 : firstPreview - submitted;
        }
    }

    private final Target target;
    private final List<GenerationRequest> requests;
    private final Finished finished;
    private final BooleanSupplier stop;

    /**
     * @param finished may be null
     * @param stop     polled between requests and passed to each as its cancellation (Ctrl-C)
     */
    public LoadRun(Target target, List<GenerationRequest> requests, Finished finished, BooleanSupplier stop) {
        this.target = target;
        this.requests = List.copyOf(requests);
        this.finished = finished == null ? (s, r) -> { } : finished;
        this.stop = stop == null ? () -> false : stop;
    }

    /** Closed loop: {@code concurrency} clients, each sending its next request when its last ends. */
    public List<Sample> closedLoop(int concurrency) throws InterruptedException {
        Sample[] out = new Sample[requests.size()];
        AtomicInteger next = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < Math.min(concurrency, requests.size()); c++) {
            Thread t = new Thread(() -> {
                int i;
                while (!stop.getAsBoolean() && (i = next.getAndIncrement()) < requests.size()) {
                    out[i] = one(i, System.nanoTime());
                }
            }, "load-client-" + c);
            t.setDaemon(true);
            clients.add(t);
            t.start();
        }
        for (Thread t : clients) {
            t.join();
        }
        return done(out);
    }

    /**
     * Open loop: request i is sent at {@code arrivals[i]} nanoseconds after the start, on its own
     * thread, however many are in flight. Its latency counts from that planned time, so a late
     * send is charged to the latency rather than hidden.
     */
    public List<Sample> openLoop(long[] arrivals) throws InterruptedException {
        Sample[] out = new Sample[requests.size()];
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "load-request");
            t.setDaemon(true);
            return t;
        });
        try {
            long start = System.nanoTime();
            for (int i = 0; i < requests.size() && !stop.getAsBoolean(); i++) {
                long at = start + arrivals[i];
                long wait;
                while ((wait = at - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                int index = i;
                pool.execute(() -> out[index] = one(index, at));
            }
        } finally {
            pool.shutdown();
            while (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
                // a request still running: its target's own timeouts end it
            }
        }
        return done(out);
    }

    /** Poisson arrivals: exponential gaps of mean 1/rate, from {@code seed}; offsets in nanoseconds. */
    public static long[] poissonArrivals(int n, double ratePerSecond, long seed) {
        Random rnd = new Random(seed);
        long[] at = new long[n];
        double t = 0;
        for (int i = 0; i < n; i++) {
            at[i] = Math.round(t * 1e9);
            t += -Math.log(1 - rnd.nextDouble()) / ratePerSecond;
        }
        return at;
    }

    private Sample one(int index, long submitted) {
        GenerationRequest request = requests.get(index);
        long[] firstPreview = {-1};
        Runnable previewed = () -> {
            if (firstPreview[0] < 0) {
                firstPreview[0] = System.nanoTime();
            }
        };
        Images result = null;
        String error = null;
        boolean refused = false;
        try {
            result = target.generate(request, previewed, stop);
        } catch (Exception e) {
            refused = e instanceof Refused;
            error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        Sample s = new Sample(index, result == null ? 0 : result.count(), submitted, firstPreview[0],
                System.nanoTime(), error, refused);
        finished.accept(s, result);
        return s;
    }

    /** The samples of the requests that were sent (all of them unless stopped). */
    private static List<Sample> done(Sample[] out) {
        return Arrays.stream(out).filter(s -> s != null).toList();
    }
}
