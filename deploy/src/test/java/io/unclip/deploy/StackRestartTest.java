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
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restart on a stack of one fake service ({@link FakeStack}): killed then restarted, running then
 * restarted; the real stack's restart runs in the it module's BounceTest.
 */
class StackRestartTest {
    @TempDir
    Path dir;

    @AfterEach
    void stopAll() throws Exception {
        FakeStack.killAll(dir);
    }

    StackProcess fakeStack() throws Exception {
        return FakeStack.start(dir, "decoder-1", "decoder");
    }

    @Test
    void aKilledProcessComesBackWithItsCommandLineAndLog() throws Exception {
        StackProcess before = fakeStack();
        LocalStack.kill(dir, "decoder-1");
        ProcessHandle.of(before.pid()).ifPresent(h -> h.onExit().join());
        assertFalse(LocalStack.status(dir).running());

        StackProcess after = StackRestart.restart(dir, "decoder-1", Duration.ofSeconds(60));
        assertNotEquals(before.pid(), after.pid());
        assertEquals(before.port(), after.port());
        assertTrue(after.alive());
        assertEquals(after, LocalStack.status(dir).process("decoder-1").orElseThrow(), "the state file has the new pid");
        assertTrue(LocalStack.status(dir).running());
        String log = Files.readString(before.log());
        assertEquals(2, log.split("serving on", -1).length - 1, "both runs in one log:\n" + log);
        assertTrue(log.contains("restarted by unclip stack restart (was pid " + before.pid() + ", not running)"), log);
    }

    @Test
    void aRunningProcessIsStoppedFirst() throws Exception {
        StackProcess before = fakeStack();
        StackProcess after = StackRestart.restart(dir, "decoder-1", Duration.ofSeconds(60));
        assertTrue(ProcessHandle.of(before.pid()).map(h -> h.onExit().orTimeout(5, TimeUnit.SECONDS).join())
                .map(h -> !h.isAlive()).orElse(true), "the old process is gone");
        assertTrue(after.alive());
        assertTrue(Files.readString(before.log()).contains("(was pid " + before.pid() + ", stopped)"));
    }

    @Test
    void unknownNamesAndMissingCommandsAreRefused() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StackRestart.restart(dir, "decoder-1"))
                .getMessage().startsWith("no stack at"));
        fakeStack();
        var e = assertThrows(IllegalArgumentException.class, () -> StackRestart.restart(dir, "decoder-7"));
        assertTrue(e.getMessage().contains("its processes: decoder-1"), e.getMessage());

        // no command file and the process is gone: nothing to restart from
        LocalStack.kill(dir, "decoder-1");
        Files.delete(LaunchCommand.file(dir, "decoder-1"));
        StackProcess p = LocalStack.status(dir).process("decoder-1").orElseThrow();
        ProcessHandle.of(p.pid()).ifPresent(h -> h.onExit().join());
        var s = assertThrows(IllegalStateException.class, () -> StackRestart.restart(dir, "decoder-1"));
        assertTrue(s.getMessage().startsWith("no command line recorded for decoder-1"), s.getMessage());
    }

    @Test
    void commandFilesRoundTrip() throws Exception {
        List<String> cmd = List.of("java", "-Dx=a b", "-Dy=c=d\\e", "-jar", "/p/q.jar");
        LaunchCommand.here(cmd).record(dir, "prior-2");
        assertEquals(cmd, LaunchCommand.read(dir, "prior-2").orElseThrow().args());
        assertTrue(LaunchCommand.read(dir, "prior-3").isEmpty());
    }
}
