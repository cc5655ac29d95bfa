package io.unclip.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.schedule.Requests.Call;
import io.unclip.engine.schedule.Requests.Spec;
import io.unclip.engine.schedule.Requests.ToyModel;
import io.unclip.engine.tensor.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StepSchedulerTest {
    private static final double NONE = Double.NaN;

    private static CompletableFuture<Tensor> start(StepScheduler s, Spec spec, Ticket ticket) {
        s.submit(spec.job(), ticket);
        return CompletableFuture.supplyAsync(() -> ticket.await(p -> { }));
    }

    private static CompletableFuture<Tensor> start(StepScheduler s, Spec spec) {
        return start(s, spec, new Ticket(0, null));
    }

    private static Tensor get(CompletableFuture<Tensor> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    @Test
    void requestsJoinAndLeaveBetweenSteps() throws Exception {
        ToyModel model = new ToyModel(true, 0);
        try (StepScheduler s = new StepScheduler("toy", model, SchedulerConfig.DEFAULT, null)) {
            Spec a = new Spec("10", 0, NONE, 1, 1, 0.1f);        // ddpm, 10 steps, no guidance: 1 row
            Spec b = new Spec("ddim5", 0.5, 3.0, 1, 2, 0.2f);     // ddim, 5 steps, guided: 2 rows
            Spec c = new Spec("3", 0, 2.0, 1, 3, 0.3f);           // ddpm, 3 steps, guided at another scale
            CompletableFuture<Tensor> fa = start(s, a);
            waitActive(s, 1); // a's first call is held: b and c join from the second step
            CompletableFuture<Tensor> fb = start(s, b);
            CompletableFuture<Tensor> fc = start(s, c);
            waitQueued(s, 2);
            model.release.countDown();
            assertArrayEquals(a.alone().toArray(), get(fa).toArray());
            assertArrayEquals(b.alone().toArray(), get(fb).toArray());
            assertArrayEquals(c.alone().toArray(), get(fc).toArray());

            List<Integer> rows = model.calls.stream().map(Call::rows).collect(Collectors.toList());
            assertEquals(List.of(1, 5, 5, 5, 3, 3, 1, 1, 1, 1), rows);
            Call second = model.calls.get(1);
            assertEquals(List.of(0.1f, 0.2f, 0.3f), second.conds(), "arrival order");
            assertEquals(3, second.timesteps().stream().distinct().count(), "each request at its own timestep: "
                    + second.timesteps());
            SchedulerStats stats = s.stats();
            assertEquals(10, stats.modelCalls());
            assertEquals(26, stats.modelRows());
            assertEquals(2.6, stats.meanRows(), 1e-9);
        }
    }

    @Test
    void maxActiveRowsHoldsBackWhatDoesNotFit() throws Exception {
        ToyModel model = new ToyModel(true, 0);
        try (StepScheduler s = new StepScheduler("toy", model, SchedulerConfig.DEFAULT.withMaxActiveRows(3), null)) {
            Spec a = new Spec("4", 0, NONE, 1, 1, 0.1f);
            Spec b = new Spec("2", 0, 3.0, 1, 2, 0.2f);
            Spec c = new Spec("2", 0, 3.0, 1, 3, 0.3f);
            CompletableFuture<Tensor> fa = start(s, a);
            waitActive(s, 1);
            CompletableFuture<Tensor> fb = start(s, b);
            CompletableFuture<Tensor> fc = start(s, c);
            waitQueued(s, 2);
            model.release.countDown();
            get(fa);
            get(fb);
            get(fc);
            List<Integer> rows = model.calls.stream().map(Call::rows).collect(Collectors.toList());
            // a alone; a + b (3 rows: c's 2 more would not fit); c once b has left
            assertEquals(List.of(1, 3, 3, 3, 2), rows);
            assertArrayEquals(c.alone().toArray(), get(fc).toArray());
        }
    }

    @Test
    void aStepOfMoreRowsThanOneCallTakesSeveralCallsAndKeepsTheRequestsInStep() throws Exception {
        ToyModel model = new ToyModel(true, 0);
        try (StepScheduler s = new StepScheduler("toy", model, SchedulerConfig.DEFAULT.withMaxRows(3), null)) {
            Spec a = new Spec("4", 0, NONE, 1, 1, 0.1f);
            Spec b = new Spec("2", 0, 3.0, 1, 2, 0.2f);
            Spec c = new Spec("2", 0, 3.0, 1, 3, 0.3f);
            CompletableFuture<Tensor> fa = start(s, a);
            waitActive(s, 1);
            CompletableFuture<Tensor> fb = start(s, b);
            CompletableFuture<Tensor> fc = start(s, c);
            waitQueued(s, 2);
            model.release.countDown();
            List<Integer> rows;
            assertArrayEquals(a.alone().toArray(), get(fa).toArray());
            assertArrayEquals(b.alone().toArray(), get(fb).toArray());
            assertArrayEquals(c.alone().toArray(), get(fc).toArray());
            rows = model.calls.stream().map(Call::rows).collect(Collectors.toList());
            // a alone; then each step a + b in one call (3 rows), c in a second; a alone again
            assertEquals(List.of(1, 3, 2, 3, 2, 1), rows);
        }
    }

    @Test
    void aCancelledRequestLeavesAtTheNextStepAndDisturbsNoOther() throws Exception {
        ToyModel model = new ToyModel(true, 0);
        Ticket bt = new Ticket(0, null);
        SchedulerObserver cancelAfterTwo = new SchedulerObserver() {
            @Override
            public void modelCall(String scheduler, int rows, long nanos) {
                if (model.calls.size() == 2) {
                    bt.cancel(); // raised between steps 2 and 3, on the scheduler's thread
                }
            }
        };
        try (StepScheduler s = new StepScheduler("toy", model, SchedulerConfig.DEFAULT, cancelAfterTwo)) {
            Spec a = new Spec("8", 0, 3.0, 2, 1, 0.1f);
            Spec b = new Spec("8", 0, 3.0, 1, 2, 0.2f);
            CompletableFuture<Tensor> fa = start(s, a);
            waitActive(s, 1); // a's first call is held: b joins at the second (else both could be in the first)
            CompletableFuture<Tensor> fb = start(s, b, bt);
            waitQueued(s, 1);
            model.release.countDown();
            Exception e = assertThrows(Exception.class, () -> get(fb));
            SamplingCancelledException cancelled = (SamplingCancelledException) e.getCause();
            assertTrue(cancelled.completedSteps() <= 1, "joined at the second call, cancelled after it: told of "
                    + cancelled.completedSteps() + " steps");
            assertArrayEquals(a.alone().toArray(), get(fa).toArray());
            List<Integer> rows = model.calls.stream().map(Call::rows).collect(Collectors.toList());
            assertEquals(List.of(4, 6, 4, 4, 4, 4, 4, 4), rows, "b's rows gone from the third step");
        }
    }

    @Test
    void aFullQueueRefusesNewWork() throws Exception {
        ToyModel model = new ToyModel(true, 0);
        try (StepScheduler s = new StepScheduler("toy", model, SchedulerConfig.DEFAULT.withMaxActiveRows(1)
                .withMaxQueued(1), null)) {
            Spec a = new Spec("2", 0, NONE, 1, 1, 0.1f);
            CompletableFuture<Tensor> fa = start(s, a);
            waitActive(s, 1);
            CompletableFuture<Tensor> fb = start(s, new Spec("2", 0, NONE, 1, 2, 0.2f)); // waits: a fills the rows
            waitQueued(s, 1);
            QueueFullException full = assertThrows(QueueFullException.class,
                    () -> s.submit(new Spec("2", 0, NONE, 1, 3, 0.3f).job(), new Ticket(0, null)));
            assertTrue(full.getMessage().contains("toy is at capacity (1 requests waiting)"), full.getMessage());
            assertEquals(1, s.stats().refused());
            model.release.countDown();
            get(fa);
            get(fb);
            start(s, new Spec("2", 0, NONE, 1, 4, 0.4f)).get(20, TimeUnit.SECONDS); // room again
        }
    }

    @Test
    void earliestDeadlineIsAdmittedFirstAndFifoWithout() throws Exception {
        for (boolean edf : new boolean[] {true, false}) {
            ToyModel model = new ToyModel(true, 0);
            try (StepScheduler s = new StepScheduler("toy", model, SchedulerConfig.DEFAULT.withMaxActiveRows(1)
                    .withDeadlines(edf), null)) {
                CompletableFuture<Tensor> first = start(s, new Spec("1", 0, NONE, 1, 1, 0.1f));
                waitActive(s, 1);
                long now = System.nanoTime();
                List<CompletableFuture<Tensor>> rest = new ArrayList<>();
                float[] conds = {0.2f, 0.3f, 0.4f};
                long[] deadlines = {now + 9_000_000_000L, now + 1_000_000_000L, Long.MAX_VALUE};
                for (int i = 0; i < 3; i++) {
                    Spec spec = new Spec("1", 0, NONE, 1, 2 + i, conds[i]);
                    Ticket t = new Ticket(0, null);
                    s.submit(new StepScheduler.Job(spec.state(), spec.conditioning(), null, deadlines[i]), t);
                    rest.add(CompletableFuture.supplyAsync(() -> t.await(p -> { })));
                }
                model.release.countDown();
                get(first);
                for (CompletableFuture<Tensor> f : rest) {
                    get(f);
                }
                List<Float> order = model.calls.stream().map(c -> c.conds().get(0)).collect(Collectors.toList());
                assertEquals(edf ? List.of(0.1f, 0.3f, 0.2f, 0.4f) : List.of(0.1f, 0.2f, 0.3f, 0.4f), order,
                        edf ? "earliest deadline first, none last" : "fifo");
            }
        }
    }

    @Test
    void anAdmissionWaitGathersRequestsForTheFirstStep() throws Exception {
        ToyModel model = new ToyModel(false, 0);
        try (StepScheduler s = new StepScheduler("toy", model, SchedulerConfig.DEFAULT.withMaxRows(2)
                .withAdmissionWait(Duration.ofSeconds(5)), null)) {
            CompletableFuture<Tensor> fa = start(s, new Spec("2", 0, NONE, 1, 1, 0.1f));
            Thread.sleep(50);
            CompletableFuture<Tensor> fb = start(s, new Spec("2", 0, NONE, 1, 2, 0.2f)); // 2 rows: no more wait
            get(fa);
            get(fb);
            assertEquals(List.of(2, 2), model.calls.stream().map(Call::rows).collect(Collectors.toList()));
        }
    }

    @Test
    void aFailingModelCallFailsItsRequestsOnly() throws Exception {
        StepModel broken = (batch, rows) -> {
            throw new IllegalStateException("device lost");
        };
        try (StepScheduler s = new StepScheduler("toy", broken, SchedulerConfig.DEFAULT, null)) {
            Exception e = assertThrows(Exception.class, () -> get(start(s, new Spec("2", 0, NONE, 1, 1, 0.1f))));
            assertEquals("device lost", e.getCause().getMessage());
            assertEquals(0, s.stats().active());
        }
    }

    /** Once a request is active the scheduler thread is in (or about to make) its held first call. */
    static void waitActive(StepScheduler s, int n) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (s.stats().active() < n) {
            if (System.nanoTime() > end) {
                throw new AssertionError("never " + n + " active: " + s.stats());
            }
            Thread.sleep(2);
        }
    }

    static void waitQueued(StepScheduler s, int n) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (s.stats().queued() < n) {
            if (System.nanoTime() > end) {
                throw new AssertionError("never " + n + " queued: " + s.stats());
            }
            Thread.sleep(2);
        }
    }
}
