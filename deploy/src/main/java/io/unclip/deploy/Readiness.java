package io.unclip.deploy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Waiting until a started process is ready: the broker once it answers a metadata request, a
 * service once its {@code /q/health/ready} answers 200. Both fail at once, quoting the log, when
 * the process exits, and quote the log too when time runs out.
 */
final class Readiness {
    private Readiness() {
    }

    private static final long POLL_MS = 200;

    /**
     * Waits until the broker {@code kafka} at {@code bootstrap} describes its cluster to a client with the
     * settings {@code client} (the secure stack's SASL_SSL ones, or none).
     */
    static void awaitBroker(String bootstrap, Map<String, String> client, StackProcess kafka, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties p = new Properties();
        p.putAll(client);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        while (true) {
            if (!kafka.alive()) {
                throw new IllegalStateException("the Kafka broker exited:\n" + Processes.tail(kafka.log()));
            }
            if (Ports.listening(kafka.port())) {
                try (Admin admin = Admin.create(p)) {
                    admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    return;
                } catch (ExecutionException | TimeoutException | RuntimeException e) {
                    // not yet
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Kafka broker did not start within " + timeout + ":\n"
                        + Processes.tail(kafka.log()));
            }
            Thread.sleep(POLL_MS);
        }
    }

    /**
     * Waits until the service {@code p} reports ready, until {@code deadline} ({@link System#nanoTime}); over TLS
     * trusting the stack's CA when the stack is secure.
     */
    static void awaitService(StackProcess p, long deadline, Optional<StackSecurity> security)
            throws InterruptedException, IOException {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
        if (security.isPresent()) {
            b.sslContext(security.get().sslContext());
        }
        HttpClient http = b.build();
        URI ready = URI.create((security.isPresent() ? "https" : "http") + "://localhost:" + p.port()
                + "/q/health/ready");
        String last = "";
        while (true) {
            if (!p.alive()) {
                throw new IllegalStateException(p.name() + " exited:\n" + Processes.tail(p.log()));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(p.name() + " not ready in time: " + last + "\n" + Processes.tail(p.log()));
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** Waits until {@code p}, the broker or a service, is ready. */
    static void await(StackStatus stack, StackProcess p, Duration timeout) throws InterruptedException, IOException {
        Optional<StackSecurity> security = StackSecurity.load(stack.stateDir());
        if (p.isKafka()) {
            awaitBroker(stack.bootstrapServers(), security.map(StackSecurity::kafkaClient).orElse(Map.of()), p,
                    timeout);
        } else {
            awaitService(p, System.nanoTime() + timeout.toNanos(), security);
        }
    }
}
