package io.unclip.service;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.unclip.service.stage.ErrorIds;

/**
 * How an unexpected failure reaches a gRPC client: INTERNAL with a short message and an error id,
 * never the exception (class names, messages with paths or internals). The same id is in the
 * service's log line, with the stack trace, so an operator can find what a client reports.
 */
public final class GrpcErrors {
    private GrpcErrors() {
    }

    /** Logs {@code e} under a fresh error id and returns the INTERNAL status that names only the id. */
    public static StatusRuntimeException internal(Logger log, Throwable e) {
        String id = ErrorIds.next();
        log.errorf(e, "error id %s: call failed", id);
        return Status.INTERNAL.withDescription("internal error (error id " + id + "); see the service log")
                .asRuntimeException();
    }
}
