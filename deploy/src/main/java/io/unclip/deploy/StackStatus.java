package io.unclip.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What a state directory says is running. */
public record StackStatus(Path stateDir, String bootstrapServers, String gatewayAddress, List<StackProcess> processes) {
    /** No stack: a state directory with nothing in it. */
    static StackStatus none(Path stateDir) {
        return new StackStatus(stateDir, "", "", List.of());
    }

    public boolean running() {
        return !processes.isEmpty() && processes.stream().allMatch(StackProcess::alive);
    }

    public Optional<StackProcess> process(String name) {
        return processes.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public List<StackProcess> replicas(String service) {
        return processes.stream().filter(p -> p.service().equals(service)).toList();
    }

    /** The same addresses with {@code processes}. */
    StackStatus with(List<StackProcess> now) {
        return new StackStatus(stateDir, bootstrapServers, gatewayAddress, List.copyOf(now));
    }

    /** A table of the processes, for people. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append("kafka bootstrap servers: ").append(bootstrapServers).append('\n');
        b.append("gateway (unclip.v1.ImageService, gRPC): ").append(gatewayAddress).append('\n');
        // the same port serves HTTP and the web page; a secure stack's gateway speaks TLS only (its CA in secure/)
        if (!gatewayAddress.isEmpty()) {
            String scheme = Files.isRegularFile(stateDir.resolve("secure/passwords.properties")) ? "https://" : "http://";
            b.append("gateway HTTP (OpenAI Images API, JSON door): ").append(scheme).append(gatewayAddress).append("/v1\n");
            b.append("web page: ").append(scheme).append(gatewayAddress).append("/\n");
        }
        for (StackProcess p : processes) {
            b.append(String.format(Locale.ROOT, "  %-16s pid %-8d %-7s localhost:%-6d %s%n", p.name(), p.pid(),
                    p.alive() ? "up" : "DOWN", p.port(), p.log()));
        }
        return b.toString();
    }
}
