package io.unclip.service;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.unclip.engine.stage.InvalidRequestException;

/** How servers report contract violations over gRPC. */
public final class GrpcStatuses {
    private GrpcStatuses() {
    }

    /**
     * INVALID_ARGUMENT whose description is "field: reason" and whose details hold a
     * {@code google.rpc.BadRequest} with one field violation.
     */
    public static StatusRuntimeException invalidArgument(InvalidRequestException e) {
        BadRequest details = BadRequest.newBuilder()
                .addFieldViolations(BadRequest.FieldViolation.newBuilder()
                        .setField(e.field())
                        .setDescription(e.reason()))
                .build();
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(Code.INVALID_ARGUMENT_VALUE)
                .setMessage(e.getMessage())
                .addDetails(Any.pack(details))
                .build();
        return StatusProto.toStatusRuntimeException(status);
    }

    /** The field violations of an INVALID_ARGUMENT built by {@link #invalidArgument}, if any. */
    public static BadRequest badRequest(Throwable t) {
        com.google.rpc.Status status = StatusProto.fromThrowable(t);
        if (status != null) {
            for (Any any : status.getDetailsList()) {
                if (any.is(BadRequest.class)) {
                    try {
                        return any.unpack(BadRequest.class);
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        break;
                    }
                }
            }
        }
        return BadRequest.getDefaultInstance();
    }

    /** A status with a description, as an exception. */
    public static StatusRuntimeException status(Status.Code code, String description) {
        return Status.fromCode(code).withDescription(description).asRuntimeException();
    }
}
