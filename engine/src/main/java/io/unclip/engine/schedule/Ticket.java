package io.unclip.engine.schedule;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.tensor.Tensor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One request's side of a {@link StepScheduler}: the scheduler's thread posts its steps and its
 * end here; the request's own thread {@link #await}s them and runs the listeners, so a slow
 * listener (a preview encoder, a slow client) never holds up the shared step.
 *
 * <p>A ticket is cancelled by {@link #cancel()} or by its caller's cancellation; the scheduler
 * drops it at its next step boundary, and {@link #await} stops at once, delivering no step after
 * the cancellation and reporting the last step its caller was told of.
 */
public final class Ticket {
    private record End(Tensor sample, RuntimeException failure) {
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final int totalSteps;
    private final BooleanSupplier cancellation;
    private volatile boolean cancelled;
    private int stepsSeen; // the awaiting thread's: what its caller was told

    /**
     * @param totalSteps   the request's steps, for the cancellation's "step k/n"
     * @param cancellation the caller's; polled at every step boundary, on the scheduler's thread
     *                     too (keep it cheap); null = only {@link #cancel()}
     */
    public Ticket(int totalSteps, BooleanSupplier cancellation) {
        this.totalSteps = totalSteps;
        this.cancellation = cancellation == null ? () -> false : cancellation;
    }

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
        return cancelled || cancellation.getAsBoolean();
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
                    if (end.failure() instanceof SamplingCancelledException) {
                        throw cancelledHere();
                    }
                    if (end.failure() != null) {
                        throw end.failure();
                    }
                    return end.sample();
                }
                if (cancelled()) {
                    throw cancelledHere();
                }
                StepProgress p = (StepProgress) e;
                onStep.accept(p);
                stepsSeen = p.step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw cancelledHere();
        } finally {
            if (!ended) {
                cancel();
            }
        }
    }

    private SamplingCancelledException cancelledHere() {
        return new SamplingCancelledException(stepsSeen, totalSteps);
    }
}
