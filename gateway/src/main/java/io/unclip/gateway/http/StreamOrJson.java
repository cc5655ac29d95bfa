package io.unclip.gateway.http;

import java.util.Optional;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.MediaType;

/**
 * OpenAI's generations answer JSON or an event stream as the body's {@code stream} says, not as {@code Accept}
 * says (the SDKs send {@code Accept: application/json} either way). This route reads the body first (REST then
 * takes it from here), and sets Accept from its {@code stream}, so that the JSON method or the event-stream method
 * of {@link OpenAiImagesResource} answers it.
 */
@ApplicationScoped
public class StreamOrJson {
    /** After the body-size checks (BodyLimit -3, Quarkus -2), before REST. */
    static final int ORDER = -1;

    @ConfigProperty(name = "quarkus.http.limits.max-body-size")
    Optional<MemorySize> maxBodySize;

    void route(@Observes Router router) {
        BodyHandler body = BodyHandler.create(false);
        maxBodySize.ifPresent(m -> body.setBodyLimit(m.asLongValue()));
        router.post("/v1/images/generations").order(ORDER).handler(body).handler(ctx -> {
            boolean stream = false;
            try {
                JsonObject o = ctx.body().asJsonObject();
                Object s = o == null ? null : o.getValue("stream");
                stream = Boolean.TRUE.equals(s) || "true".equals(s);
            } catch (RuntimeException e) {
                // not a JSON object: the JSON method says what is wrong with it
            }
            ctx.request().headers().set(HttpHeaders.ACCEPT, stream ? MediaType.SERVER_SENT_EVENTS
                    : MediaType.APPLICATION_JSON);
            ctx.next();
        });
    }
}
