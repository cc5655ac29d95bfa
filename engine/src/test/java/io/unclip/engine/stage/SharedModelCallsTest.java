package io.unclip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.model.ModelBundle;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.schedule.SchedulerStats;
import io.unclip.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The text encoder and the captioner under concurrent requests: calls are shared (fewer model
 * calls than requests make alone) and every request gets the bits it gets alone.
 */
class SharedModelCallsTest {
    private static final int THREADS = 8;
    private static OrtRuntime runtime;
    private static ModelBundle bundle;

    @BeforeAll
    static void load() {
        runtime = new OrtRuntime(Fixtures.lightCpu());
        bundle = new ModelRepository(runtime).load(Fixtures.tinyBundle());
    }

    @AfterAll
    static void close() {
        bundle.close();
        runtime.close();
    }

    @Test
    void concurrentPromptsShareCallsAndGetTheirOwnEmbeddings() throws Exception {
        String[] words = {"a red circle", "a blue square", "a small green triangle at the top left",
                "a large yellow circle", "a red square and a blue circle", ""};
        List<List<String>> requests = new ArrayList<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 64; i++) {
            List<String> r = new ArrayList<>();
            for (int k = 0; k <= rnd.nextInt(3); k++) {
                r.add(words[rnd.nextInt(words.length)]);
            }
            requests.add(r);
        }
        TextEncoderStage alone = new TextEncoderStage(bundle.stage("text_encoder"));
        List<TextConditioning> expected = new ArrayList<>();
        for (List<String> r : requests) {
            expected.add(alone.encode(r, RunContext.quiet()));
        }
        TextEncoderStage shared = new TextEncoderStage(bundle.stage("text_encoder"));
        List<TextConditioning> got = concurrently(requests.size(), i -> shared.encode(requests.get(i),
                RunContext.quiet()));
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(expected.get(i).textEmbeds().toArray(), got.get(i).textEmbeds().toArray(),
                    "request " + i + " " + requests.get(i));
            assertArrayEquals(expected.get(i).hiddenStates().toArray(), got.get(i).hiddenStates().toArray());
            assertArrayEquals(expected.get(i).ids(), got.get(i).ids());
        }
        SchedulerStats s = shared.batcher().stats();
        assertEquals(requests.size(), s.admitted());
        assertEquals(requests.stream().mapToInt(List::size).sum(), s.modelRows());
        assertTrue(s.modelCalls() < requests.size(), "some calls were shared: " + s);
    }

    @Test
    void concurrentCaptionsAtDifferentPositionsShareCallsAndGetTheirOwnTokens() throws Exception {
        int n = 24;
        List<Tensor> images = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Random rnd = new Random(100 + i);
            Tensor t = Tensor.zeros(1 + i % 2, 3, 32, 32);
            for (int k = 0; k < t.size(); k++) {
                t.set(k, (float) (rnd.nextDouble() * 2 - 1));
            }
            images.add(t);
        }
        // budgets and styles differ, so the captions in flight stand at different token positions
        CaptionerStage alone = new CaptionerStage(bundle.stage("captioner"));
        List<List<Caption>> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expected.add(caption(alone, images.get(i), i));
        }
        CaptionerStage shared = new CaptionerStage(bundle.stage("captioner"));
        List<List<Caption>> got = concurrently(n, i -> caption(shared, images.get(i), i));
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < expected.get(i).size(); r++) {
                Caption e = expected.get(i).get(r);
                Caption g = got.get(i).get(r);
                assertArrayEquals(e.tokenIds(), g.tokenIds(), "request " + i + " image " + r);
                assertArrayEquals(e.logprobs(), g.logprobs(), "request " + i + " image " + r);
            }
        }
        SchedulerStats s = shared.batcher().stats();
        assertTrue(s.modelCalls() < s.admitted(), "token calls were shared: " + s);
        assertTrue(s.admitted() >= n, s.toString());
    }

    private static List<Caption> caption(CaptionerStage c, Tensor image, int i) {
        return c.caption(image, i % 3 == 0 ? "descriptive" : "short", 3 + i % 9, null, RunContext.quiet());
    }

    @FunctionalInterface
    private interface Indexed<T> {
        T run(int i) throws Exception;
    }

    /** Runs request i on one of {@link #THREADS} threads that start together. */
    private static <T> List<T> concurrently(int n, Indexed<T> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CyclicBarrier start = new CyclicBarrier(THREADS);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                Callable<T> c = () -> {
                    if (index < THREADS) {
                        start.await(10, TimeUnit.SECONDS);
                    }
                    return work.run(index);
                };
                futures.add(pool.submit(c));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
