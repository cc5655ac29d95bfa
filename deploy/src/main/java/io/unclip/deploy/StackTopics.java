package io.unclip.deploy;

import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import io.unclip.service.kafka.Topics;

/**
 * The pipeline's topics on the stack's broker: exactly service-common's {@link Topics#ALL}, with
 * its per-topic settings ({@link Topics#ensure}), so the stack and the services cannot disagree.
 */
final class StackTopics {
    private StackTopics() {
    }

    private static final long TIMEOUT_MS = 30_000;

    /** Creates the missing topics with {@code partitions} partitions each (existing ones are left as they are). */
    static void create(String bootstrap, Map<String, String> client, int partitions) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            Topics.ensure(admin, partitions, (short) 1, TIMEOUT_MS);
        }
    }
}
