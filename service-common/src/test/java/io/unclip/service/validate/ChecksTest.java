package io.unclip.service.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import io.grpc.Status;
import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.TextConditioning;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.kafka.testkit.TestTensors;
import io.unclip.service.GrpcStatuses;

class ChecksTest {

    static InvalidRequestException fails(Runnable r) {
        return assertThrows(InvalidRequestException.class, r::run);
    }

    static FloatTensor tensor(float fill, long... shape) {
        return TestTensors.filled(fill, shape);
    }

    static TextConditioning text(int d, int l, int h) {
        return TextConditioning.newBuilder()
                .setTextEmbeds(tensor(0.5f, d))
                .setLastHiddenState(tensor(0.1f, l, h))
                .setAttentionMask(tensor(1f, l))
                .build();
    }

    static ByteString image(String format, int w, int h) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), format, out);
        return ByteString.copyFrom(out.toByteArray());
    }

    @Test
    void prompts() {
        assertEquals("a red circle", Checks.prompt("prompt", "a red circle"));
        assertEquals("prompt: is required", fails(() -> Checks.prompt("prompt", "")).getMessage());
        assertEquals("prompt", fails(() -> Checks.prompt("prompt", "  \n")).field());
        InvalidRequestException e = fails(() -> Checks.prompt("prompt", "x".repeat(257)));
        assertEquals("prompt: must be at most 256 characters, got 257", e.getMessage());
        // 256 code points outside the BMP are 512 chars but still fine
        Checks.prompt("prompt", "\uD83D\uDE00".repeat(256));
        assertTrue(fails(() -> Checks.prompt("p", "a\u0000b")).getMessage().contains("U+0000"));
        assertEquals("", Checks.optionalPrompt("prompt", ""));
    }

    @Test
    void counts() {
        assertEquals(1, Checks.numImages("num_images", 0));
        assertEquals(8, Checks.numImages("num_images", 8));
        assertEquals("num_images: must be in [1, 8], got 9", fails(() -> Checks.numImages("num_images", 9)).getMessage());
        assertEquals("num_images: must be in [1, 8], got 4294967295",
                fails(() -> Checks.numImages("num_images", -1)).getMessage());
        Checks.size("size", 0);
        Checks.size("size", 512);
        fails(() -> Checks.size("size", 100));
        fails(() -> Checks.size("size", 4));
        fails(() -> Checks.size("size", 8192));
        fails(() -> Checks.previewInterval("preview_interval", 1001));
    }

    @Test
    void tensors() {
        assertEquals(2, Checks.tensor("t", tensor(0, 2, 3), true, 2).length);
        assertEquals("t", fails(() -> Checks.tensor("t", FloatTensor.getDefaultInstance(), false, 2)).field());
        assertEquals("t.shape", fails(() -> Checks.tensor("t", tensor(0, 6), true, 2)).field());
        assertEquals("t.shape", fails(() -> Checks.tensor("t", tensor(0, 0, 3), true, 2)).field());
        FloatTensor shortData = tensor(0, 2, 3).toBuilder().clearData().addAllData(java.util.List.of(1f, 2f, 3f, 4f, 5f)).build();
        assertEquals("t.data: shape [2, 3] needs 6 values, got 5",
                fails(() -> Checks.tensor("t", shortData, true, 2)).getMessage());
        FloatTensor nan = tensor(0, 2).toBuilder().setData(1, Float.NaN).build();
        assertEquals("t.data", fails(() -> Checks.tensor("t", nan, true, 1)).field());
        FloatTensor huge = FloatTensor.newBuilder().addShape(1 << 14).addShape(1 << 14).build();
        assertEquals("t.shape", fails(() -> Checks.tensor("t", huge, true, 2)).field());
        FloatTensor blob = FloatTensor.newBuilder().addShape(8).addShape(3).addShape(512).addShape(512)
                .setUri("file:///tmp/blobs/x").setSha256("a".repeat(64)).build();
        Checks.tensor("t", blob, true, 4);
        assertEquals("t", fails(() -> Checks.tensor("t", blob.toBuilder().clearUri().build(), true, 4)).field());
        assertEquals("t.sha256", fails(() -> Checks.tensor("t", blob.toBuilder().setSha256("XYZ").build(), true, 4)).field());
        assertEquals("t.uri", fails(() -> Checks.tensor("t", blob.toBuilder().setUri("relative/path").build(), true, 4)).field());
    }

    @Test
    void textConditioning() {
        Checks.TextShape s = Checks.textConditioning("text", text(64, 16, 32), true);
        assertEquals(new Checks.TextShape(64, 16, 32), s);
        TextConditioning badMask = text(64, 16, 32).toBuilder().setAttentionMask(tensor(1f, 15)).build();
        assertEquals("text.attention_mask.shape", fails(() -> Checks.textConditioning("text", badMask, true)).field());
        TextConditioning zeroMask = text(64, 16, 32).toBuilder().setAttentionMask(tensor(0f, 16)).build();
        assertEquals("text.attention_mask.data", fails(() -> Checks.textConditioning("text", zeroMask, true)).field());
        TextConditioning halfMask = text(64, 16, 32).toBuilder().setAttentionMask(tensor(0.5f, 16)).build();
        assertEquals("text.attention_mask.data", fails(() -> Checks.textConditioning("text", halfMask, true)).field());
        TextConditioning noEmbeds = text(64, 16, 32).toBuilder().clearTextEmbeds().build();
        assertEquals("text.text_embeds", fails(() -> Checks.textConditioning("text", noEmbeds, true)).field());
        TextConditioning tokens = text(64, 16, 32).toBuilder().addTokenIds(1).build();
        assertEquals("text.token_ids", fails(() -> Checks.textConditioning("text", tokens, true)).field());
        assertEquals("unconditional", fails(() -> Checks.sameShape("unconditional", s,
                Checks.textConditioning("unconditional", text(64, 8, 32), true))).field());
        Checks.embeddings("image_embeds", tensor(0, 4, 64), true, 8);
        assertEquals("image_embeds.shape", fails(() -> Checks.embeddings("image_embeds", tensor(0, 9, 4), true, 8)).field());
    }

    @Test
    void images() throws IOException {
        ByteString png = image("png", 40, 30);
        assertEquals(new ImageHeaders.Info(ImageHeaders.Format.PNG, 40, 30), Checks.uploadedImage("image", png));
        assertEquals(new ImageHeaders.Info(ImageHeaders.Format.JPEG, 33, 17),
                Checks.uploadedImage("image", image("jpg", 33, 17)));
        assertEquals("image: is required", fails(() -> Checks.uploadedImage("image", ByteString.EMPTY)).getMessage());
        assertEquals("image: not a PNG or JPEG image",
                fails(() -> Checks.uploadedImage("image", ByteString.copyFromUtf8("GIF89a..."))).getMessage());
        assertEquals("image", fails(() -> Checks.uploadedImage("image", png.substring(0, 20))).field());
        // a header claiming 5000x5000 is refused before any decoding
        byte[] big = png.toByteArray();
        big[16] = 0; big[17] = 0; big[18] = 0x13; big[19] = (byte) 0x88;
        big[20] = 0; big[21] = 0; big[22] = 0x13; big[23] = (byte) 0x88;
        assertTrue(fails(() -> Checks.uploadedImage("image", ByteString.copyFrom(big))).getMessage()
                .startsWith("image: image is 5000x5000"));
        ByteString tooMany = ByteString.copyFrom(new byte[Limits.MAX_IMAGE_BYTES + 1]);
        assertTrue(fails(() -> Checks.uploadedImage("image", tooMany)).getMessage().contains("8 MiB"));

        Checks.imageRef("image", ImageRef.newBuilder().setPng(png).build(), true);
        assertEquals("image.width", fails(() -> Checks.imageRef("image",
                ImageRef.newBuilder().setPng(png).setWidth(41).build(), true)).field());
        ByteString jpg = image("jpg", 8, 8);
        assertEquals("image.png", fails(() -> Checks.imageRef("image",
                ImageRef.newBuilder().setPng(jpg).build(), true)).field());
        assertEquals("image", fails(() -> Checks.imageRef("image", ImageRef.getDefaultInstance(), true)).field());
        ImageRef blob = ImageRef.newBuilder().setUri("s3://bucket/key.png").setSha256("0".repeat(64))
                .setWidth(512).setHeight(512).build();
        Checks.imageRef("image", blob, true);
        assertEquals("image.width", fails(() -> Checks.imageRef("image", blob.toBuilder().clearWidth().build(), true)).field());
    }

    @Test
    void ids() {
        Checks.jobId("job_id", "01HZX3K9-abc_def.1");
        assertEquals("job_id: is required", fails(() -> Checks.jobId("job_id", "")).getMessage());
        fails(() -> Checks.jobId("job_id", "a/b"));
        fails(() -> Checks.jobId("job_id", "x".repeat(65)));
        Checks.jobId("job_id", "x".repeat(64));
        // an id is also a file name under the result store: "." and ".." must not be ids
        for (String bad : new String[] {".", "..", ".hidden", "-x", "_x", "../../tmp/x", "a\u0000"}) {
            assertEquals("job_id: must be " + Checks.ID_RULE, fails(() -> Checks.jobId("job_id", bad)).getMessage(), bad);
        }
        assertEquals("", Checks.optionalId("request_id", ""));
    }

    @Test
    void grpcStatus() {
        var e = GrpcStatuses.invalidArgument(new InvalidRequestException("prior.steps", "must be in [1, 1000], got 0"));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("prior.steps: must be in [1, 1000], got 0", e.getStatus().getDescription());
        assertEquals("prior.steps", GrpcStatuses.badRequest(e).getFieldViolations(0).getField());
    }
}
