package io.unclip.gateway.http;

import java.util.Optional;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * A request to /v1/* whose Content-Length is above {@code quarkus.http.limits.max-body-size} is 413 in OpenAI's
 * error shape, before a byte of it is read. Quarkus refuses it too, a step later, but with an empty body that no SDK
 * can explain; a chunked body (no length) that grows past the limit still gets that bare 413.
 */
@ApplicationScoped
public class BodyLimit {
    /** Before Quarkus's own check (order -2). */
    static final int ORDER = -3;

    @ConfigProperty(name = "quarkus.http.limits.max-body-size")
    Optional<MemorySize> maxBodySize;

    void route(@Observes Router router) {
        if (maxBodySize.isEmpty()) {
            return;
        }
        long max = maxBodySize.get().asLongValue();
        String body;
        try {
            body = new ObjectMapper().writeValueAsString(OpenAiError.of(413, "the request body is larger than "
                    + max + " bytes (quarkus.http.limits.max-body-size); an uploaded image may have at most 8 MiB",
                    null));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        router.route("/v1/*").order(ORDER).handler(ctx -> {
            String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            long n;
            try {
                n = length == null ? -1 : Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                n = -1; // Quarkus's own handling answers a malformed length
            }
            if (n > max) {
                ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                        .putHeader(HttpHeaders.CONNECTION, "close").end(body);
                return;
            }
            ctx.next();
        });
    }
}
