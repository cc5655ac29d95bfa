package io.unclip.engine.schedule;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.diffusion.SamplingState;
import io.unclip.engine.onnx.ModelInputs;
import io.unclip.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Step-level continuous batching for one diffusion model. Requests join and leave between
 * denoising steps; every step gathers the rows of all active requests (each at its own timestep,
 * with its own step count, sampler and guidance) into one model call and scatters the output
 * back to each request's {@link SamplingState}, which is the only state there is: the batch is
 * rebuilt from the states at every step.
 *
 * <p>Admission: up to {@link SchedulerConfig#maxActiveRows()} rows sample together, in model calls
 * of up to {@link SchedulerConfig#maxRows()} rows (every active request advances one step per
 * step, however many calls that takes: the requests stay in lockstep); waiting requests are
 * admitted earliest deadline first (FIFO without deadlines) as rows free up; a full queue refuses
 * new work with {@link QueueFullException}. A cancelled request leaves at the next step boundary.
 * One daemon thread per scheduler runs the steps; the requests' own threads run their listeners
 * (see {@link Ticket}). Thread-safe.
 */
public final class StepScheduler implements Batching {
    /**
     * Where the per-request work of a step runs, spread over the cores: each request's noise while
     * the model runs, and its step maths once the prediction is back. Each request's state is
     * touched by one task at a time, so its bits never depend on the others. Shared by every
     * scheduler of the process; daemon threads.
     */
    private static final ForkJoinPool SAMPLING = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    /**
     * What a request brings.
     *
     * @param conditioning its rows of the model's other inputs
     * @param sampleInput  maps its x_t rows to its rows of the model's sample input; null = as is
     * @param deadline     {@link System#nanoTime()} by which it should be done; Long.MAX_VALUE = none
     */
    public record Job(SamplingState state, ModelInputs conditioning, UnaryOperator<Tensor> sampleInput,
                      long deadline) {
    }

    private final String name;
    private final StepModel model;
    private final SchedulerConfig config;
    private final SchedulerObserver observer;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final PriorityQueue<Active> waiting;
    private final List<Active> active = new ArrayList<>(); // the stepping thread's only
    // retired requests' outcomes, told after the stats count them as retired (the stepping thread's, reused per step)
    private final List<Runnable> outcomes = new ArrayList<>();
    private final AtomicLong sequence = new AtomicLong();
    private long calls;
    private long rows;
    private long admitted;
    private long refused;
    private volatile int activeCount;
    private Thread thread;
    private boolean closed;

    public StepScheduler(String name, StepModel model, SchedulerConfig config, SchedulerObserver observer) {
        this.name = name;
        this.model = model;
        this.config = config == null ? SchedulerConfig.DEFAULT : config;
        this.observer = observer == null ? SchedulerObserver.NONE : observer;
        Comparator<Active> fifo = Comparator.comparingLong(a -> a.seq);
        this.waiting = new PriorityQueue<>(this.config.deadlines()
                ? Comparator.<Active>comparingLong(a -> a.job.deadline()).thenComparing(fifo) : fifo);
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
     * Queues a request; {@link Ticket#await} on the returned ticket gives its sample.
     *
     * @throws QueueFullException when {@link SchedulerConfig#maxQueued()} requests already wait
     */
    public Ticket submit(Job job, Ticket ticket) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(name + " scheduler is closed");
            }
            if (waiting.size() >= config.maxQueued()) {
                refused++;
                observer.refused(name);
                throw new QueueFullException(name, waiting.size());
            }
            waiting.add(new Active(job, ticket, sequence.getAndIncrement()));
            if (thread == null) {
                thread = new Thread(this::loop, "step-scheduler-" + name);
                thread.setDaemon(true);
                thread.start();
            }
            arrived.signal();
            return ticket;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SchedulerStats stats() {
        lock.lock();
        try {
            return new SchedulerStats(calls, rows, admitted, refused, activeCount, waiting.size());
        } finally {
            lock.unlock();
        }
    }

    /** Stops the stepping thread; requests still queued or running fail. */
    @Override
    public void close() {
        Thread t;
        lock.lock();
        try {
            closed = true;
            t = thread;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        try {
            while (admit()) {
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            failAll(new IllegalStateException(name + " scheduler stopped"));
        }
    }

    /** Moves waiting requests into the batch as rows allow; blocks while there is nothing to do. */
    private boolean admit() throws InterruptedException {
        lock.lock();
        try {
            while (active.isEmpty() && waiting.isEmpty() && !closed) {
                arrived.await();
            }
            if (closed) {
                return false;
            }
            if (active.isEmpty() && !config.admissionWait().isZero()) {
                long left = config.admissionWait().toNanos();
                while (left > 0 && waitingRows() < config.maxRows() && !closed) {
                    left = arrived.awaitNanos(left);
                }
            }
            int used = activeRows();
            long now = System.nanoTime();
            while (!waiting.isEmpty()) {
                Active next = waiting.peek();
                int r = next.job.state().modelRows();
                if (!active.isEmpty() && used + r > config.maxActiveRows()) {
                    break;
                }
                waiting.poll();
                active.add(next);
                used += r;
                admitted++;
                observer.admitted(name, now - next.queuedAt);
            }
            activeCount = active.size();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** One denoising step of every active request, then retires the finished and the cancelled. */
    private void step() {
        active.removeIf(a -> {
            if (a.ticket.cancelled()) {
                RuntimeException e = new SamplingCancelledException(a.job.state().stepsDone(),
                        a.job.state().totalSteps());
                outcomes.add(() -> a.ticket.fail(e));
                return true;
            }
            return false;
        });
        for (List<Active> candidates : groups()) {
            List<Active> group = new ArrayList<>(candidates.size());
            int groupRows = 0;
            for (Active a : candidates) {
                try {
                    a.begin();
                    group.add(a);
                    groupRows += a.rows();
                } catch (RuntimeException e) {
                    a.failed = e;
                }
            }
            if (group.isEmpty()) {
                continue;
            }
            // the noise of the step needs no model output: it is drawn while the model runs
            ForkJoinTask<?> noise = group.size() > 1 ? SAMPLING.submit(() -> forEach(group, Active::drawNoise)) : null;
            long start = System.nanoTime();
            Tensor out;
            try {
                out = model.predict(group, groupRows);
            } catch (RuntimeException e) {
                group.forEach(a -> a.failed = e);
                continue;
            } finally {
                if (noise != null) {
                    noise.join();
                }
            }
            long nanos = System.nanoTime() - start;
            record(groupRows, nanos);
            int perRow = out.size() / groupRows;
            if ((long) perRow * groupRows != out.size()) {
                IllegalStateException e = new IllegalStateException(name + ": model returned " + out + " for "
                        + groupRows + " rows");
                group.forEach(a -> a.failed = e);
                continue;
            }
            int offset = 0;
            for (Active a : group) {
                a.offset = offset;
                offset += a.rows() * perRow;
            }
            FloatBuffer prediction = out.buffer();
            Consumer<Active> scatter = a -> a.job.state().endStep(prediction, a.offset);
            if (group.size() > 1) {
                SAMPLING.submit(() -> forEach(group, scatter)).join();
            } else {
                forEach(group, scatter);
            }
        }
        active.removeIf(a -> {
            if (a.failed != null) {
                RuntimeException e = a.failed;
                outcomes.add(() -> a.ticket.fail(e));
                return true;
            }
            if (a.job.state().finished()) {
                Tensor sample = a.job.state().sample();
                outcomes.add(() -> a.ticket.complete(sample));
                return true;
            }
            return false;
        });
        activeCount = active.size();
        try {
            outcomes.forEach(Runnable::run);
        } finally {
            outcomes.clear();
        }
    }

    /** Runs {@code work} on each request (in parallel inside {@link #SAMPLING}); a failure fails that request only. */
    private static void forEach(List<Active> group, Consumer<Active> work) {
        group.parallelStream().forEach(a -> {
            try {
                work.accept(a);
            } catch (RuntimeException e) {
                a.failed = e;
            }
        });
    }

    /**
     * The active requests as model calls: all in one (for a scalar timestep input, one per
     * timestep), each cut into calls of at most {@code maxRows} rows, in admission order so that
     * a call's members change only as requests come and go.
     */
    private List<List<Active>> groups() {
        Map<Long, List<Active>> byTimestep = new LinkedHashMap<>();
        for (Active a : active) {
            long key = model.perRowTimesteps() ? 0 : a.job.state().modelTimestep();
            byTimestep.computeIfAbsent(key, t -> new ArrayList<>()).add(a);
        }
        List<List<Active>> calls = new ArrayList<>();
        for (List<Active> group : byTimestep.values()) {
            List<Active> call = new ArrayList<>();
            int rows = 0;
            for (Active a : group) {
                if (!call.isEmpty() && rows + a.rows() > config.maxRows()) {
                    calls.add(call);
                    call = new ArrayList<>();
                    rows = 0;
                }
                call.add(a);
                rows += a.rows();
            }
            calls.add(call);
        }
        return calls;
    }

    private void record(int callRows, long nanos) {
        lock.lock();
        try {
            calls++;
            rows += callRows;
        } finally {
            lock.unlock();
        }
        observer.modelCall(name, callRows, nanos);
    }

    private int activeRows() {
        int r = 0;
        for (Active a : active) {
            r += a.rows();
        }
        return r;
    }

    private int waitingRows() {
        int r = 0;
        for (Active a : waiting) {
            r += a.job.state().modelRows();
        }
        return r;
    }

    private void failAll(RuntimeException e) {
        lock.lock();
        try {
            active.forEach(a -> a.ticket.fail(e));
            active.clear();
            waiting.forEach(a -> a.ticket.fail(e));
            waiting.clear();
            activeCount = 0;
        } finally {
            lock.unlock();
        }
    }

    /** A request in the scheduler: its job, its ticket, and its rows of the current step. */
    private static final class Active implements StepRows {
        final Job job;
        final Ticket ticket;
        final long seq;
        final long queuedAt = System.nanoTime();
        Tensor sample;
        long timestep;
        boolean lastStep;
        int offset; // of its rows in the step's prediction
        volatile RuntimeException failed;

        Active(Job job, Ticket ticket, long seq) {
            this.job = job;
            this.ticket = ticket;
            this.seq = seq;
        }

        void drawNoise() {
            job.state().drawNoise();
        }

        void begin() {
            timestep = job.state().modelTimestep();
            lastStep = job.state().stepsDone() == job.state().totalSteps() - 1;
            Tensor x = job.state().beginStep();
            sample = job.sampleInput() == null ? x : job.sampleInput().apply(x);
        }

        @Override
        public int rows() {
            return job.state().modelRows();
        }

        @Override
        public int outputChannels() {
            return job.state().outputChannels();
        }

        @Override
        public long timestep() {
            return timestep;
        }

        @Override
        public boolean lastStep() {
            return lastStep;
        }

        @Override
        public Tensor sample() {
            return sample;
        }

        @Override
        public ModelInputs conditioning() {
            return job.conditioning();
        }
    }
}
