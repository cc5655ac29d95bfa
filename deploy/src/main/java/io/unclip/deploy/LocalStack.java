package io.unclip.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The distributed pipeline on one machine: a real single-node KRaft Kafka broker (broker and
 * controller in one process, from Apache Kafka's jars in {@code deploy/target/kafka-libs}), the
 * pipeline's topics, and every stage service and the gateway as its own JVM
 * ({@code <module>/target/quarkus-app/quarkus-run.jar}, configured by system properties), any
 * stage with several replicas sharing its topic's partitions.
 *
 * <p>{@link #up} writes what it started (PIDs, ports, logs) to a state directory
 * ({@code .unclip/stack/} by default) as it goes; {@link #down} stops exactly those processes
 * (checking each PID still belongs to the process it started) and {@link #status} reports them.
 * Logs go to {@code <state>/logs/}, JSON batch results' images to {@code <state>/results/},
 * large tensors to {@code <state>/blobs/}.
 *
 * <pre>
 * java -cp deploy/target/unclip-deploy.jar:deploy/target/kafka-libs/* io.unclip.deploy.LocalStack \
 *     up --models engine/src/test/resources/bundles/tiny --replicas decoder=2
 * ... status | down
 * </pre>
 */
public final class LocalStack {
    private LocalStack() {
    }

    /**
     * The pipeline's topics (proto/src/main/proto/unclip/v1/records.proto), as service-common's
     * {@code Topics.ALL} lists them. deploy does not depend on service-common: its jars would go
     * onto the broker's classpath (target/kafka-libs); cli's TopicListTest keeps the two equal.
     */
    public static final List<String> TOPICS = List.of("unclip.jobs", "stage.text-encoder", "stage.prior",
            "stage.decoder", "stage.upsampler", "stage.captioner", "unclip.events", "unclip.results",
            "unclip.dead-letter");

    /** Largest record the pipeline writes (previews and results carry PNGs). */
    static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

    /** The services, in start order: name (used in --replicas) and Maven module. */
    public enum Service {
        TEXT_ENCODER("text-encoder", "text-encoder-svc"),
        PRIOR("prior", "prior-svc"),
        DECODER("decoder", "decoder-svc"),
        UPSAMPLER("upsampler", "upsampler-svc"),
        CAPTIONER("captioner", "captioner-svc"),
        GATEWAY("gateway", "gateway");

        final String id;
        final String module;

        Service(String id, String module) {
            this.id = id;
            this.module = module;
        }

        public String id() {
            return id;
        }

        public static Service of(String id) {
            for (Service s : values()) {
                if (s.id.equals(id) || s.module.equals(id)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown service '" + id + "', expected one of "
                    + java.util.Arrays.stream(values()).map(Service::id).collect(Collectors.joining(", ")));
        }

        Path jar(Path root) {
            return root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        }
    }

    /**
     * How to start a stack.
     *
     * @param root        the repository (built: every service's quarkus-app and deploy/target/kafka-libs)
     * @param stateDir    where PIDs, logs, results and the broker's data go
     * @param modelsDir   the model bundle every service loads
     * @param replicas    replicas per service name (default 1 each)
     * @param kafkaPort   the broker's client port; 0 = a free one (9092 is tried first by {@link #defaults})
     * @param gatewayPort the gateway's port; 0 = a free one
     * @param partitions  partitions per topic (raised to the largest replica count)
     * @param jvmOptions  options for every service JVM
     * @param properties  extra system properties for every service (e.g. unclip.device=cuda)
     * @param timeout     how long to wait for everything to be ready
     */
    public record Options(Path root, Path stateDir, Path modelsDir, Map<String, Integer> replicas, int kafkaPort,
                          int gatewayPort, int partitions, List<String> jvmOptions, Map<String, String> properties,
                          Duration timeout) {
        public Options {
            replicas = Map.copyOf(replicas);
            jvmOptions = List.copyOf(jvmOptions);
            properties = Map.copyOf(properties);
            replicas.forEach((k, v) -> {
                Service.of(k);
                if (v < 1 || v > 64) {
                    throw new IllegalArgumentException("replicas of " + k + " must be in [1, 64], got " + v);
                }
            });
        }

        /**
         * Defaults for the repository at {@code root}: state in {@code root/.unclip/stack}, the
         * bundle at $UNCLIP_MODELS or {@code root/models/bundle} (as the CLI), one replica each,
         * Kafka on 9092 and the gateway on 8080 when free, 8 partitions, 512 MiB heaps.
         */
        public static Options defaults(Path root) {
            String env = System.getenv("UNCLIP_MODELS");
            Path models = env != null && !env.isBlank() ? Path.of(env) : root.resolve("models/bundle");
            return new Options(root, root.resolve(".unclip/stack"), models, Map.of(), 9092, 8080, 8,
                    List.of("-Xmx512m", "-XX:+UseSerialGC"), Map.of(), Duration.ofMinutes(3));
        }

        public Options withStateDir(Path d) {
            return new Options(root, d, modelsDir, replicas, kafkaPort, gatewayPort, partitions, jvmOptions, properties,
                    timeout);
        }

        public Options withModels(Path m) {
            return new Options(root, stateDir, m, replicas, kafkaPort, gatewayPort, partitions, jvmOptions, properties,
                    timeout);
        }

        public Options withReplicas(Map<String, Integer> r) {
            return new Options(root, stateDir, modelsDir, r, kafkaPort, gatewayPort, partitions, jvmOptions, properties,
                    timeout);
        }

        public Options withPorts(int kafka, int gateway) {
            return new Options(root, stateDir, modelsDir, replicas, kafka, gateway, partitions, jvmOptions, properties,
                    timeout);
        }

        public Options withPartitions(int p) {
            return new Options(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, p, jvmOptions, properties,
                    timeout);
        }

        public Options withJvmOptions(List<String> o) {
            return new Options(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, partitions, o, properties,
                    timeout);
        }

        public Options withProperties(Map<String, String> p) {
            return new Options(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, partitions, jvmOptions, p,
                    timeout);
        }

        public Options withTimeout(Duration t) {
            return new Options(root, stateDir, modelsDir, replicas, kafkaPort, gatewayPort, partitions, jvmOptions,
                    properties, t);
        }

        int replicasOf(Service s) {
            return replicas.getOrDefault(s.id, 1);
        }
    }

    /**
     * One started process.
     *
     * @param name    "kafka", or the service and replica ("decoder-2")
     * @param service "kafka" or the service name
     * @param pid     its process id
     * @param port    its port (the broker's client port, the service's HTTP/gRPC port)
     * @param log     its log file
     * @param started when it started (with the PID, identifies the process)
     */
    public record Proc(String name, String service, long pid, int port, Path log, Instant started) {
        /** The live process this entry names, if it is still running (and the PID was not reused). */
        public Optional<ProcessHandle> handle() {
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .filter(h -> started == null || h.info().startInstant().map(started::equals).orElse(true));
        }

        public boolean alive() {
            return handle().isPresent();
        }
    }

    /** What a state directory says is running. */
    public record Status(Path stateDir, String bootstrapServers, String gatewayAddress, List<Proc> processes) {
        public boolean running() {
            return !processes.isEmpty() && processes.stream().allMatch(Proc::alive);
        }

        public Optional<Proc> process(String name) {
            return processes.stream().filter(p -> p.name().equals(name)).findFirst();
        }

        public List<Proc> replicas(String service) {
            return processes.stream().filter(p -> p.service().equals(service)).toList();
        }

        /** A table of the processes, for people. */
        public String describe() {
            StringBuilder b = new StringBuilder();
            b.append("kafka bootstrap servers: ").append(bootstrapServers).append('\n');
            b.append("gateway (unclip.v1.ImageService, gRPC): ").append(gatewayAddress).append('\n');
            for (Proc p : processes) {
                b.append(String.format(Locale.ROOT, "  %-16s pid %-8d %-7s localhost:%-6d %s%n", p.name(), p.pid(),
                        p.alive() ? "up" : "DOWN", p.port(), p.log()));
            }
            return b.toString();
        }
    }

    // -------------------------------------------------------------------------------------------
    // up

    /**
     * Starts the broker, creates the topics, starts every service (as many replicas as asked),
     * and waits until each is ready. On failure stops what it started and throws, quoting the
     * failing process's log.
     */
    public static Status up(Options o) throws IOException, InterruptedException {
        Path state = o.stateDir().toAbsolutePath();
        Optional<Status> previous = read(state);
        if (previous.isPresent() && previous.get().processes().stream().anyMatch(Proc::alive)) {
            throw new IllegalStateException("a stack is already running from " + state + " (stop it with down):\n"
                    + previous.get().describe());
        }
        checkBuilt(o);
        if (!Files.isRegularFile(o.modelsDir().resolve("bundle.json"))) {
            throw new IllegalStateException("no model bundle at " + o.modelsDir() + " (no bundle.json); pass --models DIR");
        }
        Files.createDirectories(state.resolve("logs"));
        Files.createDirectories(state.resolve("results"));
        Files.createDirectories(state.resolve("blobs"));
        List<Proc> procs = new ArrayList<>();
        int kafkaPort = port(o.kafkaPort());
        int controllerPort = port(0);
        String bootstrap = "localhost:" + kafkaPort;
        int gatewayPort = port(o.gatewayPort());
        String gateway = "localhost:" + gatewayPort;
        try {
            procs.add(startKafka(o, state, kafkaPort, controllerPort));
            write(state, new Status(state, bootstrap, gateway, procs));
            awaitKafka(bootstrap, procs.get(0), o.timeout());
            int partitions = Math.max(o.partitions(), o.replicas().values().stream().mapToInt(i -> i).max().orElse(1));
            createTopics(bootstrap, partitions);

            Map<Service, Integer> firstPort = new LinkedHashMap<>();
            List<Proc> services = new ArrayList<>();
            int captionerPort = 0;
            for (Service s : Service.values()) {
                for (int r = 1; r <= o.replicasOf(s); r++) {
                    int port = s == Service.GATEWAY && r == 1 ? gatewayPort : port(0);
                    if (s == Service.CAPTIONER && captionerPort == 0) {
                        captionerPort = port;
                    }
                    firstPort.putIfAbsent(s, port);
                    String name = s.id + "-" + r;
                    Map<String, String> props = new LinkedHashMap<>();
                    props.put("quarkus.http.port", Integer.toString(port));
                    props.put("kafka.bootstrap.servers", bootstrap);
                    props.put("unclip.models.dir", o.modelsDir().toAbsolutePath().toString());
                    props.put("unclip.results.dir", state.resolve("results").toString());
                    props.put("unclip.blobs.dir", state.resolve("blobs").toString());
                    props.put("unclip.instance-id", name);
                    props.put("unclip.kafka.partitions", Integer.toString(partitions));
                    if (s == Service.GATEWAY) {
                        props.put("unclip.captioner.address", "localhost:" + captionerPort);
                    }
                    props.putAll(o.properties());
                    Proc p = startService(o, state, s, name, port, props);
                    procs.add(p);
                    services.add(p);
                    write(state, new Status(state, bootstrap, gateway, procs));
                }
            }
            long deadline = System.nanoTime() + o.timeout().toNanos();
            for (Proc p : services) {
                awaitReady(p, deadline);
            }
            Status s = new Status(state, bootstrap, gateway, List.copyOf(procs));
            write(state, s);
            return s;
        } catch (IOException | InterruptedException | RuntimeException e) {
            stop(procs);
            throw e;
        }
    }

    private static void checkBuilt(Options o) {
        List<String> missing = new ArrayList<>();
        if (!Files.isDirectory(kafkaLibs(o.root()))) {
            missing.add(kafkaLibs(o.root()).toString());
        }
        for (Service s : Service.values()) {
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

    static Path kafkaLibs(Path root) {
        return root.resolve("deploy/target/kafka-libs");
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Proc startKafka(Options o, Path state, int port, int controllerPort)
            throws IOException, InterruptedException {
        Path dir = state.resolve("kafka");
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Path config = dir.resolve("server.properties");
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.bootstrap.servers", "localhost:" + controllerPort);
        p.put("listeners", "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", data.toString());
        p.put("num.partitions", Integer.toString(o.partitions()));
        // one node: internal topics at replication factor 1, no initial rebalance delay
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.min.session.timeout.ms", "1000");
        p.put("message.max.bytes", Integer.toString(MAX_RECORD_BYTES));
        p.put("auto.create.topics.enable", "false");
        p.put("log.retention.hours", "24");
        try (OutputStream out = Files.newOutputStream(config)) {
            p.store(out, "unclip local stack: single-node KRaft broker");
        }
        String cp = kafkaLibs(o.root()).toAbsolutePath() + "/*";
        Path log = state.resolve("logs/kafka.log");
        // the data directory is formatted afresh for every stack: a clean broker each time
        deleteTree(data);
        Files.createDirectories(data);
        Process format = new ProcessBuilder(java(), "-cp", cp, "kafka.tools.StorageTool", "format", "--standalone",
                "-t", Uuid.randomUuid().toString(), "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
            format.destroyForcibly();
            throw new IllegalStateException("formatting the broker's storage failed:\n" + tail(log));
        }
        List<String> cmd = List.of(java(), "-Xmx512m", "-XX:+UseSerialGC",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, "kafka.Kafka", config.toString());
        StackRestart.recordCommand(state, "kafka", cmd);
        Process k = new ProcessBuilder(cmd)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new Proc("kafka", "kafka", k.pid(), port, log, k.toHandle().info().startInstant().orElse(null));
    }

    private static Proc startService(Options o, Path state, Service s, String name, int port, Map<String, String> props)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(o.jvmOptions());
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(s.jar(o.root()).toAbsolutePath().toString());
        Path log = state.resolve("logs/" + name + ".log");
        StackRestart.recordCommand(state, name, cmd);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new Proc(name, s.id, p.pid(), port, log, p.toHandle().info().startInstant().orElse(null));
    }

    static void awaitKafka(String bootstrap, Proc kafka, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        while (true) {
            if (!kafka.alive()) {
                throw new IllegalStateException("the Kafka broker exited:\n" + tail(kafka.log()));
            }
            if (listening(kafka.port())) {
                try (Admin admin = Admin.create(p)) {
                    admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    return;
                } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
                    // not yet
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Kafka broker did not start within " + timeout + ":\n"
                        + tail(kafka.log()));
            }
            Thread.sleep(200);
        }
    }

    /** Creates the pipeline's topics (existing ones are left as they are). */
    public static void createTopics(String bootstrap, int partitions) throws InterruptedException {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> topics = TOPICS.stream().filter(t -> !existing.contains(t))
                    .map(t -> new NewTopic(t, partitions, (short) 1).configs(t.equals("unclip.events")
                            ? Map.of("max.message.bytes", Integer.toString(MAX_RECORD_BYTES), "retention.ms", "3600000")
                            : Map.of("max.message.bytes", Integer.toString(MAX_RECORD_BYTES))))
                    .toList();
            for (var f : admin.createTopics(topics).values().values()) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topics: " + e.getCause(), e.getCause());
                    }
                }
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create topics: " + e, e);
        }
    }

    static void awaitReady(Proc p, long deadline) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        String last = "";
        while (true) {
            if (!p.alive()) {
                throw new IllegalStateException(p.name() + " exited:\n" + tail(p.log()));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + p.port()
                        + "/q/health/ready")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(p.name() + " not ready in time: " + last + "\n" + tail(p.log()));
            }
            Thread.sleep(200);
        }
    }

    // -------------------------------------------------------------------------------------------
    // down, status, kill

    /** Stops every process the state directory lists (services first, the broker last). */
    public static Status down(Path stateDir) throws IOException, InterruptedException {
        Path state = stateDir.toAbsolutePath();
        Optional<Status> s = read(state);
        if (s.isEmpty()) {
            return new Status(state, "", "", List.of());
        }
        stop(s.get().processes());
        Files.deleteIfExists(state.resolve("stack.properties"));
        return s.get();
    }

    private static void stop(List<Proc> procs) throws InterruptedException {
        List<Proc> order = new ArrayList<>(procs);
        order.sort(Comparator.comparing((Proc p) -> p.service().equals("kafka")));
        List<ProcessHandle> services = new ArrayList<>();
        for (Proc p : order) {
            if (!p.service().equals("kafka")) {
                p.handle().ifPresent(h -> {
                    h.destroy();
                    services.add(h);
                });
            }
        }
        awaitExit(services, Duration.ofSeconds(20));
        for (Proc p : order) {
            if (p.service().equals("kafka")) {
                p.handle().ifPresent(h -> {
                    h.destroy();
                    try {
                        awaitExit(List.of(h), Duration.ofSeconds(20));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        }
    }

    private static void awaitExit(List<ProcessHandle> handles, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : handles) {
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
            }
        }
    }

    /** What the state directory lists, with each process's liveness. */
    public static Status status(Path stateDir) throws IOException {
        return read(stateDir.toAbsolutePath()).orElse(new Status(stateDir.toAbsolutePath(), "", "", List.of()));
    }

    /** Kills one process of the stack at once (SIGKILL), as a crash would; for failure tests. */
    public static void kill(Path stateDir, String name) throws IOException {
        Proc p = status(stateDir).process(name).orElseThrow(() -> new IllegalArgumentException("no process " + name));
        p.handle().ifPresent(ProcessHandle::destroyForcibly);
    }

    // -------------------------------------------------------------------------------------------
    // state file

    static void write(Path state, Status s) throws IOException {
        Properties p = new Properties();
        p.put("bootstrap", s.bootstrapServers());
        p.put("gateway", s.gatewayAddress());
        for (int i = 0; i < s.processes().size(); i++) {
            Proc pr = s.processes().get(i);
            String k = "process." + i + ".";
            p.put(k + "name", pr.name());
            p.put(k + "service", pr.service());
            p.put(k + "pid", Long.toString(pr.pid()));
            p.put(k + "port", Integer.toString(pr.port()));
            p.put(k + "log", pr.log().toString());
            if (pr.started() != null) {
                p.put(k + "started", pr.started().toString());
            }
        }
        Path tmp = state.resolve("stack.properties.tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, "unclip local stack: what `up` started (read by down and status)");
        }
        Files.move(tmp, state.resolve("stack.properties"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static Optional<Status> read(Path state) throws IOException {
        Path f = state.resolve("stack.properties");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(f)) {
            p.load(in);
        }
        List<Proc> procs = new ArrayList<>();
        for (int i = 0; p.containsKey("process." + i + ".pid"); i++) {
            String k = "process." + i + ".";
            String started = p.getProperty(k + "started");
            procs.add(new Proc(p.getProperty(k + "name"), p.getProperty(k + "service"),
                    Long.parseLong(p.getProperty(k + "pid")), Integer.parseInt(p.getProperty(k + "port")),
                    Path.of(p.getProperty(k + "log")), started == null ? null : Instant.parse(started)));
        }
        return Optional.of(new Status(state, p.getProperty("bootstrap", ""), p.getProperty("gateway", ""), procs));
    }

    // -------------------------------------------------------------------------------------------
    // helpers

    /** {@code wanted} if it is free (or a free port when {@code wanted} is 0 or taken). */
    static int port(int wanted) throws IOException {
        if (wanted > 0 && !listening(wanted)) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("localhost", wanted));
                return wanted;
            } catch (IOException e) {
                // taken: fall through
            }
        }
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("localhost", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "  (" + log + ")\n" + lines.subList(Math.max(0, lines.size() - 30), lines.size()).stream()
                    .map(l -> "  | " + l).collect(Collectors.joining("\n"));
        } catch (IOException | UncheckedIOException e) {
            return "  (no log at " + log + ")";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    // -------------------------------------------------------------------------------------------
    // command line

    static final String USAGE = """
            usage: LocalStack up [--models DIR] [--replicas SERVICE=N[,SERVICE=N...]]... [--state-dir DIR]
                                 [--kafka-port N] [--gateway-port N] [--partitions N] [--root DIR]
                                 [-D key=value]...
                   LocalStack down [--state-dir DIR] [--root DIR]
                   LocalStack status [--state-dir DIR] [--root DIR]
            services: text-encoder, prior, decoder, upsampler, captioner, gateway""";

    /** The command line as options: {@code args} after the command word. */
    static Options parse(List<String> args, Path defaultRoot) {
        Path root = defaultRoot;
        for (int i = 0; i < args.size() - 1; i++) {
            if (args.get(i).equals("--root")) {
                root = Path.of(args.get(i + 1));
            }
        }
        Options o = Options.defaults(root);
        Map<String, Integer> replicas = new LinkedHashMap<>();
        Map<String, String> props = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String v = i + 1 < args.size() ? args.get(i + 1) : null;
            if (v == null && !a.startsWith("-D")) {
                throw new IllegalArgumentException(a + " needs a value\n" + USAGE);
            }
            switch (a) {
                case "--root" -> i++;
                case "--models" -> {
                    o = o.withModels(Path.of(v));
                    i++;
                }
                case "--state-dir" -> {
                    o = o.withStateDir(Path.of(v));
                    i++;
                }
                case "--kafka-port" -> {
                    o = o.withPorts(Integer.parseInt(v), o.gatewayPort());
                    i++;
                }
                case "--gateway-port" -> {
                    o = o.withPorts(o.kafkaPort(), Integer.parseInt(v));
                    i++;
                }
                case "--partitions" -> {
                    o = o.withPartitions(Integer.parseInt(v));
                    i++;
                }
                case "--replicas" -> {
                    for (String pair : v.split(",")) {
                        String[] kv = pair.split("=", 2);
                        if (kv.length != 2) {
                            throw new IllegalArgumentException("--replicas wants SERVICE=N, got " + pair);
                        }
                        replicas.put(Service.of(kv[0].trim()).id(), Integer.parseInt(kv[1].trim()));
                    }
                    i++;
                }
                default -> {
                    if (a.startsWith("-D")) {
                        String kv = a.length() > 2 ? a.substring(2) : v;
                        if (a.length() == 2) {
                            i++;
                        }
                        String[] parts = kv.split("=", 2);
                        props.put(parts[0], parts.length > 1 ? parts[1] : "");
                    } else {
                        throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
                    }
                }
            }
        }
        return o.withReplicas(replicas).withProperties(props);
    }

    /** The repository root: the working directory if it has deploy/, else two levels above this jar. */
    static Path defaultRoot() {
        Path cwd = Path.of("").toAbsolutePath();
        if (Files.isDirectory(cwd.resolve("deploy"))) {
            return cwd;
        }
        try {
            Path jar = Path.of(LocalStack.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path root = jar.getParent().getParent().getParent();
            if (root != null && Files.isDirectory(root.resolve("deploy"))) {
                return root;
            }
        } catch (Exception e) {
            // fall through
        }
        return cwd;
    }

    public static void main(String[] args) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"); // the admin client's chatter
        }
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.println(USAGE);
            return;
        }
        try {
            List<String> rest = List.of(args).subList(1, args.length);
            Options o = parse(rest, defaultRoot());
            switch (args[0]) {
                case "up" -> {
                    long t0 = System.nanoTime();
                    Status s = up(o);
                    System.out.printf("unclip stack up in %.1f s (state in %s)%n", (System.nanoTime() - t0) / 1e9,
                            s.stateDir());
                    System.out.print(s.describe());
                    System.out.println("batch results (JSON jobs): " + s.stateDir().resolve("results"));
                }
                case "down" -> {
                    Status s = down(o.stateDir());
                    System.out.println(s.processes().isEmpty() ? "no stack at " + s.stateDir()
                            : "stopped " + s.processes().size() + " processes");
                }
                case "status" -> {
                    Status s = status(o.stateDir());
                    System.out.print(s.processes().isEmpty() ? "no stack at " + s.stateDir() + "\n" : s.describe());
                    if (!s.processes().isEmpty() && !s.running()) {
                        System.exit(1);
                    }
                }
                default -> throw new IllegalArgumentException("unknown command " + args[0] + "\n" + USAGE);
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("unclip stack: " + e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            System.err.println("unclip stack: " + e);
            System.exit(1);
        }
    }
}
