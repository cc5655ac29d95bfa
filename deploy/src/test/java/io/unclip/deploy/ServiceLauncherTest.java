package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** A service replica's command line: what the service reads, and the flags restart and scale rely on. */
class ServiceLauncherTest {
    private final StackOptions options = StackOptions.defaults(Path.of("/repo")).withModels(Path.of("/m"))
            .withJvmOptions(List.of("-Xmx64m")).withProperties(Map.of("unclip.device", "cuda",
                    "unclip.kafka.partitions", "3"));
    private final ServiceLauncher.Wiring wiring = new ServiceLauncher.Wiring("localhost:9092", 8, 7001, java.util.Optional.empty());

    @Test
    void aReplicaGetsItsPortInstanceAndTheStacksAddresses() {
        Path state = Path.of("/s");
        Map<String, String> p = ServiceLauncher.properties(options, state, StackService.DECODER, "decoder-2", 7002,
                wiring);
        assertEquals("7002", p.get("quarkus.http.port"));
        assertEquals("decoder-2", p.get("unclip.instance-id"));
        assertEquals("localhost:9092", p.get("kafka.bootstrap.servers"));
        assertEquals(Path.of("/m").toAbsolutePath().toString(), p.get("unclip.models.dir"));
        assertEquals("/s/results", p.get("unclip.results.dir"));
        assertEquals("/s/blobs", p.get("unclip.blobs.dir"));
        assertEquals("cuda", p.get("unclip.device"));
        assertEquals("3", p.get("unclip.kafka.partitions"), "the options' own properties win");
        assertFalse(p.containsKey("unclip.captioner.address"));

        Map<String, String> g = ServiceLauncher.properties(options, state, StackService.GATEWAY, "gateway-1", 8080,
                wiring);
        assertEquals("localhost:7001", g.get("unclip.captioner.address"));
    }

    @Test
    void theCommandRunsTheServicesAppWithEveryProperty() {
        List<String> cmd = ServiceLauncher.command(options, StackService.UPSAMPLER,
                ServiceLauncher.properties(options, Path.of("/s"), StackService.UPSAMPLER, "upsampler-1", 7003, wiring));
        assertEquals(Processes.java(), cmd.get(0));
        assertEquals("-Xmx64m", cmd.get(1));
        assertEquals(List.of("-jar", "/repo/upsampler-svc/target/quarkus-app/quarkus-run.jar"),
                cmd.subList(cmd.size() - 2, cmd.size()));
        // scale rewrites these two for a new replica and reads the partitions
        assertTrue(cmd.contains("-Dquarkus.http.port=7003"), cmd.toString());
        assertTrue(cmd.contains("-Dunclip.instance-id=upsampler-1"), cmd.toString());
        assertTrue(cmd.contains("-Dunclip.kafka.partitions=3"), cmd.toString());
    }
}
