package io.unclip.deploy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * One started process of the stack.
 *
 * @param name    "kafka", or the service and replica ("decoder-2")
 * @param service "kafka" or the service name
 * @param pid     its process id
 * @param port    its port (the broker's client port, the service's HTTP/gRPC port)
 * @param log     its log file
 * @param started when it started (with the PID, identifies the process)
 */
public record StackProcess(String name, String service, long pid, int port, Path log, Instant started) {
    /** The service name of the broker's entry. */
    public static final String KAFKA = "kafka";

    /** An entry for {@code process}, just started. */
    static StackProcess of(String name, String service, Process process, int port, Path log) {
        return new StackProcess(name, service, process.pid(), port, log,
                process.toHandle().info().startInstant().orElse(null));
    }

    /** The live process this entry names, if it is still running (and the PID was not reused). */
    public Optional<ProcessHandle> handle() {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(h -> started == null || h.info().startInstant().map(started::equals).orElse(true));
    }

    public boolean alive() {
        return handle().isPresent();
    }

    /** Whether this is the broker. */
    public boolean isKafka() {
        return service.equals(KAFKA);
    }
}
