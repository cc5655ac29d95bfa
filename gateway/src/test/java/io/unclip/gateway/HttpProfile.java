package io.unclip.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.unclip.kafka.testkit.KafkaResource;
import io.unclip.service.auth.ApiKeys;

/**
 * The gateway of the HTTP door tests: a real broker, a keys file (one key for everything, one that may only read
 * jobs), a small stream limit, so that 401, 403 and 429 can be reached, the engine's tiny bundle, and HTTPS (a
 * self-signed certificate, {@link TestTls}) on a second port next to plaintext, for HTTP/2 over TLS.
 */
public class HttpProfile implements QuarkusTestProfile {
    static final String KEY = ApiKeys.newKey();
    static final String READER = ApiKeys.newKey();
    static final int MAX_STREAMS = 3;

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(KafkaResource.class));
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        try {
            Path keys = Files.createTempFile("unclip-http-keys", ".txt");
            Files.writeString(keys, ApiKeys.line(KEY, "tests", List.of()) + "\n"
                    + ApiKeys.line(READER, "reader", List.of("unclip.v1.ImageService/GetJob")) + "\n");
            keys.toFile().deleteOnExit();
            return Map.of("unclip.kafka.partitions", "2",
                    "quarkus.tls.key-store.p12.path", TestTls.keyStore().toString(),
                    "quarkus.tls.key-store.p12.password", TestTls.PASSWORD,
                    "quarkus.http.test-ssl-port", "0",
                    "unclip.auth.keys-file", keys.toString(),
                    "unclip.gateway.max-streams", String.valueOf(MAX_STREAMS),
                    // the engine's tiny bundle: the gateway knows its sizes (8, 32, 128) and each job's plan
                    "unclip.models.dir", System.getProperty("unclip.test.bundle"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
