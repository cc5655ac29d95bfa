package io.unclip.cli;

import com.google.protobuf.ByteString;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelOption;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageTimings;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.cli.load.GatewayErrors;
import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackSecurity;
import io.unclip.deploy.StackStatus;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code unclip stream PROMPT}: generate through the gateway's ImageService, showing every event as
 * it arrives; {@code --variations IMAGE} and {@code --interpolate A B} call Variations and
 * Interpolate the same way.
 */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = {"Generate images through the distributed stack's gateway (gRPC ImageService.Generate),"
                + " showing each event as it arrives.",
                "--variations IMAGE [PROMPT] and --interpolate A B call ImageService.Variations and Interpolate."})
final class StreamCommand extends BaseCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PROMPT",
            description = "The text to draw (optional with --variations: the decoder's text).")
    String prompt;

    @Option(names = "--variations", paramLabel = "IMAGE",
            description = "Variations of this image (PNG or JPEG) instead of text to image.")
    Path variationsOf;

    @Option(names = "--interpolate", arity = "2", paramLabel = "IMAGE",
            description = "Frames between two images (PNG or JPEG) instead of text to image.")
    List<Path> interpolate;

    @Option(names = "--frames", paramLabel = "K", defaultValue = "8",
            description = "Frames of --interpolate, both ends included (default 8).")
    int frames;

    @Option(names = "--gateway", paramLabel = "HOST:PORT",
            description = "The gateway (default: the running local stack's, else localhost:8080).")
    String gateway;

    @CommandLine.Mixin
    GrpcClientOptions security;

    @Option(names = {"-n", "--num-images"}, paramLabel = "N", defaultValue = "1", description = "Images (default 1).")
    int numImages;

    @Option(names = "--seed", paramLabel = "S", converter = UnsignedSeed.class,
            description = "Seed, 0 .. 18446744073709551615 (default: the gateway picks one).")
    Long seed;

    @Option(names = "--size", paramLabel = "PX", description = "Output size in pixels (default: the bundle's).")
    Integer size;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "out.png",
            description = "Where to write the image (FILE-i.png for several; default out.png).")
    Path out;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "How long to wait for a connection (default 5).")
    int connectTimeout;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "0",
            description = "Give up (and cancel the job) after this long; 0 = no limit.")
    int timeout;

    @Override
    int run() throws Exception {
        if (variationsOf != null && interpolate != null) {
            throw CliException.badInput("--variations and --interpolate: choose one");
        }
        if (interpolate != null && prompt != null) {
            throw CliException.badInput("--interpolate takes no PROMPT");
        }
        if (variationsOf == null && interpolate == null && (prompt == null || prompt.isBlank())) {
            throw CliException.badInput("PROMPT: must not be empty");
        }
        if (interpolate != null && (frames < 2 || frames > 32)) {
            throw CliException.badInput("--frames: must be between 2 and 32, got " + frames);
        }
        if (numImages < 1) {
            throw CliException.badInput("-n: must be at least 1, got " + numImages);
        }
        if (size != null && (size < 1 || size > 4096)) {
            throw CliException.badInput("--size: must be between 1 and 4096, got " + size);
        }
        if (connectTimeout < 1 || connectTimeout > 600) {
            throw CliException.badInput("--connect-timeout: must be between 1 and 600, got " + connectTimeout);
        }
        if (timeout < 0) {
            throw CliException.badInput("--timeout: must not be negative, got " + timeout);
        }
        Gateway gw = gateway();
        String target = gw.address();
        Call call = request();
        ChannelCredentials tls = security.channel(environment(), gw.stack());
        Optional<CallCredentials> key = security.key(environment(), gw.stack());
        ManagedChannel channel = NettyChannelBuilder.forTarget(target, tls)
                .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeout * 1000).build();
        Context.CancellableContext ctx = Context.current().withCancellation();
        Thread hook = new Thread(() -> {
            ctx.cancel(Status.CANCELLED.withDescription("interrupted").asRuntimeException());
            channel.shutdown();
            try {
                channel.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "unclip-stream-cancel");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return ctx.call(() -> stream(channel, key, tls instanceof InsecureChannelCredentials, target, call));
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
            ctx.cancel(null);
            channel.shutdownNow();
            channel.awaitTermination(2, TimeUnit.SECONDS);
        }
    }

    /** A gateway's address, and the local stack's secrets when it is a secure local stack's gateway. */
    record Gateway(String address, Optional<StackSecurity> stack) {
    }

    /** {@code --gateway}, else the running local stack's gateway, else localhost:8080; checked as HOST:PORT. */
    Gateway gateway() {
        if (gateway != null) {
            return new Gateway(checkAddress("--gateway", gateway), Optional.empty());
        }
        try {
            StackStatus s = LocalStack.status(StackCommand.defaultStateDir(environment()));
            if (!s.gatewayAddress().isBlank()) {
                return new Gateway(checkAddress("--gateway", s.gatewayAddress()), StackSecurity.load(s.stateDir()));
            }
        } catch (IOException | RuntimeException e) {
            // no readable state: the default
        }
        return new Gateway("localhost:8080", Optional.empty());
    }

    static String checkAddress(String option, String address) {
        String a = address.trim();
        int colon = a.lastIndexOf(':');
        if (colon <= 0 || colon == a.length() - 1) {
            throw CliException.badInput(option + ": wants HOST:PORT, got '" + address + "'");
        }
        String host = a.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(a.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw CliException.badInput(option + ": not a port in '" + address + "'");
        }
        if (port < 1 || port > 65535) {
            throw CliException.badInput(option + ": port must be between 1 and 65535 in '" + address + "'");
        }
        if (host.isBlank() || host.chars().anyMatch(Character::isWhitespace) || host.contains("/")) {
            throw CliException.badInput(option + ": not a host name in '" + address + "'");
        }
        return a;
    }

    private long startNanos;

    /** One streaming call of the ImageService, and what it says it does. */
    record Call(String what, Function<ImageServiceGrpc.ImageServiceBlockingStub,
            Iterator<GenerateEvent>> start) {
    }

    private Call request() {
        String images = numImages + " image" + (numImages == 1 ? "" : "s");
        if (variationsOf != null) {
            var v = VariationsRequest.newBuilder().setImage(upload("--variations", variationsOf))
                    .setNumImages(numImages);
            if (prompt != null) {
                v.setPrompt(prompt);
            }
            if (seed != null) {
                v.setSeed(seed);
            }
            if (size != null) {
                v.setSize(size);
            }
            return new Call(images + " varying " + variationsOf, s -> s.variations(v.build()));
        }
        if (interpolate != null) {
            var i = InterpolateRequest.newBuilder().setImageA(upload("--interpolate", interpolate.get(0)))
                    .setImageB(upload("--interpolate", interpolate.get(1))).setFrames(frames);
            if (seed != null) {
                i.setSeed(seed);
            }
            if (size != null) {
                i.setSize(size);
            }
            return new Call(frames + " frames from " + interpolate.get(0) + " to " + interpolate.get(1),
                    s -> s.interpolate(i.build()));
        }
        GenerateRequest.Builder req = GenerateRequest.newBuilder().setPrompt(prompt).setNumImages(numImages);
        if (seed != null) {
            req.setSeed(seed);
        }
        if (size != null) {
            req.setSize(size);
        }
        return new Call(images + " of \"" + prompt + "\"", s -> s.generate(req.build()));
    }

    /** The image, checked and decoded as the services will (before anything connects). */
    private ByteString upload(String option, Path image) {
        return ImageUploads.readChecked(environment().workDir(), option, image);
    }

    private int stream(ManagedChannel channel, Optional<CallCredentials> key, boolean plaintext, String target,
                       Call call) {
        ImageServiceGrpc.ImageServiceBlockingStub stub = ImageServiceGrpc.newBlockingStub(channel);
        if (key.isPresent()) {
            stub = stub.withCallCredentials(key.get());
        }
        if (timeout > 0) {
            stub = stub.withDeadlineAfter(timeout, TimeUnit.SECONDS);
        }
        output.info("gateway " + target + ": " + call.what());
        startNanos = System.nanoTime();
        try {
            Iterator<GenerateEvent> events = call.start().apply(stub);
            while (events.hasNext()) {
                GenerateEvent e = events.next();
                Integer done = show(e);
                if (done != null) {
                    return done;
                }
            }
            throw new CliException(ExitCodes.FAILED, "the gateway ended the stream without a result");
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            String line = GatewayErrors.describe(target, e, plaintext, connectTimeout);
            throw new CliException(s.getCode() == Status.Code.INVALID_ARGUMENT ? ExitCodes.BAD_INPUT : ExitCodes.FAILED,
                    line, e);
        }
    }

    /** Shows one event; returns the exit status when it is terminal, else null. */
    private Integer show(GenerateEvent e) {
        String job = e.getJobId();
        switch (e.getEventCase()) {
            case ACCEPTED -> {
                var a = e.getAccepted();
                output.event("accepted", Output.map("job_id", job, "seed", Long.toUnsignedString(a.getSeed()),
                        "plan", a.getPlanList().stream().map(StreamCommand::stage).toList()));
                output.info("accepted: job " + job + ", seed " + Long.toUnsignedString(a.getSeed()) + ", plan "
                        + String.join(" -> ", a.getPlanList().stream().map(StreamCommand::stage).toList()));
            }
            case STAGE_STARTED -> {
                var s = e.getStageStarted();
                output.event("stage_started", Output.map("job_id", job, "stage", stage(s.getStage()),
                        "cascade_step", s.getCascadeStep(), "attempt", s.getAttempt()));
                output.info(stage(s.getStage()) + step(s.getCascadeStep()) + ": started"
                        + (s.getAttempt() > 1 ? " (attempt " + s.getAttempt() + ")" : ""));
            }
            case PROGRESS -> {
                var p = e.getProgress();
                output.event("progress", Output.map("job_id", job, "stage", stage(p.getStage()),
                        "cascade_step", p.getCascadeStep(), "step", p.getStep(), "total", p.getTotal()));
                output.info(stage(p.getStage()) + step(p.getCascadeStep()) + ": step " + p.getStep() + "/"
                        + p.getTotal());
            }
            case STAGE_FINISHED -> {
                StageTimings t = e.getStageFinished().getTimings();
                var f = e.getStageFinished();
                output.event("stage_finished", Output.map("job_id", job, "stage", stage(f.getStage()),
                        "cascade_step", f.getCascadeStep(), "steps", t.getSteps(), "wall_ms", t.getWallMs(),
                        "model_ms", t.getModelMs(), "queue_ms", t.getQueueMs()));
                output.info(String.format(Locale.ROOT, "%-14s %3d step%s  %7.2f s  (models %.2f s, queued %.2f s)",
                        stage(f.getStage()) + step(f.getCascadeStep()), t.getSteps(), t.getSteps() == 1 ? " " : "s",
                        t.getWallMs() / 1e3, t.getModelMs() / 1e3, t.getQueueMs() / 1e3));
            }
            case RESULT -> {
                var r = e.getResult();
                List<String> files = new ArrayList<>();
                int n = r.getImagesCount();
                for (int i = 0; i < n; i++) {
                    GeneratedImage img = r.getImages(i);
                    Path file = numbered(environment().workDir().resolve(out), i, n);
                    save(img.getImage(), file);
                    String shown = file.startsWith(environment().workDir())
                            ? environment().workDir().relativize(file).toString() : file.toString();
                    files.add(shown);
                    output.event("image", Output.map("job_id", job, "index", img.getIndex(),
                            "seed", Long.toUnsignedString(img.getSeed()), "width", img.getWidth(),
                            "height", img.getHeight(), "path", shown));
                    output.info("wrote " + shown + " (" + img.getWidth() + "x" + img.getHeight() + ", seed "
                            + Long.toUnsignedString(img.getSeed()) + ")");
                }
                long wall = (System.nanoTime() - startNanos) / 1_000_000;
                output.event("done", Output.map("job_id", job, "files", files));
                output.info(String.format(Locale.ROOT, "done: job %s, %d image%s in %.2f s", job, n,
                        n == 1 ? "" : "s", wall / 1e3));
                return ExitCodes.OK;
            }
            case FAILED -> {
                var f = e.getFailed();
                throw new CliException(f.getCode() == FailureCode.INVALID_REQUEST
                        ? ExitCodes.BAD_INPUT : ExitCodes.FAILED, "job " + job + " failed: " + f.getCode()
                        + (f.getStage() != StageName.STAGE_NAME_UNSPECIFIED ? " in " + stage(f.getStage()) : "")
                        + ": " + f.getMessage());
            }
            case CANCELLED -> {
                var c = e.getCancelled();
                throw new CliException(ExitCodes.FAILED, "job " + job + " cancelled"
                        + (c.getReason().isBlank() ? "" : ": " + c.getReason()));
            }
            default -> {
                // an event this client does not know: skip
            }
        }
        return null;
    }

    private void save(ImageRef ref, Path file) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            switch (ref.getSourceCase()) {
                case PNG -> Files.write(file, ref.getPng().toByteArray());
                case URI -> {
                    Path src = localFile(ref.getUri());
                    if (src == null || !Files.isRegularFile(src)) {
                        throw new CliException(ExitCodes.FAILED, "image " + ref.getUri()
                                + " is not a local file; cannot copy it to " + file);
                    }
                    Files.copy(src, file, StandardCopyOption.REPLACE_EXISTING);
                }
                default -> throw new CliException(ExitCodes.FAILED, "the result has an image without data");
            }
        } catch (IOException ex) {
            throw new CliException(ExitCodes.FAILED, "cannot write " + file + ": " + ex.getMessage(), ex);
        }
    }

    private static Path localFile(String uri) {
        try {
            if (uri.startsWith("file:")) {
                return Path.of(URI.create(uri));
            }
            if (!uri.contains("://")) {
                return Path.of(uri);
            }
        } catch (RuntimeException e) {
            // not a path
        }
        return null;
    }

    static String stage(StageName s) {
        return switch (s) {
            case TEXT_ENCODER -> "text-encoder";
            case PRIOR -> "prior";
            case DECODER -> "decoder";
            case UPSAMPLER -> "upsampler";
            case CAPTIONER -> "captioner";
            default -> s.name().toLowerCase(Locale.ROOT);
        };
    }

    private static String step(int cascadeStep) {
        return cascadeStep > 0 ? "[" + cascadeStep + "]" : "";
    }
}
