package io.unclip.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Adds or removes replicas of one service of a running local stack: {@code unclip stack scale
 * decoder=3}. A new replica {@code <service>-<k>} runs the command line of the service's first
 * replica with its own port, instance id and log (a new member of the stage's consumer group);
 * a removed one (the highest-numbered first) is stopped gracefully, as {@code down} would, and
 * leaves the state file. Replicas beyond the topics' partition count would idle, so they are
 * refused.
 */
public final class StackScale {
    private StackScale() {
    }

    /**
     * Scales {@code service} to {@code replicas}, waiting until every new replica is ready.
     *
     * @return the service's replicas afterwards
     * @throws IllegalArgumentException an unknown service, the broker, a count out of [1, partitions]
     * @throws IllegalStateException    no command line recorded for the first replica, or a new one not ready in time
     */
    public static List<LocalStack.Proc> scale(Path stateDir, String service, int replicas, Duration timeout)
            throws IOException, InterruptedException {
        Path state = stateDir.toAbsolutePath();
        String id = LocalStack.Service.of(service).id();
        LocalStack.Status s = LocalStack.status(state);
        if (s.processes().isEmpty()) {
            throw new IllegalArgumentException("no stack at " + state);
        }
        List<LocalStack.Proc> current = new ArrayList<>(s.replicas(id));
        current.sort(Comparator.comparingInt(StackScale::number));
        if (current.isEmpty()) {
            throw new IllegalArgumentException("the stack at " + state + " runs no " + id);
        }
        String first = current.get(0).name();
        StackRestart.Command template = StackRestart.readCommand(state, first).orElseThrow(() ->
                new IllegalStateException("no command line recorded for " + first + " in "
                        + StackRestart.commandFile(state, first) + " (a stack started before scale existed?)"));
        int partitions = Integer.parseInt(property(template.args(), "unclip.kafka.partitions", "64"));
        if (replicas < 1 || replicas > Math.min(64, partitions)) {
            throw new IllegalArgumentException("replicas of " + id + " must be in [1, " + Math.min(64, partitions)
                    + "] (the topics have " + partitions + " partitions; more replicas would idle), got " + replicas);
        }
        List<LocalStack.Proc> added = new ArrayList<>();
        while (current.size() < replicas) {
            int k = number(current.get(current.size() - 1)) + 1;
            String name = id + "-" + k;
            int port = LocalStack.port(0);
            List<String> args = new ArrayList<>();
            for (String a : template.args()) {
                args.add(a.startsWith("-Dquarkus.http.port=") ? "-Dquarkus.http.port=" + port
                        : a.startsWith("-Dunclip.instance-id=") ? "-Dunclip.instance-id=" + name : a);
            }
            StackRestart.recordCommand(state, name, args);
            Path log = state.resolve("logs/" + name + ".log");
            Process p = new ProcessBuilder(args).directory(template.dir().toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            LocalStack.Proc proc = new LocalStack.Proc(name, id, p.pid(), port, log,
                    p.toHandle().info().startInstant().orElse(null));
            update(state, procs -> procs.add(proc));
            current.add(proc);
            added.add(proc);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (LocalStack.Proc p : added) {
            LocalStack.awaitReady(p, deadline);
        }
        while (current.size() > replicas) {
            LocalStack.Proc last = current.remove(current.size() - 1);
            if (last.handle().isPresent()) {
                StackRestart.stop(last.handle().get());
            }
            update(state, procs -> procs.removeIf(q -> q.name().equals(last.name())));
            Files.deleteIfExists(StackRestart.commandFile(state, last.name()));
        }
        return List.copyOf(current);
    }

    private static void update(Path state, java.util.function.Consumer<List<LocalStack.Proc>> change) throws IOException {
        synchronized (StackRestart.STATE_LOCK) {
            LocalStack.Status s = LocalStack.status(state);
            List<LocalStack.Proc> procs = new ArrayList<>(s.processes());
            change.accept(procs);
            LocalStack.write(state, new LocalStack.Status(state, s.bootstrapServers(), s.gatewayAddress(),
                    List.copyOf(procs)));
        }
    }

    /** The replica number of "decoder-12": 12. */
    private static int number(LocalStack.Proc p) {
        return Integer.parseInt(p.name().substring(p.name().lastIndexOf('-') + 1));
    }

    private static String property(List<String> args, String key, String dflt) {
        return args.stream().filter(a -> a.startsWith("-D" + key + "=")).map(a -> a.substring(key.length() + 3))
                .findFirst().orElse(dflt);
    }
}
