package io.unclip.service.auth;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The service's one key store: the {@link ApiKeys} of {@code unclip.auth.keys-file}, read at start (an unreadable
 * or malformed file stops the service: a typo must not open the door) and re-read on change. Every door asks it:
 * gRPC ({@link BearerAuthInterceptor}) and, on the gateway, HTTP, by the gRPC method name a route stands for, so a
 * key's method list means the same at both. Unset = no authentication.
 */
@ApplicationScoped
@Startup
public class ServiceKeys {
    private static final Logger LOG = Logger.getLogger(ServiceKeys.class);

    @ConfigProperty(name = "unclip.auth.keys-file")
    Optional<String> keysFile;

    private volatile ApiKeys keys;

    @PostConstruct
    void load() {
        if (keysFile.isEmpty() || keysFile.get().isBlank()) {
            return;
        }
        try {
            keys = ApiKeys.load(Path.of(keysFile.get()));
        } catch (IOException | IllegalArgumentException e) {
            // refuse to start rather than serve without the keys someone meant to require
            throw new IllegalStateException("unclip.auth.keys-file " + keysFile.get() + ": " + e.getMessage(), e);
        }
        LOG.infof("calls need a bearer key: %d key(s) in %s", keys.size(), keysFile.get());
    }

    /** The keys in force, or empty when the service needs none. */
    public Optional<ApiKeys> keys() {
        return Optional.ofNullable(keys);
    }
}
