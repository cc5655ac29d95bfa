package io.unclip.service.kafka;

import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/** What an operator should look at when a Kafka client cannot connect: the setting to fix, then Kafka's words. */
public final class KafkaFailures {
    private KafkaFailures() {
    }

    /** One line for {@code e}: authentication and TLS failures name the settings that decide them. */
    public static String explain(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SaslAuthenticationException) {
                return "Kafka refused this service's credentials (check kafka.sasl.mechanism and kafka.sasl.jaas.config,"
                        + " or KAFKA_SASL_*): " + t.getMessage();
            }
            if (t instanceof SslAuthenticationException) {
                return "the TLS handshake with Kafka failed (check kafka.ssl.truststore.* and that the broker's"
                        + " listener is SSL/SASL_SSL): " + t.getMessage();
            }
        }
        return e.getMessage();
    }
}
