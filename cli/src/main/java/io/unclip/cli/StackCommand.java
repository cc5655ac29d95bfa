package io.unclip.cli;

import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackOptions;
import io.unclip.deploy.StackSecurity;
import io.unclip.deploy.StackProcess;
import io.unclip.deploy.StackRestart;
import io.unclip.deploy.StackScale;
import io.unclip.deploy.StackService;
import io.unclip.deploy.StackStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unclip stack up|down|status|restart|scale}: the local distributed stack's one command line
 * (io.unclip.deploy: {@link LocalStack}, {@link StackRestart}, {@link StackScale}).
 */
@Command(name = "stack", mixinStandardHelpOptions = true,
        description = "Start, stop, show, restart or scale processes of the local distributed stack (Kafka broker,"
                + " stage services, gateway).",
        subcommands = {StackCommand.Up.class, StackCommand.Down.class, StackCommand.Status.class,
                StackCommand.Restart.class, StackCommand.Scale.class})
final class StackCommand implements Runnable {
    @picocli.CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand (up, down, status, restart, scale)");
    }

    /** The repository the stack runs from: the working directory if it has deploy/, else the CLI's install root. */
    static Path root(Environment env) {
        if (Files.isDirectory(env.workDir().resolve("deploy"))) {
            return env.workDir();
        }
        return env.installRoot().filter(r -> Files.isDirectory(r.resolve("deploy"))).orElse(env.workDir());
    }

    /** The default state directory: ROOT/.unclip/stack. */
    static Path defaultStateDir(Environment env) {
        return root(env).resolve(".unclip/stack");
    }

    abstract static class StackBase extends BaseCommand {
        @Option(names = "--state-dir", paramLabel = "DIR",
                description = "Where the stack's PIDs, ports and logs are kept (default: .unclip/stack in the repository).")
        Path stateDir;

        void describe(StackStatus s) {
            describeJson(output, s);
            for (String line : s.describe().split("\n")) {
                output.info(line);
            }
        }

        Path stateDir() {
            return stateDir != null ? environment().workDir().resolve(stateDir) : defaultStateDir(environment());
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start the broker, create the topics, start every service and wait until all are ready.")
    static final class Up extends StackBase {
        @Option(names = "--replicas", paramLabel = "SERVICE=N[,SERVICE=N...]",
                description = "Replicas per service (text-encoder, prior, decoder, upsampler, captioner, gateway);"
                        + " may be repeated.")
        List<String> replicas = new ArrayList<>();

        @Option(names = "--kafka-port", paramLabel = "N", description = "The broker's port (default 9092 when free).")
        Integer kafkaPort;

        @Option(names = "--gateway-port", paramLabel = "N", description = "The gateway's port (default 8080 when free).")
        Integer gatewayPort;

        @Option(names = "--partitions", paramLabel = "N", description = "Partitions per topic (default 8).")
        Integer partitions;

        @CommandLine.Mixin
        ReadyTimeout timeout;

        @Option(names = "-D", paramLabel = "KEY=VALUE", description = "A system property for every service.")
        Map<String, String> properties = new LinkedHashMap<>();

        @Option(names = "--secure", description = "TLS on every gRPC port (a fresh local CA), an API key on the"
                + " gateway, a service token on the stages, SASL_SSL (SCRAM) on the broker; prints how to connect.")
        boolean secure;

        @Override
        int run() throws Exception {
            StackOptions o = options();
            long t0 = System.nanoTime();
            StackStatus s;
            try {
                s = LocalStack.up(o);
            } catch (IllegalStateException e) {
                throw new CliException(ExitCodes.FAILED, e.getMessage(), e);
            }
            output.event("stack_up", Output.map("gateway", s.gatewayAddress(), "bootstrap", s.bootstrapServers(),
                    "state_dir", s.stateDir().toString(), "processes", s.processes().size()));
            output.info(String.format(Locale.ROOT, "stack up in %.1f s (state in %s)", (System.nanoTime() - t0) / 1e9,
                    s.stateDir()));
            describe(s);
            Optional<StackSecurity> sec = StackSecurity.load(s.stateDir());
            if (sec.isPresent()) {
                StackSecurity k = sec.get();
                output.event("stack_secure", Output.map("ca", k.caPem().toString(), "api_key_file",
                        k.apiKey().toString(), "kafka_config", k.kafkaClientConfig().toString()));
                output.info("secure: TLS only on every gRPC port (CA " + k.caPem() + "), API key in " + k.apiKey()
                        + ", Kafka SASL_SSL (client settings " + k.kafkaClientConfig() + ")");
                output.info("  unclip stream \"a red circle\"   (finds the stack's CA and key itself), or from elsewhere:");
                output.info("  unclip stream --gateway " + s.gatewayAddress() + " --ca " + k.caPem() + " --api-key-file "
                        + k.apiKey() + " \"a red circle\"");
                output.info("  OpenAI SDKs and curl: base URL https://" + s.gatewayAddress() + "/v1, API key in "
                        + k.apiKey() + ", CA " + k.caPem() + " (deploy/README.md, \"HTTP\")");
                output.info("  unclip submit --bootstrap " + s.bootstrapServers() + " --kafka-config "
                        + k.kafkaClientConfig() + " ...");
            }
            return ExitCodes.OK;
        }

        /** The stack the command line asks for: the repository's defaults, then each option given. */
        StackOptions options() {
            try {
                StackOptions o = StackOptions.defaults(root(environment())).withStateDir(stateDir());
                if (common.models != null || environment().env().get("UNCLIP_MODELS") != null) {
                    o = o.withModels(environment().bundle(common.models));
                }
                o = o.withReplicas(parseReplicas(String.join(",", replicas)));
                o = o.withPorts(port("--kafka-port", kafkaPort, o.kafkaPort()),
                        port("--gateway-port", gatewayPort, o.gatewayPort()));
                if (partitions != null) {
                    if (partitions < 1 || partitions > 1024) {
                        throw CliException.badInput("--partitions: must be between 1 and 1024, got " + partitions);
                    }
                    o = o.withPartitions(partitions);
                }
                if (timeout.seconds != null) {
                    o = o.withTimeout(timeout.or(null));
                }
                return o.withProperties(properties).withSecure(secure);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput(e.getMessage());
            }
        }

        static Map<String, Integer> parseReplicas(String spec) {
            Map<String, Integer> m = new LinkedHashMap<>();
            if (spec == null || spec.isBlank()) {
                return m;
            }
            for (String pair : spec.split(",")) {
                String[] kv = pair.split("=", 2);
                if (kv.length != 2) {
                    throw CliException.badInput("--replicas: wants SERVICE=N, got '" + pair + "'");
                }
                String service;
                try {
                    service = StackService.of(kv[0].trim()).id();
                } catch (IllegalArgumentException e) {
                    throw CliException.badInput("--replicas: unknown service '" + kv[0].trim()
                            + "' (text-encoder, prior, decoder, upsampler, captioner, gateway)");
                }
                int n;
                try {
                    n = Integer.parseInt(kv[1].trim());
                } catch (NumberFormatException e) {
                    throw CliException.badInput("--replicas: not a number: '" + kv[1].trim() + "'");
                }
                if (n < 1 || n > 64) {
                    throw CliException.badInput("--replicas: " + service + " must be between 1 and 64, got " + n);
                }
                m.put(service, n);
            }
            return m;
        }

        private static int port(String option, Integer value, int dflt) {
            if (value == null) {
                return dflt;
            }
            if (value < 0 || value > 65535) {
                throw CliException.badInput(option + ": not a port: " + value);
            }
            return value;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Stop every process the stack started.")
    static final class Down extends StackBase {
        @Override
        int run() throws Exception {
            StackStatus s = LocalStack.down(stateDir());
            output.event("stack_down", Output.map("stopped", s.processes().size(), "state_dir", s.stateDir().toString()));
            output.info(s.processes().isEmpty() ? "no stack running (state in " + s.stateDir() + ")"
                    : "stopped " + s.processes().size() + " processes");
            return ExitCodes.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the stack's processes and addresses.")
    static final class Status extends StackBase {
        @Override
        int run() throws Exception {
            StackStatus s = LocalStack.status(stateDir());
            if (s.processes().isEmpty()) {
                output.event("stack_status", Output.map("running", false, "state_dir", s.stateDir().toString()));
                output.info("no stack running (state in " + s.stateDir() + ")");
                return ExitCodes.OK;
            }
            describe(s);
            return ExitCodes.OK;
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Restart one process of the running stack (e.g. decoder-1, kafka) with its command line:"
                    + " started again if it died, stopped gracefully first if it runs; same log (appended).")
    static final class Restart extends StackBase {
        @CommandLine.Parameters(paramLabel = "NAME", description = "The process, as `stack status` names it.")
        String name;

        @CommandLine.Mixin
        ReadyTimeout timeout;

        @Override
        int run() throws Exception {
            Duration wait = timeout.or(DEFAULT_READY);
            long t0 = System.nanoTime();
            StackProcess p;
            try {
                p = StackRestart.restart(stateDir(), name, wait);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput(e.getMessage());
            } catch (IllegalStateException e) {
                throw new CliException(ExitCodes.FAILED, e.getMessage(), e);
            }
            output.event("stack_restart", Output.map("name", p.name(), "pid", p.pid(), "port", p.port(),
                    "log", p.log().toString()));
            output.info(String.format(Locale.ROOT, "restarted %s in %.1f s: pid %d, localhost:%d, log %s", p.name(),
                    (System.nanoTime() - t0) / 1e9, p.pid(), p.port(), p.log()));
            return ExitCodes.OK;
        }
    }

    @Command(name = "scale", mixinStandardHelpOptions = true,
            description = "Add or remove replicas of services of the running stack (new ones run the first replica's"
                    + " command line with their own port; removed ones, the last first, are stopped gracefully).")
    static final class Scale extends StackBase {
        @CommandLine.Parameters(paramLabel = "SERVICE=N[,SERVICE=N...]", description = "Replicas wanted per service.")
        String replicas;

        @CommandLine.Mixin
        ReadyTimeout timeout;

        @Override
        int run() throws Exception {
            Duration wait = timeout.or(DEFAULT_READY);
            Map<String, Integer> wanted = Up.parseReplicas(replicas);
            if (wanted.isEmpty()) {
                throw CliException.badInput("scale: wants SERVICE=N, e.g. decoder=3");
            }
            for (Map.Entry<String, Integer> w : wanted.entrySet()) {
                long t0 = System.nanoTime();
                List<StackProcess> now;
                try {
                    now = StackScale.scale(stateDir(), w.getKey(), w.getValue(), wait);
                } catch (IllegalArgumentException e) {
                    throw CliException.badInput(e.getMessage());
                } catch (IllegalStateException e) {
                    throw new CliException(ExitCodes.FAILED, e.getMessage(), e);
                }
                output.event("stack_scale", Output.map("service", w.getKey(), "replicas", now.size(),
                        "processes", now.stream().map(StackProcess::name).toList()));
                output.info(String.format(Locale.ROOT, "%s: %d replicas in %.1f s (%s)", w.getKey(), now.size(),
                        (System.nanoTime() - t0) / 1e9, String.join(", ", now.stream().map(StackProcess::name).toList())));
            }
            return ExitCodes.OK;
        }
    }

    static final Duration DEFAULT_READY = Duration.ofSeconds(180);

    /** {@code --timeout}: how long up, restart and scale wait for the processes to be ready. */
    static final class ReadyTimeout {
        @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long to wait for readiness (default 180).")
        Integer seconds;

        /** The wait asked for, or {@code fallback} when unset. */
        Duration or(Duration fallback) {
            if (seconds == null) {
                return fallback;
            }
            if (seconds < 1) {
                throw CliException.badInput("--timeout: must be positive, got " + seconds);
            }
            return Duration.ofSeconds(seconds);
        }
    }

    static void describeJson(Output output, StackStatus s) {
        output.event("stack_status", Output.map("running", s.running(), "gateway", s.gatewayAddress(),
                "bootstrap", s.bootstrapServers(), "state_dir", s.stateDir().toString(),
                "processes", s.processes().stream().map(p -> Output.map("name", p.name(), "pid", p.pid(),
                        "port", p.port(), "up", p.alive(), "log", p.log().toString())).toList()));
    }
}
