package io.unclip.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.schedule.SchedulerConfig;
import io.unclip.engine.schedule.SchedulerObserver;
import io.unclip.engine.stage.SamplerOverrides;
import io.unclip.engine.stage.Scheduling;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batching never changes an image: random requests (steps, samplers, guidance, image counts,
 * sizes) sampled together, arriving at random times with others cancelled around them, give the
 * same bits as each sampled alone. The tiny bundle's models are real ONNX models in ONNX Runtime.
 */
class BatchingPropertyTest {
    private static final String[] PROMPTS = {"a small red circle at the top left", "a blue square",
        "a green triangle", "a red square and a blue circle"};
    private static Cascade cascade;
    /** The largest decoder call since the last reset: the evidence that requests shared calls. */
    private static final AtomicInteger widestDecoderCall = new AtomicInteger();

    @BeforeAll
    static void open() {
        SchedulerObserver widest = new SchedulerObserver() {
            @Override
            public void modelCall(String scheduler, int rows, long nanos) {
                if (scheduler.equals("decoder")) {
                    widestDecoderCall.accumulateAndGet(rows, Math::max);
                }
            }
        };
        cascade = Cascade.open(Fixtures.tinyBundle(), Fixtures.lightCpu(),
                new Scheduling(SchedulerConfig.DEFAULT, widest));
    }

    @AfterAll
    static void close() {
        cascade.close();
    }

    private static GenerationRequest randomRequest(Random rnd, int i) {
        SamplerOverrides decoder = SamplerOverrides.none().withSteps(2 + rnd.nextInt(6));
        if (rnd.nextBoolean()) {
            decoder = decoder.withSampler("ddim").withEta(rnd.nextBoolean() ? 0.0 : 0.7);
        }
        decoder = decoder.withGuidanceScale(new double[] {1.0, 3.0, 5.5}[rnd.nextInt(3)]);
        StageOverrides o = StageOverrides.none()
                .withPrior(SamplerOverrides.none().withSteps(2 + rnd.nextInt(4)))
                .withDecoder(decoder)
                .withUpsampler(SamplerOverrides.none().withSteps(1 + rnd.nextInt(3)));
        return GenerationRequest.of(PROMPTS[rnd.nextInt(PROMPTS.length)]).withSeed(1000L + i)
                .withNumImages(1 + rnd.nextInt(2)).withSize(rnd.nextInt(3) == 0 ? 32 : 8).withOverrides(o);
    }

    @Test
    void aRequestGivesTheSameBitsAloneOrCoBatched() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(10);
        int widestAlone = 0;
        int widestTogether = 0;
        try {
            for (int round = 0; round < 3; round++) {
                Random rnd = new Random(round);
                int n = 10;
                List<GenerationRequest> requests = new ArrayList<>();
                List<float[]> alone = new ArrayList<>();
                widestDecoderCall.set(0);
                for (int i = 0; i < n; i++) {
                    GenerationRequest r = randomRequest(rnd, i);
                    requests.add(r);
                    alone.add(cascade.generate(r, null, null).images().toArray());
                }
                widestAlone = Math.max(widestAlone, widestDecoderCall.getAndSet(0));
                List<Future<float[]>> together = new ArrayList<>();
                List<Boolean> mayCancel = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    GenerationRequest r = requests.get(i);
                    long startDelay = rnd.nextInt(4);
                    boolean cancel = rnd.nextInt(4) == 0;
                    long cancelAfter = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(startDelay + rnd.nextInt(10));
                    mayCancel.add(cancel);
                    together.add(pool.submit(() -> {
                        Thread.sleep(startDelay);
                        try {
                            return cascade.generate(r, null, () -> cancel && System.nanoTime() > cancelAfter)
                                    .images().toArray();
                        } catch (SamplingCancelledException e) {
                            return null;
                        }
                    }));
                }
                int compared = 0;
                for (int i = 0; i < n; i++) {
                    float[] got = together.get(i).get(60, TimeUnit.SECONDS);
                    if (got == null) {
                        assertTrue(mayCancel.get(i), "request " + i + " was not cancelled");
                        continue;
                    }
                    assertArrayEquals(alone.get(i), got, "round " + round + ", request " + i + ": " + requests.get(i));
                    compared++;
                }
                widestTogether = Math.max(widestTogether, widestDecoderCall.get());
                assertTrue(compared >= n / 2, compared + " compared");
            }
            // Without this the bit comparison could pass with no request ever co-batched. One shared
            // call in three rounds is enough (a mean over rows is at the mercy of a loaded machine).
            assertTrue(widestTogether > widestAlone, "requests shared a decoder call: widest call "
                    + widestTogether + " rows together, " + widestAlone + " alone");
        } finally {
            pool.shutdownNow();
        }
    }
}
