package io.unclip.kafka.testkit;

import java.util.List;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * A stage service under test with a real broker ({@link KafkaResource}) and the engine's tiny
 * model bundle (system property {@code unclip.test.bundle}, set by the module's surefire
 * configuration): its Kafka worker starts once the model is loaded.
 */
public class WorkerTestProfile implements QuarkusTestProfile {
    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(KafkaResource.class));
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        String bundle = System.getProperty("unclip.test.bundle");
        if (bundle == null) {
            throw new IllegalStateException("system property unclip.test.bundle is not set (see the module's surefire config)");
        }
        return Map.of("unclip.models.dir", bundle, "unclip.kafka.partitions", "2",
                "unclip.results.dir", System.getProperty("java.io.tmpdir") + "/unclip-test-results");
    }
}
