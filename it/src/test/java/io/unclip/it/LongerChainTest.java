package io.unclip.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.grpc.ManagedChannel;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.ImageServiceGrpc;
import io.unclip.api.v1.StageName;
import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackOptions;
import io.unclip.deploy.StackStatus;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.Cascade;
import io.unclip.engine.pipeline.GenerationRequest;
import io.unclip.engine.pipeline.GenerationResult;
import io.unclip.engine.pipeline.StageOverrides;

/**
 * A bundle whose chain is one upsampler longer than the tiny one (8 -> 32 -> 128 -> 512) runs
 * distributed with no code or configuration change: every service reads the stage order and the
 * size chain from the bundle's manifests (the engine's CascadePlan), and the images are the
 * embedded cascade's.
 */
class LongerChainTest {
    final Path root = Path.of(System.getProperty("unclip.root", "..")).toAbsolutePath().normalize();
    final Path tiny = Path.of(System.getProperty("unclip.test.bundle")).toAbsolutePath().normalize();
    final Path state = root.resolve("it/target/longer-chain-stack");

    /** The tiny bundle plus engine/src/test/resources/bundles/extra-stages/upsampler_512, last in the chain. */
    Path bundle() throws Exception {
        Path b = root.resolve("it/target/tiny-512");
        copy(tiny, b);
        copy(tiny.resolveSibling("extra-stages").resolve("upsampler_512"), b.resolve("upsampler_512"));
        Path json = b.resolve("bundle.json");
        Files.writeString(json, Files.readString(json).replace("\"upsampler_128\",", "\"upsampler_128\", \"upsampler_512\","));
        return b;
    }

    static void copy(Path from, Path to) throws Exception {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    void aThirdUpsamplerRunsDistributedAsEmbedded() throws Exception {
        Path bundle = bundle();
        LocalStack.down(state);
        LocalStack.up(StackOptions.defaults(root).withStateDir(state).withModels(bundle).withPorts(0, 0)
                .withPartitions(1).withJvmOptions(List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")));
        try {
            StackStatus stack = LocalStack.status(state);
            ManagedChannel channel = BadInputSuiteTest.channel(stack.gatewayAddress());
            try {
                GenerateRequest r = GenerateRequest.newBuilder().setPrompt(DistributedStackTest.PROMPT).setSeed(4)
                        .setNumImages(1).setSize(512).build();
                var events = ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).generate(r);
                GenerateEvent accepted = events.next();
                assertEquals(List.of(StageName.TEXT_ENCODER, StageName.PRIOR, StageName.DECODER, StageName.UPSAMPLER,
                        StageName.UPSAMPLER, StageName.UPSAMPLER), accepted.getAccepted().getPlanList());
                GenerateEvent last = accepted;
                while (events.hasNext()) {
                    last = events.next();
                }
                assertTrue(last.hasResult(), last.toString());
                assertEquals(512, last.getResult().getImages(0).getImage().getWidth());
                try (Cascade cascade = Cascade.open(bundle, RuntimeOptions.defaults())) {
                    GenerationResult embedded = cascade.generate(new GenerationRequest(DistributedStackTest.PROMPT, 1, 4L,
                            512, StageOverrides.none(), 0), null, null);
                    DistributedStackTest.assertSameImages(embedded, last.getResult());
                }
            } finally {
                channel.shutdownNow();
            }
        } finally {
            LocalStack.down(state);
        }
    }
}
