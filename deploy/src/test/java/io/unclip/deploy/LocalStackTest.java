package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Command line and state file; the stack itself runs in the it module's tests. */
class LocalStackTest {
    @Test
    void parsesTheCommandLine() {
        LocalStack.Options o = LocalStack.parse(List.of("--models", "/m", "--replicas", "decoder=2,prior=3",
                "--replicas", "upsampler-svc=2", "--kafka-port", "0", "--state-dir", "/s", "-Dunclip.device=cuda"),
                Path.of("/repo"));
        assertEquals(Path.of("/m"), o.modelsDir());
        assertEquals(Map.of("decoder", 2, "prior", 3, "upsampler", 2), o.replicas());
        assertEquals(0, o.kafkaPort());
        assertEquals(8080, o.gatewayPort());
        assertEquals(Path.of("/s"), o.stateDir());
        assertEquals(Map.of("unclip.device", "cuda"), o.properties());
        assertEquals(Path.of("/repo/.unclip/stack"), LocalStack.parse(List.of(), Path.of("/repo")).stateDir());
        assertThrows(IllegalArgumentException.class, () -> LocalStack.parse(List.of("--replicas", "painter=2"), Path.of("/r")));
        assertThrows(IllegalArgumentException.class, () -> LocalStack.parse(List.of("--replicas", "decoder=0"), Path.of("/r")));
    }

    @Test
    void stateFileRoundTripsAndKnowsDeadProcesses(@TempDir Path dir) throws Exception {
        ProcessHandle me = ProcessHandle.current();
        Instant started = me.info().startInstant().orElse(null);
        LocalStack.Status s = new LocalStack.Status(dir, "localhost:9092", "localhost:8080", List.of(
                new LocalStack.Proc("kafka", "kafka", me.pid(), 9092, dir.resolve("k.log"), started),
                new LocalStack.Proc("decoder-1", "decoder", me.pid(), 9000, dir.resolve("d.log"),
                        Instant.parse("2000-01-01T00:00:00Z"))));
        LocalStack.write(dir, s);
        LocalStack.Status back = LocalStack.status(dir);
        assertEquals(s, back);
        assertTrue(back.process("kafka").orElseThrow().alive());
        assertFalse(back.process("decoder-1").orElseThrow().alive(), "same PID, other start time: not ours");
        assertEquals(1, back.replicas("decoder").size());
        assertTrue(back.describe().contains("decoder-1"));
    }

    @Test
    void upRefusesWhatIsNotBuilt(@TempDir Path dir) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalStack.up(
                LocalStack.Options.defaults(dir).withStateDir(dir.resolve("state"))));
        assertTrue(e.getMessage().startsWith("not built:"), e.getMessage());
    }
}
