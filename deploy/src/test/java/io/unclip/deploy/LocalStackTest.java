package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What up refuses before it starts anything, and down without a stack; the stack itself runs in the it module's tests. */
class LocalStackTest {
    @Test
    void upRefusesWhatIsNotBuilt(@TempDir Path dir) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalStack.up(
                StackOptions.defaults(dir).withStateDir(dir.resolve("state"))));
        assertTrue(e.getMessage().startsWith("not built:"), e.getMessage());
    }

    @Test
    void upRefusesWhileAStackRunsFromTheSameState(@TempDir Path dir) throws Exception {
        ProcessHandle me = ProcessHandle.current();
        StackState.write(dir, new StackStatus(dir, "localhost:1", "localhost:2", List.of(new StackProcess("kafka",
                "kafka", me.pid(), 1, dir.resolve("k.log"), me.info().startInstant().orElse(null)))));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalStack.up(
                StackOptions.defaults(dir).withStateDir(dir)));
        assertTrue(e.getMessage().startsWith("a stack is already running from " + dir), e.getMessage());
    }

    @Test
    void downWithoutAStackStopsNothing(@TempDir Path dir) throws Exception {
        StackStatus s = LocalStack.down(dir);
        assertEquals(List.of(), s.processes());
        assertEquals(dir.toAbsolutePath(), s.stateDir());
    }

    @Test
    void optionsRefuseUnknownServicesAndReplicaCountsOutOfRange() {
        StackOptions o = StackOptions.defaults(Path.of("/repo"));
        assertEquals(Path.of("/repo/.unclip/stack"), o.stateDir());
        assertThrows(IllegalArgumentException.class, () -> o.withReplicas(java.util.Map.of("painter", 2)));
        assertThrows(IllegalArgumentException.class, () -> o.withReplicas(java.util.Map.of("decoder", 0)));
        assertEquals(12, o.withPartitions(4).withReplicas(java.util.Map.of("decoder", 12)).topicPartitions(),
                "partitions are raised to the most replicas");
        assertEquals(8, o.withReplicas(java.util.Map.of("decoder", 2)).topicPartitions());
    }
}
