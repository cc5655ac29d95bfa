package io.unclip.cli.load;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.netty.channel.ChannelOption;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GenerateResult;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.StageOverrides;
import io.unclip.service.stage.StageCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URI;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * {@code unclip load --target HOST:PORT}: each request is one ImageService.Generate stream to a
 * gateway, all on one channel. A preview event counts as the request's first preview; the result
 * event ends it; a failure, a cancellation or a gRPC error fails it, RESOURCE_EXHAUSTED counts as
 * refused. Every job id must come back once: a second result for a job is counted as a duplicate.
 */
public final class GatewayTarget implements LoadRun.Target, AutoCloseable {
    private final String address;
    private final boolean plaintext;
    private final int connectTimeoutSeconds;
    private final ManagedChannel channel;
    private final ImageServiceGrpc.ImageServiceStub stub;
    private final Set<String> jobs = ConcurrentHashMap.newKeySet();
    private final Set<String> duplicates = ConcurrentHashMap.newKeySet();

    /**
     * @param tls the channel's transport security
     * @param key the API key to send with every call, if the gateway wants one
     */
    public GatewayTarget(String address, ChannelCredentials tls, Optional<CallCredentials> key,
                         int connectTimeoutSeconds) {
        this.address = address;
        this.plaintext = tls instanceof io.grpc.InsecureChannelCredentials;
        this.connectTimeoutSeconds = connectTimeoutSeconds;
        this.channel = NettyChannelBuilder.forTarget(address, tls)
                .maxInboundMessageSize(64 * 1024 * 1024)
                .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutSeconds * 1000).build();
        ImageServiceGrpc.ImageServiceStub s = ImageServiceGrpc.newStub(channel);
        this.stub = key.isPresent() ? s.withCallCredentials(key.get()) : s;
    }

    /** Job ids that had more than one result (there should be none). */
    public Set<String> duplicateJobs() {
        return Set.copyOf(duplicates);
    }

    /** Distinct jobs that finished with a result. */
    public int jobsWithResults() {
        return jobs.size();
    }

    @Override
    public LoadRun.Images generate(GenerationRequest request, Runnable previewed, BooleanSupplier cancelled)
            throws Exception {
        CompletableFuture<GenerateResult> done = new CompletableFuture<>();
        AtomicReference<ClientCallStreamObserver<GenerateRequest>> call = new AtomicReference<>();
        stub.generate(toProto(request), new ClientResponseObserver<GenerateRequest, GenerateEvent>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
                call.set(requestStream);
            }

            @Override
            public void onNext(GenerateEvent e) {
                switch (e.getEventCase()) {
                    case PROGRESS -> {
                        if (e.getProgress().hasPreviewPng()) {
                            previewed.run();
                        }
                    }
                    case RESULT -> {
                        if (!jobs.add(e.getJobId())) {
                            duplicates.add(e.getJobId());
                        }
                        done.complete(e.getResult());
                    }
                    case FAILED -> done.completeExceptionally(new IllegalStateException("job failed: "
                            + e.getFailed().getCode() + ": " + e.getFailed().getMessage()));
                    case CANCELLED -> done.completeExceptionally(new IllegalStateException("job cancelled: "
                            + e.getCancelled().getReason()));
                    default -> {
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.completeExceptionally(new IllegalStateException("the gateway ended the stream without a result"));
            }
        });
        GenerateResult result;
        while (true) {
            try {
                result = done.get(100, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                if (cancelled.getAsBoolean()) {
                    call.get().cancel("load interrupted", null);
                }
            } catch (ExecutionException e) {
                throw failure(e.getCause());
            }
        }
        GenerateResult r = result;
        return new LoadRun.Images() {
            @Override
            public int count() {
                return r.getImagesCount();
            }

            @Override
            public byte[] png(int index) throws IOException {
                var ref = r.getImages(index).getImage();
                return switch (ref.getSourceCase()) {
                    case PNG -> ref.getPng().toByteArray();
                    case URI -> Files.readAllBytes(local(ref.getUri()));
                    default -> throw new IOException("the result has an image without data");
                };
            }
        };
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** The engine request as the gateway's GenerateRequest (same prompt, seed, size and sampler overrides). */
    static GenerateRequest toProto(GenerationRequest r) {
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setPrompt(r.prompt()).setNumImages(r.numImages())
                .setPreviewInterval(r.previewInterval());
        if (r.seed() != null) {
            b.setSeed(r.seed());
        }
        if (r.size() != null) {
            b.setSize(r.size());
        }
        StageOverrides o = r.overrides();
        if (!o.prior().isEmpty()) {
            b.setPrior(StageCodec.params(o.prior()));
        }
        if (!o.decoder().isEmpty()) {
            b.setDecoder(StageCodec.params(o.decoder()));
        }
        if (!o.upsampler().isEmpty()) {
            b.setUpsampler(StageCodec.params(o.upsampler()));
        }
        return b.build();
    }

    private Exception failure(Throwable t) {
        if (t instanceof StatusRuntimeException s) {
            String line = GatewayErrors.describe(address, s, plaintext, connectTimeoutSeconds);
            if (s.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                return new LoadRun.Refused(line);
            }
            return new IllegalStateException(line);
        }
        return t instanceof Exception e ? e : new IllegalStateException(t);
    }

    private static Path local(String uri) throws IOException {
        try {
            return uri.startsWith("file:") ? Path.of(URI.create(uri)) : Path.of(uri);
        } catch (RuntimeException e) {
            throw new IOException("image " + uri + " is not a local file");
        }
    }
}
