package io.unclip.gateway.http;

import java.util.Optional;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.SimpleResourceInfo;

import io.unclip.service.auth.ApiKeys;
import io.unclip.service.auth.ServiceKeys;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

/**
 * API keys at the HTTP doors, from the same key store as gRPC ({@link ServiceKeys}): each route is checked as the gRPC
 * method it stands for ({@link StandsFor}), so a key limited to GetJob reads jobs at both doors and generates at
 * neither. No key or an unknown one is 401, a key not allowed the method 403 (OpenAI's error shape). Capability URLs
 * ({@link CapabilityUrl}) stay open; so do health, metrics and the static page, which are not REST routes. A route
 * with neither annotation is refused: a new route is closed until someone says what it stands for.
 */
public class HttpKeyFilter {
    @Inject
    ServiceKeys serviceKeys;

    @ServerRequestFilter
    public Optional<Response> check(ContainerRequestContext request, SimpleResourceInfo route) {
        ApiKeys keys = serviceKeys.keys().orElse(null);
        if (keys == null) {
            return Optional.empty();
        }
        java.lang.reflect.Method m;
        try {
            m = route.getResourceClass().getMethod(route.getMethodName(), route.parameterTypes());
        } catch (NoSuchMethodException e) {
            return Optional.of(OpenAiError.response(403, "route " + route.getMethodName() + " is closed", null));
        }
        if (m.isAnnotationPresent(CapabilityUrl.class)) {
            return Optional.empty();
        }
        StandsFor method = m.getAnnotation(StandsFor.class);
        if (method == null) {
            return Optional.of(OpenAiError.response(403, "route " + request.getUriInfo().getPath()
                    + " stands for no API method and is closed while keys are required", null));
        }
        return keys.refusal(request.getHeaderString(HttpHeaders.AUTHORIZATION), method.value(),
                        "send the header 'Authorization: Bearer <key>' (OpenAI SDKs: apiKey / api_key)")
                .map(r -> OpenAiError.response(r.unauthenticated() ? 401 : 403, r.message(), null));
    }
}
