package io.unclip.captioner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.unclip.api.v1.CaptionImageRequest;
import io.unclip.api.v1.CaptionStyle;
import io.unclip.api.v1.CaptionToken;
import io.unclip.api.v1.CaptionerServiceGrpc;
import io.unclip.api.v1.ImageRef;
import io.unclip.engine.image.PngCodec;
import io.unclip.engine.tensor.Tensor;
import io.unclip.kafka.testkit.Ready;

/** The captioner with the tiny bundle loaded: tokens stream, the last message holds the caption. */
@QuarkusTest
@TestProfile(CaptionerModelTest.WithModel.class)
class CaptionerModelTest {
    public static class WithModel implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("unclip.models.dir", System.getProperty("unclip.test.bundle"));
        }
    }

    @TestHTTPResource("/")
    URL base;

    @Test
    void captionStreamsTokens() {
        Ready.await(base.toString(), Duration.ofSeconds(60));
        var channel = ManagedChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext().build();
        try {
            byte[] png = PngCodec.withDefaultLimits().encode(Tensor.zeros(1, 3, 40, 40), 0, Map.of());
            List<CaptionToken> tokens = new ArrayList<>();
            CaptionerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .caption(CaptionImageRequest.newBuilder().setImage(ImageRef.newBuilder().setPng(ByteString.copyFrom(png)))
                            .setStyle(CaptionStyle.DESCRIPTIVE).setMaxTokens(6).build())
                    .forEachRemaining(tokens::add);
            CaptionToken last = tokens.get(tokens.size() - 1);
            assertTrue(last.getLast());
            assertFalse(tokens.subList(0, tokens.size() - 1).stream().anyMatch(CaptionToken::getLast));
            assertTrue(tokens.size() - 1 <= 6, "at most max_tokens tokens");
            assertEquals(tokens.size() - 1, last.getIndex());
        } finally {
            channel.shutdownNow();
        }
    }
}
