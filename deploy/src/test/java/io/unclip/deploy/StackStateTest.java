package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state file: written, read back, edited in place, deleted. */
class StackStateTest {
    @TempDir
    Path dir;

    private final ProcessHandle me = ProcessHandle.current();

    private StackProcess kafka() {
        return new StackProcess("kafka", "kafka", me.pid(), 9092, dir.resolve("k.log"),
                me.info().startInstant().orElse(null));
    }

    @Test
    void roundTripsAndKnowsDeadProcesses() throws Exception {
        StackStatus s = new StackStatus(dir, "localhost:9092", "localhost:8080", List.of(kafka(),
                new StackProcess("decoder-1", "decoder", me.pid(), 9000, dir.resolve("d.log"),
                        Instant.parse("2000-01-01T00:00:00Z")),
                new StackProcess("prior-1", "prior", me.pid(), 9001, dir.resolve("p.log"), null)));
        StackState.write(dir, s);
        StackStatus back = LocalStack.status(dir);
        assertEquals(s, back);
        assertTrue(back.process("kafka").orElseThrow().alive());
        assertFalse(back.process("decoder-1").orElseThrow().alive(), "same PID, other start time: not ours");
        assertTrue(back.process("prior-1").orElseThrow().alive(), "no start time recorded: the PID alone");
        assertFalse(back.running());
        assertEquals(1, back.replicas("decoder").size());
        assertTrue(back.describe().contains("decoder-1"));
        assertTrue(back.describe().contains("web page: http://localhost:8080/"), back.describe());
        assertFalse(Files.exists(dir.resolve(StackState.FILE + ".tmp")));
    }

    @Test
    void noFileIsNoStack() throws Exception {
        assertTrue(StackState.read(dir).isEmpty());
        StackStatus none = StackState.status(dir);
        assertEquals(List.of(), none.processes());
        assertFalse(none.running());
    }

    @Test
    void updateEditsTheProcessListAndKeepsTheAddresses() throws Exception {
        StackState.write(dir, new StackStatus(dir, "localhost:1", "localhost:2", List.of(kafka())));
        StackProcess d = new StackProcess("decoder-1", "decoder", me.pid(), 9000, dir.resolve("d.log"), null);
        StackStatus now = StackState.update(dir, procs -> procs.add(d));
        assertEquals(List.of("kafka", "decoder-1"), now.processes().stream().map(StackProcess::name).toList());
        assertEquals(now, StackState.status(dir));
        StackState.update(dir, procs -> procs.removeIf(p -> p.name().equals("kafka")));
        StackStatus after = StackState.status(dir);
        assertEquals(List.of(d), after.processes());
        assertEquals("localhost:1", after.bootstrapServers());
        assertEquals("localhost:2", after.gatewayAddress());

        StackState.delete(dir);
        assertTrue(StackState.read(dir).isEmpty());
    }
}
