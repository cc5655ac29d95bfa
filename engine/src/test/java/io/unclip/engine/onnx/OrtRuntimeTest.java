package io.unclip.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrtRuntimeTest {

    @Test
    void sessionsAreCreatedOncePerFileAndClosedWithTheRuntime() {
        ModelSession first;
        try (OrtRuntime runtime = new OrtRuntime(Fixtures.lightCpu())) {
            first = runtime.session("decoder", Fixtures.tinyModel("decoder", "decoder.onnx"));
            ModelSession again = runtime.session("other-name", Fixtures.tinyModel("decoder", "decoder.onnx"));
            assertSame(first, again);
            runtime.session("prior", Fixtures.tinyModel("prior", "prior.onnx"));
            assertEquals(2, runtime.sessions().size());
        }
        assertTrue(first.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> first.run(Map.of("sample", Tensor.zeros(1, 3, 8, 8)), Map.of()));
        assertEquals("decoder: session is closed", e.getMessage());
    }

    @Test
    void threadCountsReachTheSessionOptionsAndZeroLeavesOnnxRuntimesDefault() throws Exception {
        List<String> set = new ArrayList<>();
        OrtRuntime.SessionSettings recorder = new OrtRuntime.SessionSettings() {
            @Override
            public void optimization(ai.onnxruntime.OrtSession.SessionOptions.OptLevel level) {
                set.add("optimization=" + level);
            }

            @Override
            public void intraOpThreads(int threads) {
                set.add("intra=" + threads);
            }

            @Override
            public void interOpThreads(int threads) {
                set.add("inter=" + threads);
            }

            @Override
            public void deterministic(boolean on) {
                set.add("deterministic=" + on);
            }
        };
        OrtRuntime.configure(RuntimeOptions.defaults().withThreads(3, 2), recorder);
        assertEquals(List.of("optimization=ALL_OPT", "intra=3", "inter=2", "deterministic=false"), set);
        set.clear();
        OrtRuntime.configure(RuntimeOptions.defaults(), recorder);
        assertEquals(List.of("optimization=ALL_OPT", "deterministic=false"), set);
        // and ONNX Runtime takes them: a session opened with explicit counts runs
        try (OrtRuntime runtime = new OrtRuntime(RuntimeOptions.defaults().withThreads(2, 1))) {
            ModelSession s = runtime.session("decoder", Fixtures.tinyModel("decoder", "decoder.onnx"));
            assertEquals(2, runtime.options().intraOpThreads());
            assertTrue(!s.isClosed());
        }
    }

    @Test
    void closedRuntimeRefusesNewSessions() {
        OrtRuntime runtime = new OrtRuntime(Fixtures.lightCpu());
        runtime.close();
        assertThrows(IllegalStateException.class,
                () -> runtime.session("decoder", Fixtures.tinyModel("decoder", "decoder.onnx")));
    }

    @Test
    void cudaRequestFallsBackToCpuWithOneWarning() {
        // With the CPU jar the CUDA provider is not even listed; with the GPU jar it always is
        // (even without a GPU), and a real GPU would make this test meaningless.
        assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
                "GPU build of ONNX Runtime on the classpath");
        List<LogRecord> logged = new ArrayList<>();
        Logger jul = Logger.getLogger(OrtRuntime.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(capture);
        try (OrtRuntime runtime = new OrtRuntime(Fixtures.lightCpu().withDevice("cuda:0"))) {
            assertEquals(Device.CUDA, runtime.options().device());
            ModelSession decoder = runtime.session("decoder", Fixtures.tinyModel("decoder", "decoder.onnx"));
            ModelSession upsampler = runtime.session("upsampler", Fixtures.tinyModel("upsampler_32", "upsampler.onnx"));

            assertEquals(Device.CPU, decoder.device());
            assertEquals(Device.CPU, upsampler.device());
            assertEquals(Device.CPU, runtime.device());
            Map<String, Tensor> out = upsampler.run(Map.of("sample", Tensor.zeros(1, 6, 32, 32)),
                    Map.of("timestep", new long[] {3}));
            assertEquals(3 * 32 * 32, out.get("out_sample").size());
        } finally {
            jul.removeHandler(capture);
        }
        List<LogRecord> warnings = logged.stream().filter(r -> r.getLevel() == Level.WARNING).toList();
        assertEquals(1, warnings.size(), "one fallback line for the whole runtime");
        String line = warnings.get(0).getMessage();
        assertTrue(line.startsWith("CUDA requested (cuda:0) but unavailable, running ONNX models on CPU instead: "), line);
    }

    @Test
    void missingFileIsNamed(@TempDir Path dir) {
        try (OrtRuntime runtime = new OrtRuntime(Fixtures.lightCpu())) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> runtime.session("decoder", dir.resolve("nope.onnx")));
            assertEquals("decoder: cannot load ONNX model nope.onnx: file not found (" + dir.resolve("nope.onnx") + ")",
                    e.getMessage());
        }
    }

    @Test
    void truncatedModelGivesAClearError(@TempDir Path dir) throws IOException {
        byte[] model = Files.readAllBytes(Fixtures.tinyModel("decoder", "decoder.onnx"));
        Path broken = Files.write(dir.resolve("decoder.onnx"), java.util.Arrays.copyOf(model, model.length / 2));
        try (OrtRuntime runtime = new OrtRuntime(Fixtures.lightCpu())) {
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> runtime.session("decoder", broken));
            assertTrue(e.getMessage().startsWith("decoder: cannot load ONNX model decoder.onnx: file is truncated or"
                    + " not an ONNX model ("), e.getMessage());
            assertTrue(runtime.sessions().isEmpty());
        }
    }

    @Test
    void optionsParseDevicesAndRejectNonsense() {
        RuntimeOptions o = RuntimeOptions.defaults().withDevice("cuda:2");
        assertEquals(Device.CUDA, o.device());
        assertEquals(2, o.deviceId());
        assertEquals("cpu", RuntimeOptions.defaults().withDevice("CPU").deviceSpec());
        assertEquals(GraphOptimization.BASIC, GraphOptimization.parse("basic"));
        assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.defaults().withDevice("tpu"));
        assertThrows(IllegalArgumentException.class, () -> RuntimeOptions.defaults().withThreads(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> GraphOptimization.parse("max"));
    }

    @Test
    void everyOptimisationLevelLoadsAndRuns() {
        for (GraphOptimization level : GraphOptimization.values()) {
            try (OrtRuntime runtime = new OrtRuntime(Fixtures.lightCpu().withOptimization(level))) {
                ModelSession s = runtime.session("upsampler", Fixtures.tinyModel("upsampler_32", "upsampler.onnx"));
                s.run(Map.of("sample", Tensor.zeros(2, 6, 32, 32)), Map.of("timestep", new long[] {1, 2}));
                assertEquals(1, s.runCount(), level.id());
            }
        }
    }
}
