package io.unclip.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A state directory as {@code up} leaves it, with one fake service per call: a single-file Java
 * program that answers 200 on every path (so /q/health/ready), started with the `-D` properties a
 * real service gets (port, instance id, partitions), for the restart and scale tests.
 */
final class FakeStack {
    private FakeStack() {
    }

    static final String SERVER = """
            public class Healthy {
                public static void main(String[] a) throws Exception {
                    int port = Integer.getInteger("quarkus.http.port");
                    var s = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("localhost", port), 0);
                    s.createContext("/", x -> { x.sendResponseHeaders(200, -1); x.close(); });
                    s.start();
                    System.out.println(System.getProperty("unclip.instance-id") + " serving on " + port);
                }
            }
            """;

    /** Starts {@code name} of {@code service}, records it in {@code dir}'s state and waits until it answers. */
    static StackProcess start(Path dir, String name, String service) throws Exception {
        Path src = dir.resolve("Healthy.java");
        if (!Files.exists(src)) {
            Files.writeString(src, SERVER);
        }
        int port = Ports.free(0);
        Path log = dir.resolve("logs/" + name + ".log");
        Files.createDirectories(log.getParent());
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m",
                "-Dquarkus.http.port=" + port, "-Dunclip.instance-id=" + name, "-Dunclip.kafka.partitions=4",
                src.toString());
        LaunchCommand.here(cmd).record(dir, name);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        StackProcess proc = new StackProcess(name, service, p.pid(), port, log,
                p.toHandle().info().startInstant().orElse(null));
        List<StackProcess> procs = new java.util.ArrayList<>(LocalStack.status(dir).processes());
        procs.add(proc);
        StackState.write(dir, new StackStatus(dir, "localhost:1", "localhost:2", procs));
        Readiness.awaitService(proc, System.nanoTime() + Duration.ofSeconds(60).toNanos(), java.util.Optional.empty());
        return proc;
    }

    /** Kills every process the state lists (the tests' cleanup). */
    static void killAll(Path dir) throws Exception {
        LocalStack.status(dir).processes().forEach(p -> p.handle().ifPresent(ProcessHandle::destroyForcibly));
    }
}
