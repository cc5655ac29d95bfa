package io.unclip.engine.schedule;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToIntFunction;

/**
 * Dynamic batching for a model called once per batch of independent rows: the text encoder's
 * prompts, the captioner's next token of every caption in flight. Work that arrives while a call
 * runs waits and goes into the next call together, up to {@link SchedulerConfig#maxRows()} rows
 * (one piece of work's rows stay in one call; a piece with more runs alone). A captioner that
 * submits each token's call as the last returns is thereby batched continuously: captions at
 * different token positions share every call.
 *
 * <p>No thread of its own: the caller that finds the model idle makes the call for everything
 * waiting (leader and followers), so work that arrives alone pays no hand-off. FIFO; a full
 * queue ({@link SchedulerConfig#maxQueued()} pieces waiting) refuses with
 * {@link QueueFullException}. Thread-safe.
 *
 * @param <I> one piece of work (one request's rows)
 * @param <O> its output
 */
public final class CallBatcher<I, O> implements Batching {
    /** The model: one output per piece of work, in order, from one call over all their rows. */
    @FunctionalInterface
    public interface Model<I, O> {
        List<O> call(List<I> work);
    }

    private final String name;
    private final Model<I, O> model;
    private final ToIntFunction<I> rowsOf;
    private final SchedulerConfig config;
    private final SchedulerObserver observer;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition finished = lock.newCondition();
    private final ArrayDeque<Pending<I, O>> waiting = new ArrayDeque<>();
    private boolean calling;
    private int callingPieces;
    private long calls;
    private long rows;
    private long admitted;
    private long refused;

    public CallBatcher(String name, Model<I, O> model, ToIntFunction<I> rowsOf, SchedulerConfig config,
                       SchedulerObserver observer) {
        this.name = name;
        this.model = model;
        this.rowsOf = rowsOf;
        this.config = config == null ? SchedulerConfig.DEFAULT : config;
        this.observer = observer == null ? SchedulerObserver.NONE : observer;
        this.observer.created(name, this::stats);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    /**
     * Runs {@code work} in the next model call, with whatever else is waiting then.
     *
     * @throws QueueFullException when {@link SchedulerConfig#maxQueued()} pieces already wait
     * @throws RuntimeException   what the model threw for the call this work was in
     */
    public O call(I work) {
        Pending<I, O> mine = new Pending<>(work, rowsOf.applyAsInt(work), System.nanoTime());
        boolean interrupted = false;
        lock.lock();
        try {
            if (calling && waiting.size() >= config.maxQueued()) {
                refused++;
                observer.refused(name);
                throw new QueueFullException(name, waiting.size());
            }
            waiting.add(mine);
            while (!mine.done) {
                if (calling) {
                    try {
                        finished.await();
                    } catch (InterruptedException e) {
                        interrupted = true; // the call is short; the interrupt is kept for the caller
                    }
                    continue;
                }
                List<Pending<I, O>> batch = take();
                calling = true;
                callingPieces = batch.size();
                lock.unlock();
                try {
                    run(batch);
                } finally {
                    lock.lock();
                    calling = false;
                    callingPieces = 0;
                    finished.signalAll();
                }
            }
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (mine.error != null) {
            throw mine.error;
        }
        return mine.output;
    }

    @Override
    public SchedulerStats stats() {
        lock.lock();
        try {
            return new SchedulerStats(calls, rows, admitted, refused, callingPieces, waiting.size());
        } finally {
            lock.unlock();
        }
    }

    /** Nothing to stop: the batcher has no thread. */
    @Override
    public void close() {
    }

    /** The oldest waiting pieces whose rows fit one call (at least one). Under the lock. */
    private List<Pending<I, O>> take() {
        List<Pending<I, O>> batch = new ArrayList<>();
        int total = 0;
        long now = System.nanoTime();
        while (!waiting.isEmpty() && (batch.isEmpty() || total + waiting.peek().rows <= config.maxRows())) {
            Pending<I, O> p = waiting.poll();
            total += p.rows;
            batch.add(p);
            admitted++;
            observer.admitted(name, now - p.queuedAt);
        }
        calls++;
        rows += total;
        return batch;
    }

    /** One model call for the batch; every piece gets its output or the call's failure. */
    private void run(List<Pending<I, O>> batch) {
        List<I> work = new ArrayList<>(batch.size());
        int total = 0;
        for (Pending<I, O> p : batch) {
            work.add(p.work);
            total += p.rows;
        }
        long start = System.nanoTime();
        try {
            List<O> out = model.call(work);
            if (out.size() != batch.size()) {
                throw new IllegalStateException(name + ": the model gave " + out.size() + " outputs for "
                        + batch.size() + " pieces of work");
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).output = out.get(i);
            }
        } catch (RuntimeException e) {
            batch.forEach(p -> p.error = e);
        } catch (Error e) {
            batch.forEach(p -> p.error = new IllegalStateException(name + ": the model call failed: " + e, e));
            throw e;
        } finally {
            observer.modelCall(name, total, System.nanoTime() - start);
            batch.forEach(p -> p.done = true); // read under the lock, after the finally above re-takes it
        }
    }

    private static final class Pending<I, O> {
        final I work;
        final int rows;
        final long queuedAt;
        O output;
        RuntimeException error;
        boolean done;

        Pending(I work, int rows, long queuedAt) {
            this.work = work;
            this.rows = rows;
            this.queuedAt = queuedAt;
        }
    }
}
