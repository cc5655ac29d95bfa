package io.unclip.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Work that arrives while a call runs shares the next call; outputs, failures and refusals stay per piece. */
class CallBatcherTest {
    /** A model whose outputs name their inputs, recording every call's pieces; the first call can be held. */
    private static final class Recording implements CallBatcher.Model<String, String> {
        final List<List<String>> calls = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean holdFirst = true;
        volatile String failOn;

        @Override
        public List<String> call(List<String> work) {
            calls.add(List.copyOf(work));
            if (holdFirst) {
                holdFirst = false;
                entered.countDown();
                await(release);
            }
            if (work.contains(failOn)) {
                throw new IllegalStateException("model broke on " + failOn);
            }
            return work.stream().map(w -> "out:" + w).toList();
        }
    }

    private static CallBatcher<String, String> batcher(Recording model, SchedulerConfig config) {
        return new CallBatcher<>("text_encoder", model, w -> w.length(), config, null);
    }

    @Test
    void workArrivingDuringACallSharesTheNextCall() throws Exception {
        Recording model = new Recording();
        CallBatcher<String, String> b = batcher(model, SchedulerConfig.DEFAULT);
        CompletableFuture<String> first = async(() -> b.call("a"));
        assertTrue(model.entered.await(10, TimeUnit.SECONDS));
        List<CompletableFuture<String>> later = new ArrayList<>();
        for (String w : List.of("bb", "ccc", "d")) {
            later.add(async(() -> b.call(w)));
            waitQueued(b, later.size()); // fixes the queue's order
        }
        model.release.countDown();
        assertEquals("out:a", first.get(10, TimeUnit.SECONDS));
        List<String> outs = new ArrayList<>();
        for (CompletableFuture<String> f : later) {
            outs.add(f.get(10, TimeUnit.SECONDS));
        }
        assertEquals(List.of("out:bb", "out:ccc", "out:d"), outs);
        assertEquals(2, model.calls.size(), "the three that waited went in one call: " + model.calls);
        assertEquals(List.of("bb", "ccc", "d"), model.calls.get(1)); // FIFO
        SchedulerStats s = b.stats();
        assertEquals(2, s.modelCalls());
        assertEquals(1 + 2 + 3 + 1, s.modelRows());
        assertEquals(4, s.admitted());
    }

    @Test
    void aCallTakesWholePiecesUpToMaxRows() throws Exception {
        Recording model = new Recording();
        CallBatcher<String, String> b = batcher(model, SchedulerConfig.DEFAULT.withMaxRows(4));
        CompletableFuture<String> first = async(() -> b.call("a"));
        assertTrue(model.entered.await(10, TimeUnit.SECONDS));
        List<CompletableFuture<String>> later = new ArrayList<>();
        for (String w : List.of("bb", "cc", "dddddd", "e")) {
            later.add(async(() -> b.call(w)));
            waitQueued(b, later.size()); // fixes the queue's order
        }
        model.release.countDown();
        for (CompletableFuture<String> f : later) {
            f.get(10, TimeUnit.SECONDS);
        }
        first.get(10, TimeUnit.SECONDS);
        // bb+cc fill 4 rows; dddddd is more than 4 and runs alone; e follows
        assertEquals(List.of(List.of("a"), List.of("bb", "cc"), List.of("dddddd"), List.of("e")), model.calls);
    }

    @Test
    void aFailedCallFailsOnlyItsOwnPiecesAndTheBatcherGoesOn() throws Exception {
        Recording model = new Recording();
        model.failOn = "x";
        CallBatcher<String, String> b = batcher(model, SchedulerConfig.DEFAULT.withMaxRows(2));
        CompletableFuture<String> first = async(() -> b.call("a"));
        assertTrue(model.entered.await(10, TimeUnit.SECONDS));
        CompletableFuture<String> x = async(() -> b.call("x"));
        waitQueued(b, 1);
        CompletableFuture<String> y = async(() -> b.call("y"));
        waitQueued(b, 2);
        CompletableFuture<String> z = async(() -> b.call("zz")); // next call: x and y are 2 rows
        waitQueued(b, 3);
        model.release.countDown();
        assertEquals("out:a", first.get(10, TimeUnit.SECONDS));
        Exception ex = assertThrows(Exception.class, () -> x.get(10, TimeUnit.SECONDS));
        assertEquals("model broke on x", ex.getCause().getMessage());
        Exception ey = assertThrows(Exception.class, () -> y.get(10, TimeUnit.SECONDS));
        assertSame(ex.getCause(), ey.getCause(), "y shared x's call");
        assertEquals("out:zz", z.get(10, TimeUnit.SECONDS));
        assertEquals("out:b", b.call("b"));
    }

    @Test
    void aFullQueueRefusesWhileACallRuns() throws Exception {
        Recording model = new Recording();
        CallBatcher<String, String> b = batcher(model, SchedulerConfig.DEFAULT.withMaxQueued(1));
        CompletableFuture<String> first = async(() -> b.call("a"));
        assertTrue(model.entered.await(10, TimeUnit.SECONDS));
        CompletableFuture<String> second = async(() -> b.call("b"));
        waitQueued(b, 1);
        QueueFullException e = assertThrows(QueueFullException.class, () -> b.call("c"));
        assertTrue(e.getMessage().contains("text_encoder"), e.getMessage());
        assertEquals(1, b.stats().refused());
        model.release.countDown();
        assertEquals("out:a", first.get(10, TimeUnit.SECONDS));
        assertEquals("out:b", second.get(10, TimeUnit.SECONDS));
        assertEquals("out:c", b.call("c"), "room again once the queue drained");
    }

    private static void waitQueued(CallBatcher<?, ?> b, int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (b.stats().queued() < n) {
            if (System.nanoTime() > end) {
                throw new AssertionError("never " + n + " queued: " + b.stats());
            }
            Thread.sleep(2);
        }
    }

    private static CompletableFuture<String> async(java.util.function.Supplier<String> call) {
        return CompletableFuture.supplyAsync(call, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            t.start();
        });
    }

    private static void await(CountDownLatch l) {
        try {
            if (!l.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("never released");
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

}
