package io.unclip.engine.schedule;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.tensor.Tensor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * One request's side of a {@link StepScheduler}: the scheduler's thread posts its steps and its
 * end here; the request's own thread {@link #await}s them and runs the listeners, so a slow
 * listener (a preview encoder, a slow client) never holds up the shared step.
 */
public final class Ticket {
    private record End(Tensor sample, RuntimeException failure) {
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    /** From the scheduler's thread: a step done. */
    public void post(StepProgress progress) {
        events.add(progress);
    }

    void complete(Tensor sample) {
        events.add(new End(sample, null));
    }

    void fail(RuntimeException failure) {
        events.add(new End(null, failure));
    }

    /** Asks the scheduler to drop this request at its next step boundary. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /**
     * Runs {@code onStep} for each step as it comes, on the calling thread, and returns the
     * sample. If the wait is interrupted or {@code onStep} throws, the request is cancelled.
     *
     * @throws SamplingCancelledException when the request was cancelled
     */
    public Tensor await(Consumer<StepProgress> onStep) {
        boolean ended = false;
        try {
            while (true) {
                Object e = events.take();
                if (e instanceof End end) {
                    ended = true;
                    if (end.failure() != null) {
                        throw end.failure();
                    }
                    return end.sample();
                }
                onStep.accept((StepProgress) e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SamplingCancelledException(0, 0);
        } finally {
            if (!ended) {
                cancel();
            }
        }
    }
}
