package io.unclip.gateway;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

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
import io.unclip.api.validate.ImageHeaders;
import io.unclip.api.validate.Limits;

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
                .setImage(ImageRef.newBuilder().setPng(asPng(request.getImage())))
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

    static ByteString asPng(ByteString image) {
        if (ImageHeaders.probe(image).format() == ImageHeaders.Format.PNG) {
            return image;
        }
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(image.toByteArray()));
            if (img == null) {
                throw Status.INVALID_ARGUMENT.withDescription("image: cannot decode the image").asRuntimeException();
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return ByteString.copyFrom(out.toByteArray());
        } catch (IOException e) {
            throw Status.INVALID_ARGUMENT.withDescription("image: cannot decode the image: " + e.getMessage())
                    .asRuntimeException();
        }
    }

    @PreDestroy
    void close() {
        ManagedChannel c = channel;
        if (c != null) {
            c.shutdownNow();
        }
    }
}
