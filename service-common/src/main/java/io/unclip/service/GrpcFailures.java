package io.unclip.service;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.ExceptionHandler;
import io.quarkus.grpc.ExceptionHandlerProvider;
import io.unclip.engine.stage.InvalidRequestException;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Every gRPC service's last word on failures (it replaces Quarkus' default provider), so that no
 * door answers with an exception's text:
 *
 * <ul>
 *   <li>a failure no service method turned into a status is mapped as stage calls map theirs
 *       ({@link StageCalls#status}): INVALID_ARGUMENT for bad input, INTERNAL with an error id
 *       ({@link GrpcErrors}) for the rest;</li>
 *   <li>a request whose bytes do not parse (protobuf-java refuses a proto3 string that is not
 *       valid UTF-8) is INVALID_ARGUMENT. The parse fails in the server's marshaller, before any
 *       interceptor sees a message: the Vert.x gRPC server drops the message and half-closes,
 *       and grpc-java's call handler then answers INTERNAL "Half-closed without a request". A
 *       call whose client sends one message but which half-closes without one is therefore
 *       refused here as an invalid request.</li>
 * </ul>
 */
@ApplicationScoped
public class GrpcFailures implements ExceptionHandlerProvider {
    /** The field violation of a request that did not parse. */
    static final InvalidRequestException UNPARSABLE = new InvalidRequestException("request",
            "is not a valid message: it is not protobuf of the method's request type, or a string field is not"
                    + " valid UTF-8");

    @Override
    public <ReqT, RespT> ExceptionHandler<ReqT, RespT> createHandler(ServerCall.Listener<ReqT> listener,
                                                                     ServerCall<ReqT, RespT> call, Metadata metadata) {
        return new ExceptionHandler<>(listener, call, metadata) {
            private boolean received;

            @Override
            public void onMessage(ReqT message) {
                received = true;
                super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
                if (!received && call.getMethodDescriptor().getType().clientSendsOneMessage()) {
                    close(call, GrpcStatuses.invalidArgument(UNPARSABLE), metadata);
                    return;
                }
                super.onHalfClose();
            }

            @Override
            protected void handleException(Throwable t, ServerCall<ReqT, RespT> call, Metadata metadata) {
                close(call, (StatusRuntimeException) transform(t), metadata);
            }
        };
    }

    @Override
    public Throwable transform(Throwable t) {
        if (t instanceof StatusException s) {
            return new StatusRuntimeException(s.getStatus(), s.getTrailers());
        }
        return StageCalls.status(t);
    }

    private static void close(ServerCall<?, ?> call, StatusRuntimeException s, Metadata metadata) {
        try {
            call.close(s.getStatus(), s.getTrailers() != null ? s.getTrailers() : metadata);
        } catch (IllegalStateException alreadyClosed) {
            // the call ended first (cancelled by the client): nothing to tell
        }
    }
}
