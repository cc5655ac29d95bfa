package io.unclip.gateway.http;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * OpenAI's error body, {@code {"error": {"message", "type", "param", "code"}}}, which the OpenAI SDKs parse into
 * their errors (BadRequestError, AuthenticationError, ...): every HTTP door's errors have this shape. {@code param}
 * is the request field at fault (the field path of the validator's message), or null.
 */
public record OpenAiError(Body error) {
    public record Body(String message, String type, String param, String code) {
    }

    public static final String INVALID_REQUEST = "invalid_request_error";
    public static final String SERVER_ERROR = "server_error";

    public static Response response(int status, String message, String param) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(of(status, message, param)).build();
    }

    /** The error for an HTTP status, with OpenAI's type and a code that says which refusal it is. */
    public static OpenAiError of(int status, String message, String param) {
        String type = status >= 500 ? SERVER_ERROR : status == 429 ? "rate_limit_error"
                : status == 403 ? "permission_error" : status == 401 ? "authentication_error" : INVALID_REQUEST;
        String code = switch (status) {
            case 400 -> "invalid_value";
            case 401 -> "invalid_api_key";
            case 403 -> "permission_denied";
            case 404 -> "not_found";
            case 409 -> "cancelled";
            case 413 -> "request_too_large";
            case 415 -> "unsupported_media_type";
            case 429 -> "too_many_streams";
            case 501 -> "not_implemented";
            case 503 -> "service_unavailable";
            case 504 -> "deadline_exceeded";
            default -> status >= 500 ? "internal_error" : "invalid_request";
        };
        return new OpenAiError(new Body(message, type, param, code));
    }
}
