package io.unclip.kafka.testkit;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * Calls a gRPC method with request bytes as given, bypassing protobuf on the client side: how a
 * test sends what a well-behaved client never would (a string field that is not UTF-8).
 */
public final class RawGrpc {
    private RawGrpc() {
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /**
     * Sends {@code request} to {@code fullMethodName} (a unary or server-streaming method) and
     * returns the status the call ends with.
     */
    public static Status call(Channel channel, String fullMethodName, byte[] request) throws Exception {
        MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                .setFullMethodName(fullMethodName)
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
        CompletableFuture<Status> done = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                done.complete(status);
            }
        }, new Metadata());
        call.request(Integer.MAX_VALUE);
        call.sendMessage(request);
        call.halfClose();
        return done.get(60, TimeUnit.SECONDS);
    }

    /**
     * {@code message} with the first occurrence of {@code marker} (ASCII, at least 2 characters)
     * overwritten by the bytes FF FE, which are never valid UTF-8; the length prefix is unchanged.
     */
    public static byte[] breakUtf8(byte[] message, String marker) {
        byte[] m = marker.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + m.length <= message.length; i++) {
            for (int j = 0; j < m.length; j++) {
                if (message[i + j] != m[j]) {
                    continue outer;
                }
            }
            byte[] out = message.clone();
            out[i] = (byte) 0xFF;
            out[i + 1] = (byte) 0xFE;
            return out;
        }
        throw new IllegalArgumentException("marker " + marker + " not in the message");
    }
}
