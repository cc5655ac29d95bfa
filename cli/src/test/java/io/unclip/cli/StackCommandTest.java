package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.unclip.deploy.StackOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code unclip stack up}'s options as the stack gets them (the stack itself runs in the it module's tests). */
class StackCommandTest {
    @TempDir
    Path tmp;

    private StackOptions options(String... args) {
        Environment env = new Environment(Map.of(), tmp, Optional.empty(), false);
        CommandLine cl = UnclipCommand.commandLine(new UnclipCommand(env));
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        StackCommand.Up up = (StackCommand.Up) parsed.subcommand().subcommand().commandSpec().userObject();
        return up.options();
    }

    @Test
    void everyOptionReachesTheStack() throws Exception {
        Path models = Files.createDirectories(tmp.resolve("m"));
        StackOptions o = options("stack", "up", "--models", "m", "--replicas", "decoder=2,prior=3",
                "--replicas", "upsampler-svc=2", "--kafka-port", "0", "--gateway-port", "9999", "--partitions", "4",
                "--state-dir", "s", "--timeout", "30", "-Dunclip.device=cuda", "-D", "a=b");
        assertEquals(models, o.modelsDir());
        assertEquals(Map.of("decoder", 2, "prior", 3, "upsampler", 2), o.replicas());
        assertEquals(0, o.kafkaPort());
        assertEquals(9999, o.gatewayPort());
        assertEquals(4, o.partitions());
        assertEquals(tmp.resolve("s"), o.stateDir());
        assertEquals(Duration.ofSeconds(30), o.timeout());
        assertEquals(Map.of("unclip.device", "cuda", "a", "b"), o.properties());
        assertEquals(tmp, o.root());
    }

    @Test
    void defaultsAreTheRepositorysOwn() {
        StackOptions o = options("stack", "up");
        assertEquals(tmp.resolve(".unclip/stack"), o.stateDir());
        assertEquals(Map.of(), o.replicas());
        assertEquals(9092, o.kafkaPort());
        assertEquals(8080, o.gatewayPort());
        assertEquals(8, o.partitions());
        assertEquals(Duration.ofMinutes(3), o.timeout());
    }

    @Test
    void badReplicasAreBadInput() {
        assertEquals(ExitCodes.BAD_INPUT, assertThrows(CliException.class,
                () -> options("stack", "up", "--replicas", "painter=2")).exitCode());
        assertEquals(ExitCodes.BAD_INPUT, assertThrows(CliException.class,
                () -> options("stack", "up", "--replicas", "decoder=2", "--replicas", "decoder=0")).exitCode());
    }
}
