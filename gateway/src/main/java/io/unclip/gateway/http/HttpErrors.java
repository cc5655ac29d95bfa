package io.unclip.gateway.http;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.gateway.JobRefusedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;

/**
 * The HTTP doors' refusals, in OpenAI's error shape ({@link OpenAiError}) with the status each stands for: bad
 * input 400 (param = the field), unknown job 404, too many open streams 429, pipeline not started 503, a request
 * this deployment does not serve 501; the framework's own (404 route, 405, 413 body too large, 415) keep their
 * status. Anything else is a bug: 500, logged with its stack, the client told no more than that.
 */
public class HttpErrors {
    private static final Logger LOG = Logger.getLogger(HttpErrors.class);

    @ServerExceptionMapper
    public Response invalid(InvalidRequestException e) {
        return OpenAiError.response(400, e.getMessage(), e.field());
    }

    @ServerExceptionMapper
    public Response refused(JobRefusedException e) {
        return OpenAiError.response(status(e.reason()), e.getMessage(), null);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        String message = e.getMessage() == null || e.getMessage().isBlank()
                ? Response.Status.fromStatusCode(status) + "" : e.getMessage();
        return OpenAiError.response(status, message, null);
    }

    @ServerExceptionMapper
    public Response bug(RuntimeException e) {
        if (e instanceof WebApplicationException w) {
            return web(w);
        }
        LOG.errorf(e, "HTTP call failed");
        return OpenAiError.response(500, "internal error (the gateway's log has the details)", null);
    }

    public static int status(JobRefusedException.Reason reason) {
        return switch (reason) {
            case NOT_FOUND -> 404;
            case UNAVAILABLE -> 503;
            case TOO_MANY_STREAMS -> 429;
            case UNIMPLEMENTED -> 501;
        };
    }

    /** The error body for a failure thrown by the job logic (what the mappers above answer), for a stream. */
    public static OpenAiError body(Throwable t) {
        if (t instanceof InvalidRequestException e) {
            return OpenAiError.of(400, e.getMessage(), e.field());
        }
        if (t instanceof JobRefusedException e) {
            return OpenAiError.of(status(e.reason()), e.getMessage(), null);
        }
        LOG.errorf(t, "HTTP stream failed");
        return OpenAiError.of(500, "internal error (the gateway's log has the details)", null);
    }
}
