package io.unclip.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts one replica of a service as its own JVM ({@code <module>/target/quarkus-app/quarkus-run.jar})
 * configured by system properties, its output in {@code <state>/logs/<name>.log}.
 */
final class ServiceLauncher {
    private ServiceLauncher() {
    }

    /**
     * Where a replica finds the rest of the stack.
     *
     * @param bootstrap     the broker's bootstrap servers
     * @param partitions    partitions per topic
     * @param captionerPort the first captioner replica's port (the gateway calls it over gRPC)
     * @param security      the secure stack's secrets, or empty
     */
    record Wiring(String bootstrap, int partitions, int captionerPort, Optional<StackSecurity> security) {
    }

    /** The system properties of replica {@code name} of {@code s} on {@code port}; the options' own last. */
    static Map<String, String> properties(StackOptions o, Path state, StackService s, String name, int port,
                                          Wiring w) {
        Map<String, String> props = new LinkedHashMap<>();
        // a secure stack serves TLS only: the port is the HTTPS one and the plaintext one is not opened
        props.put(w.security().isPresent() ? "quarkus.http.ssl-port" : "quarkus.http.port", Integer.toString(port));
        props.put("kafka.bootstrap.servers", w.bootstrap());
        props.put("unclip.models.dir", o.modelsDir().toAbsolutePath().toString());
        props.put("unclip.results.dir", state.resolve("results").toString());
        props.put("unclip.blobs.dir", state.resolve("blobs").toString());
        props.put("unclip.instance-id", name);
        props.put("unclip.kafka.partitions", Integer.toString(w.partitions()));
        if (s == StackService.GATEWAY) {
            props.put("unclip.captioner.address", "localhost:" + w.captionerPort());
        }
        w.security().ifPresent(sec -> {
            props.put("quarkus.config.locations", sec.serviceConfig().toString());
            if (s == StackService.GATEWAY) {
                props.put("unclip.auth.keys-file", sec.apiKeys().toString());
                props.put("unclip.auth.service-token-file", sec.serviceToken().toString());
                props.put("unclip.captioner.ca-file", sec.caPem().toString());
            } else {
                props.put("unclip.auth.keys-file", sec.serviceTokens().toString());
            }
        });
        props.putAll(o.properties());
        return props;
    }

    /** {@code java <jvm options> -D<key>=<value>... -jar <the service's app>}. */
    static List<String> command(StackOptions o, StackService s, Map<String, String> props) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Processes.java());
        cmd.addAll(o.jvmOptions());
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(s.jar(o.root()).toAbsolutePath().toString());
        return cmd;
    }

    /** Starts replica {@code name} (not waiting for it: {@link Readiness#awaitService}); records its command line. */
    static StackProcess start(StackOptions o, Path state, StackService s, String name, int port, Wiring w)
            throws IOException {
        LaunchCommand cmd = LaunchCommand.here(command(o, s, properties(o, state, s, name, port, w)));
        cmd.record(state, name);
        Path log = state.resolve("logs/" + name + ".log");
        return StackProcess.of(name, s.id(), cmd.start(log, false), port, log);
    }
}
