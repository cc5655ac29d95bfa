package io.unclip.deploy;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.WithDefaults;
import io.smallrye.config.WithParentName;

/**
 * The key/cert pairs a service's default TLS configuration gets from a container's environment, read as the
 * services read it: by SmallRye Config (the version Quarkus ships), into a mapping of the same shape as the TLS
 * registry's {@code io.quarkus.tls.runtime.config.TlsConfig} (quarkus-tls-registry itself stays off this
 * module's class path: the broker's jars are copied from it). Worth it because the name is easy to get wrong:
 * {@code QUARKUS_TLS_KEY_STORE_PEM_0_CERT}, Quarkus' documented {@code pem.0.cert} spelt as a variable, gives no
 * pair at all, and a service with insecure requests disabled then refuses to start.
 */
final class QuarkusTls {
    private QuarkusTls() {
    }

    @ConfigMapping(prefix = "quarkus.tls")
    interface Tls {
        @WithParentName
        Optional<Bucket> defaultCertificateConfig();

        @WithParentName
        @WithDefaults
        Map<String, Bucket> namedCertificateConfig();
    }

    interface Bucket {
        Optional<KeyStore> keyStore();
    }

    interface KeyStore {
        Optional<Pem> pem();
    }

    interface Pem {
        @WithParentName
        Map<String, KeyCert> keyCerts();
    }

    interface KeyCert {
        Path cert();

        Path key();
    }

    record KeyCertPaths(String cert, String key) {
    }

    /** The PEM key/cert pairs of the default TLS configuration that {@code env} gives a service. */
    static List<KeyCertPaths> defaultKeyCerts(Map<String, String> env) {
        Map<String, String> tls = env.entrySet().stream()
                .filter(e -> e.getKey().toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_").startsWith("QUARKUS_TLS_"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new EnvConfigSource(tls, 300))
                .withMapping(Tls.class)
                .withValidateUnknown(false)
                .build();
        return config.getConfigMapping(Tls.class).defaultCertificateConfig()
                .flatMap(Bucket::keyStore).flatMap(KeyStore::pem)
                .map(p -> p.keyCerts().values().stream()
                        .map(k -> new KeyCertPaths(k.cert().toString(), k.key().toString())).toList())
                .orElse(List.of());
    }
}
