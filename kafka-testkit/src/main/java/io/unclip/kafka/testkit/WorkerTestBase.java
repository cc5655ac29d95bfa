package io.unclip.kafka.testkit;

import java.net.URL;
import java.time.Duration;
import java.util.List;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import io.quarkus.test.common.http.TestHTTPResource;

/**
 * What every stage service's worker test needs (run it with {@link WorkerTestProfile}): the
 * service's address, the broker, and a {@link TopicProbe} on the topics the test reads back,
 * opened once the service reports ready (model loaded, worker in its group).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class WorkerTestBase {
    protected static final Duration WAIT = Duration.ofSeconds(60);

    @TestHTTPResource("/")
    protected URL base;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    protected String bootstrap;

    protected TopicProbe kafka;

    private final List<String> probed;

    /** @param probed the topics the test reads records from */
    protected WorkerTestBase(String... probed) {
        this.probed = List.of(probed);
    }

    @BeforeAll
    void awaitReadyAndProbe() {
        Ready.await(base.toString(), WAIT);
        kafka = new TopicProbe(bootstrap, probed.toArray(String[]::new));
    }

    @AfterAll
    void closeProbe() {
        if (kafka != null) {
            kafka.close();
        }
    }
}
