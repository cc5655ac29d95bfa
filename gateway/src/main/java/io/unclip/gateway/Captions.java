package io.unclip.gateway;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.google.protobuf.ByteString;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionRequest;
import io.unclip.api.v1.CaptionToken;
import io.unclip.api.v1.CaptionerServiceGrpc;
import io.unclip.api.v1.ImageRef;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.service.GrpcStatuses;
import io.unclip.service.codec.UploadedImages;
import io.unclip.service.validate.Limits;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Captions go to the captioner service directly over gRPC ({@code unclip.captioner.address},
 * host:port), not through Kafka: a caption is one short interactive call whose tokens stream
 * back as they are decoded, and a request/reply over topics would add two hops and a reply
 * topic for nothing. JPEG uploads are re-encoded as PNG (the stage service takes PNG).
 */
@ApplicationScoped
public class Captions {
    @ConfigProperty(name = "unclip.captioner.address")
    Optional<String> address;

    @ConfigProperty(name = "unclip.captioner.timeout-seconds", defaultValue = "120")
    long timeoutSeconds;

    private volatile ManagedChannel channel;

    public Multi<CaptionToken> caption(CaptionRequest request) {
        if (address.isEmpty() || address.get().isBlank()) {
            return Multi.createFrom().failure(Status.UNAVAILABLE.withDescription(
                    "captions are not available: unclip.captioner.address is not set").asRuntimeException());
        }
        CaptionImageRequest call = CaptionImageRequest.newBuilder()
                .setImage(ImageRef.newBuilder().setPng(pngOf(request.getImage())))
                .setStyle(request.getStyle())
                .setMaxTokens(request.getMaxTokens())
                .build();
        return Multi.createFrom().emitter(em -> {
            // a fresh context: the caller's own cancellation reaches us through the emitter
            Context.current().fork().run(() -> CaptionerServiceGrpc.newStub(channel())
                    .withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS)
                    .withMaxInboundMessageSize(Limits.MAX_INBOUND_MESSAGE_BYTES)
                    .caption(call, new ClientResponseObserver<CaptionImageRequest, CaptionToken>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<CaptionImageRequest> out) {
                            em.onTermination(() -> {
                                if (em.isCancelled()) {
                                    out.cancel("client went away", null);
                                }
                            });
                        }

                        @Override
                        public void onNext(CaptionToken t) {
                            em.emit(t);
                        }

                        @Override
                        public void onError(Throwable t) {
                            em.fail(t);
                        }

                        @Override
                        public void onCompleted() {
                            em.complete();
                        }
                    }));
        });
    }

    private static ByteString pngOf(ByteString image) {
        try {
            return UploadedImages.asPng("image", image);
        } catch (InvalidRequestException e) {
            throw GrpcStatuses.invalidArgument(e);
        }
    }

    private ManagedChannel channel() {
        ManagedChannel c = channel;
        if (c == null) {
            synchronized (this) {
                c = channel;
                if (c == null) {
                    c = ManagedChannelBuilder.forTarget(address.get().trim()).usePlaintext()
                            .maxInboundMessageSize(Limits.MAX_INBOUND_MESSAGE_BYTES).build();
                    channel = c;
                }
            }
        }
        return c;
    }

    @PreDestroy
    void close() {
        ManagedChannel c = channel;
        if (c != null) {
            c.shutdownNow();
        }
    }
}
