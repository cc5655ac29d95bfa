package io.unclip.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

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
    public static List<StackProcess> scale(Path stateDir, String service, int replicas, Duration timeout)
            throws IOException, InterruptedException {
        Path state = stateDir.toAbsolutePath();
        String id = StackService.of(service).id();
        StackStatus s = StackState.status(state);
        if (s.processes().isEmpty()) {
            throw new IllegalArgumentException("no stack at " + state);
        }
        List<StackProcess> current = new ArrayList<>(s.replicas(id));
        current.sort(Comparator.comparingInt(StackScale::number));
        if (current.isEmpty()) {
            throw new IllegalArgumentException("the stack at " + state + " runs no " + id);
        }
        String first = current.get(0).name();
        LaunchCommand template = LaunchCommand.read(state, first).orElseThrow(() ->
                new IllegalStateException("no command line recorded for " + first + " in "
                        + LaunchCommand.file(state, first) + " (a stack started before scale existed?)"));
        int partitions = Integer.parseInt(property(template.args(), "unclip.kafka.partitions", "64"));
        if (replicas < 1 || replicas > Math.min(64, partitions)) {
            throw new IllegalArgumentException("replicas of " + id + " must be in [1, " + Math.min(64, partitions)
                    + "] (the topics have " + partitions + " partitions; more replicas would idle), got " + replicas);
        }
        List<StackProcess> added = new ArrayList<>();
        while (current.size() < replicas) {
            int k = number(current.get(current.size() - 1)) + 1;
            String name = id + "-" + k;
            int port = Ports.free(0);
            List<String> args = new ArrayList<>();
            for (String a : template.args()) {
                args.add(a.startsWith("-Dquarkus.http.port=") ? "-Dquarkus.http.port=" + port
                        : a.startsWith("-Dquarkus.http.ssl-port=") ? "-Dquarkus.http.ssl-port=" + port
                        : a.startsWith("-Dunclip.instance-id=") ? "-Dunclip.instance-id=" + name : a);
            }
            LaunchCommand cmd = new LaunchCommand(template.dir(), args);
            cmd.record(state, name);
            Path log = state.resolve("logs/" + name + ".log");
            StackProcess proc = StackProcess.of(name, id, cmd.start(log, false), port, log);
            StackState.update(state, procs -> procs.add(proc));
            current.add(proc);
            added.add(proc);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<StackSecurity> security = StackSecurity.load(state);
        for (StackProcess p : added) {
            Readiness.awaitService(p, deadline, security);
        }
        while (current.size() > replicas) {
            StackProcess last = current.remove(current.size() - 1);
            if (last.handle().isPresent()) {
                Processes.stop(last.handle().get());
            }
            StackState.update(state, procs -> procs.removeIf(q -> q.name().equals(last.name())));
            LaunchCommand.delete(state, last.name());
        }
        return List.copyOf(current);
    }

    /** The replica number of "decoder-12": 12. */
    private static int number(StackProcess p) {
        return Integer.parseInt(p.name().substring(p.name().lastIndexOf('-') + 1));
    }

    private static String property(List<String> args, String key, String dflt) {
        return args.stream().filter(a -> a.startsWith("-D" + key + "=")).map(a -> a.substring(key.length() + 3))
                .findFirst().orElse(dflt);
    }
}
