package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scale on a fake stack ({@link FakeStack}): up to three replicas from the first one's command line, down to one. */
class StackScaleTest {
    @TempDir
    Path dir;

    @AfterEach
    void stopAll() throws Exception {
        FakeStack.killAll(dir);
    }

    @Test
    void addsReplicasFromTheFirstOnesCommandLineAndRemovesTheLast() throws Exception {
        StackProcess first = FakeStack.start(dir, "decoder-1", "decoder");
        FakeStack.start(dir, "prior-1", "prior");

        List<StackProcess> three = StackScale.scale(dir, "decoder", 3, Duration.ofSeconds(60));
        assertEquals(List.of("decoder-1", "decoder-2", "decoder-3"), three.stream().map(StackProcess::name).toList());
        assertTrue(three.stream().allMatch(StackProcess::alive));
        assertNotEquals(first.port(), three.get(2).port());
        StackStatus s = LocalStack.status(dir);
        assertEquals(4, s.processes().size());
        assertTrue(s.running());
        assertTrue(Files.readString(s.process("decoder-3").orElseThrow().log()).contains("decoder-3 serving on "
                + three.get(2).port()), "its own instance id and port");
        List<String> cmd = LaunchCommand.read(dir, "decoder-3").orElseThrow().args();
        assertTrue(cmd.contains("-Dunclip.instance-id=decoder-3"), cmd.toString());
        assertTrue(StackRestart.restart(dir, "decoder-3", Duration.ofSeconds(60)).alive(), "a new replica restarts too");

        StackProcess third = LocalStack.status(dir).process("decoder-3").orElseThrow();
        List<StackProcess> one = StackScale.scale(dir, "decoder", 1, Duration.ofSeconds(60));
        assertEquals(List.of("decoder-1"), one.stream().map(StackProcess::name).toList());
        assertFalse(third.alive(), "the removed replica is stopped");
        assertEquals(List.of("decoder-1", "prior-1"), LocalStack.status(dir).processes().stream()
                .map(StackProcess::name).toList());
        assertTrue(LaunchCommand.read(dir, "decoder-3").isEmpty());
    }

    @Test
    void refusesWhatItCannotScale() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StackScale.scale(dir, "decoder", 2,
                Duration.ofSeconds(5))).getMessage().startsWith("no stack at"));
        FakeStack.start(dir, "decoder-1", "decoder");
        var more = assertThrows(IllegalArgumentException.class, () -> StackScale.scale(dir, "decoder", 5,
                Duration.ofSeconds(5)));
        assertTrue(more.getMessage().contains("4 partitions"), more.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StackScale.scale(dir, "decoder", 0, Duration.ofSeconds(5)));
        assertThrows(IllegalArgumentException.class, () -> StackScale.scale(dir, "kafka", 2, Duration.ofSeconds(5)));
        var none = assertThrows(IllegalArgumentException.class, () -> StackScale.scale(dir, "prior", 2,
                Duration.ofSeconds(5)));
        assertTrue(none.getMessage().contains("runs no prior"), none.getMessage());
    }
}
