package io.unclip.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The distributed pipeline on one machine: a real single-node KRaft Kafka broker
 * ({@link BrokerLauncher}), the pipeline's topics ({@link StackTopics}), and every stage service
 * and the gateway as its own JVM ({@link ServiceLauncher}), any stage with several replicas
 * sharing its topic's partitions. The command line is {@code unclip stack} (the cli module's
 * {@code StackCommand}).
 *
 * <p>{@link #up} writes what it started (PIDs, ports, logs) to a state directory
 * ({@code .unclip/stack/} by default, {@link StackState}) as it goes; {@link #down} stops exactly
 * those processes (checking each PID still belongs to the process it started) and
 * {@link #status} reports them. Logs go to {@code <state>/logs/}, JSON batch results' images to
 * {@code <state>/results/}, large tensors to {@code <state>/blobs/}.
 */
public final class LocalStack {
    private LocalStack() {
    }

    /**
     * Starts the broker, creates the topics, starts every service (as many replicas as asked),
     * and waits until each is ready. On failure stops what it started and throws, quoting the
     * failing process's log.
     */
    public static StackStatus up(StackOptions o) throws IOException, InterruptedException {
        Path state = o.stateDir().toAbsolutePath();
        refuseRunning(state);
        requireBuilt(o);
        if (!Files.isRegularFile(o.modelsDir().resolve("bundle.json"))) {
            throw new IllegalStateException("no model bundle at " + o.modelsDir() + " (no bundle.json); pass --models DIR");
        }
        for (String dir : List.of("logs", "results", "blobs")) {
            Files.createDirectories(state.resolve(dir));
        }
        Optional<StackSecurity> security = o.secure() ? Optional.of(StackSecurity.create(state)) : Optional.empty();
        if (!o.secure()) {
            StackSecurity.clear(state);
        }
        Map<String, String> client = security.map(StackSecurity::kafkaClient).orElse(Map.of());
        int kafkaPort = Ports.free(o.kafkaPort());
        int controllerPort = Ports.free(0);
        int gatewayPort = Ports.free(o.gatewayPort());
        StackStatus stack = new StackStatus(state, "localhost:" + kafkaPort, "localhost:" + gatewayPort, List.of());
        List<StackProcess> procs = new ArrayList<>();
        try {
            StackProcess kafka = BrokerLauncher.start(state, BrokerLauncher.classpath(o.root()), kafkaPort,
                    controllerPort, o.partitions(), security);
            procs.add(kafka);
            StackState.write(state, stack.with(procs));
            Readiness.awaitBroker(stack.bootstrapServers(), client, kafka, o.timeout());
            int partitions = o.topicPartitions();
            StackTopics.create(stack.bootstrapServers(), client, partitions);

            List<StackProcess> services = new ArrayList<>();
            int captionerPort = 0;
            for (StackService s : StackService.values()) {
                for (int r = 1; r <= o.replicasOf(s); r++) {
                    int port = s == StackService.GATEWAY && r == 1 ? gatewayPort : Ports.free(0);
                    if (s == StackService.CAPTIONER && captionerPort == 0) {
                        captionerPort = port;
                    }
                    var wiring = new ServiceLauncher.Wiring(stack.bootstrapServers(), partitions, captionerPort,
                            security);
                    StackProcess p = ServiceLauncher.start(o, state, s, s.id() + "-" + r, port, wiring);
                    procs.add(p);
                    services.add(p);
                    StackState.write(state, stack.with(procs));
                }
            }
            long deadline = System.nanoTime() + o.timeout().toNanos();
            for (StackProcess p : services) {
                Readiness.awaitService(p, deadline, security);
            }
            return stack.with(procs);
        } catch (IOException | InterruptedException | RuntimeException e) {
            Processes.stopAll(procs);
            throw e;
        }
    }

    private static void refuseRunning(Path state) throws IOException {
        Optional<StackStatus> previous = StackState.read(state);
        if (previous.isPresent() && previous.get().processes().stream().anyMatch(StackProcess::alive)) {
            throw new IllegalStateException("a stack is already running from " + state + " (stop it with down):\n"
                    + previous.get().describe());
        }
    }

    private static void requireBuilt(StackOptions o) {
        List<String> missing = new ArrayList<>();
        if (!Files.isDirectory(BrokerLauncher.kafkaLibs(o.root()))) {
            missing.add(BrokerLauncher.kafkaLibs(o.root()).toString());
        }
        for (StackService s : StackService.values()) {
            if (!Files.isRegularFile(s.jar(o.root()))) {
                missing.add(s.jar(o.root()).toString());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("not built: " + String.join(", ", missing) + "\nbuild them with: mvn -B -q"
                    + " -pl deploy,text-encoder-svc,prior-svc,decoder-svc,upsampler-svc,captioner-svc,gateway -am"
                    + " package -DskipTests");
        }
    }

    /** Stops every process the state directory lists (services first, the broker last). */
    public static StackStatus down(Path stateDir) throws IOException, InterruptedException {
        Path state = stateDir.toAbsolutePath();
        Optional<StackStatus> s = StackState.read(state);
        if (s.isEmpty()) {
            return StackStatus.none(state);
        }
        Processes.stopAll(s.get().processes());
        StackState.delete(state);
        return s.get();
    }

    /** What the state directory lists, with each process's liveness. */
    public static StackStatus status(Path stateDir) throws IOException {
        return StackState.status(stateDir.toAbsolutePath());
    }

    /** Kills one process of the stack at once (SIGKILL), as a crash would; for failure tests. */
    public static void kill(Path stateDir, String name) throws IOException {
        StackProcess p = status(stateDir).process(name)
                .orElseThrow(() -> new IllegalArgumentException("no process " + name));
        p.handle().ifPresent(ProcessHandle::destroyForcibly);
    }
}
