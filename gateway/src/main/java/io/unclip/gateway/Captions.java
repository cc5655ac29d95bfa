package io.unclip.gateway;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.google.protobuf.ByteString;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.AbstractStub;
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
import io.unclip.service.auth.BearerCredentials;
import io.unclip.service.auth.ClientTls;
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

    /** TLS to the captioner, trusting the CA certificates in this PEM file. */
    @ConfigProperty(name = "unclip.captioner.ca-file")
    Optional<String> caFile;

    /** The token the gateway presents to the stage services (their unclip.auth.keys-file holds its hash). */
    @ConfigProperty(name = "unclip.auth.service-token-file")
    Optional<String> serviceTokenFile;

    private volatile CallCredentials credentials;

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
            Context.current().fork().run(() -> withToken(CaptionerServiceGrpc.newStub(channel()))
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
                    try {
                        ChannelCredentials tls = ClientTls.credentials(false, caFile.filter(f -> !f.isBlank())
                                .map(Path::of).orElse(null));
                        c = Grpc.newChannelBuilder(address.get().trim(), tls)
                                .maxInboundMessageSize(Limits.MAX_INBOUND_MESSAGE_BYTES).build();
                        if (serviceTokenFile.isPresent() && !serviceTokenFile.get().isBlank()) {
                            credentials = BearerCredentials.fromFile(Path.of(serviceTokenFile.get()));
                        }
                    } catch (IOException e) {
                        throw Status.UNAVAILABLE.withDescription("captioner client: " + e.getMessage())
                                .asRuntimeException();
                    }
                    channel = c;
                }
            }
        }
        return c;
    }

    private <S extends AbstractStub<S>> S withToken(S stub) {
        CallCredentials c = credentials;
        return c == null ? stub : stub.withCallCredentials(c);
    }

    @PreDestroy
    void close() {
        ManagedChannel c = channel;
        if (c != null) {
            c.shutdownNow();
        }
    }
}
