package io.unclip.cli.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.onnx.CostModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The arithmetic of the load report: percentiles, the FIFO replay, the ideal speedup, arrivals. */
class LoadFiguresTest {
    @TempDir
    Path tmp;

    @Test
    void percentilesAreNearestRank() {
        long[] v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
        assertEquals(5, LatencyFigures.percentile(v, 50));
        assertEquals(10, LatencyFigures.percentile(v, 95));
        assertEquals(1, LatencyFigures.percentile(v, 1));
        assertTrue(Double.isNaN(LatencyFigures.percentile(new long[0], 50)));
    }

    @Test
    void figuresCountOnlyWhatFinishedAndScaleBackTheDilation() {
        List<LoadRun.Sample> s = List.of(new LoadRun.Sample(0, 2, 0, 400_000_000L, 1_000_000_000L, null, false),
                new LoadRun.Sample(1, 0, 0, -1, 500_000_000L, "refused", true),
                new LoadRun.Sample(2, 1, 1_000_000_000L, -1, 2_000_000_000L, null, false));
        LatencyFigures f = LatencyFigures.of(s, 2);
        assertEquals(2, f.completed());
        assertEquals(1, f.failed());
        assertEquals(1, f.refused());
        assertEquals(3, f.images());
        assertEquals(1.0, f.wallSeconds(), 1e-9); // 2 s of dilated time
        assertEquals(3.0, f.throughputImagesPerSecond(), 1e-9);
        assertEquals(500, f.p50Ms(), 1e-9);
        assertEquals(200, f.firstPreviewP50Ms(), 1e-9);
    }

    @Test
    void oneAtATimeQueuesTheLoadsArrivals() {
        long[] service = {10, 10, 10, 10};
        // two clients: 0 and 1 arrive at 0; 2 when 0 ends (10), 3 when 1 ends (20)
        assertArrayEquals(new long[] {10, 20, 20, 20}, FifoBaseline.closedLoop(service, 2));
        assertArrayEquals(new long[] {10, 10, 10, 10}, FifoBaseline.closedLoop(service, 1));
        assertArrayEquals(new long[] {10, 15, 10, 10}, FifoBaseline.openLoop(service, new long[] {0, 5, 30, 40}));
    }

    @Test
    void theIdealSpeedupSharesEveryCallAndSplitsAtMaxRows() throws Exception {
        Path curve = tmp.resolve("c.jsonl");
        Files.writeString(curve, """
                {"runtime": "r", "stage": "decoder", "batch": 2, "ms_per_call": 10}
                {"runtime": "r", "stage": "decoder", "batch": 8, "ms_per_call": 16}
                {"runtime": "r", "stage": "text_encoder", "batch": 1, "ms_per_call": 1}
                {"runtime": "r", "stage": "text_encoder", "batch": 4, "ms_per_call": 1}
                """);
        CostModel cost = CostModel.read(curve, "r", 1);
        // alone, per request: 10 decoder calls of 2 rows (100 ms), 1 text call of 1 row (1 ms)
        Map<String, CostModel.Usage> alone = Map.of("decoder", new CostModel.Usage(20, 40, 0, 0),
                "text_encoder", new CostModel.Usage(2, 2, 0, 0));
        // 4 together: 10 calls of 8 rows (160 ms) + 1 text call of 4 rows (1 ms)
        assertEquals(4 * 101.0 / 161, IdealSpeedup.closedLoop(cost, alone, 2, 4, Set.of("decoder"), 64), 1e-9);
        // at most 4 rows a call: 2 calls of 4 rows (interpolated 12 ms) a step
        assertEquals(4 * 101.0 / 241, IdealSpeedup.closedLoop(cost, alone, 2, 4, Set.of("decoder"), 4), 1e-9);
    }

    @Test
    void poissonArrivalsHaveTheRateAndAreSeeded() {
        long[] a = LoadRun.poissonArrivals(4000, 100, 7);
        assertEquals(0, a[0]);
        double meanGap = a[a.length - 1] / 1e9 / (a.length - 1);
        assertEquals(0.01, meanGap, 0.001);
        assertArrayEquals(a, LoadRun.poissonArrivals(4000, 100, 7));
        for (int i = 1; i < a.length; i++) {
            assertTrue(a[i] >= a[i - 1]);
        }
    }
}
