package io.unclip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.onnx.Fixtures;
import io.unclip.engine.tensor.Tensor;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** ImageResize reproduces torch.nn.functional.interpolate (recorded by make_fixtures.py) up to float32 rounding order. */
class ImageResizeTest {

    @Test
    void matchesTorchInterpolate() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(Fixtures.resource("stage-reference/resize.json").toFile());
        int cases = 0;
        for (JsonNode c : ref.get("cases")) {
            Tensor in = tensor(c.get("input"));
            Tensor want = tensor(c.get("output"));
            ImageResize.Mode mode = ImageResize.Mode.fromName(c.get("mode").asText());
            Tensor got = ImageResize.resize(in, (int) want.dim(2), (int) want.dim(3), mode);
            assertArrayEquals(want.shape(), got.shape());
            double worst = 0;
            for (int i = 0; i < want.size(); i++) {
                worst = Math.max(worst, Math.abs(want.get(i) - got.get(i)));
            }
            assertTrue(worst <= 2e-6, mode + " " + in + " -> " + want + ": max abs error " + worst);
            cases++;
        }
        assertEquals(10, cases);
    }

    /** F.interpolate(..., antialias=True), as UnCLIPPipeline resizes before super-resolution, within 1e-5. */
    @Test
    void antialiasedMatchesTorch() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(Fixtures.resource("stage-reference/resize_antialias.json").toFile());
        int cases = 0;
        for (JsonNode c : ref.get("cases")) {
            Tensor in = tensor(c.get("input"));
            Tensor want = tensor(c.get("output"));
            ImageResize.Mode mode = ImageResize.Mode.fromName(c.get("mode").asText());
            Tensor got = ImageResize.resize(in, (int) want.dim(2), (int) want.dim(3), mode, true);
            assertArrayEquals(want.shape(), got.shape());
            double worst = maxAbsDifference(want, got);
            assertTrue(worst <= 1e-5, mode + " antialiased " + in + " -> " + want + ": max abs error " + worst);
            if (in.dim(2) == 8 && want.dim(2) == 32 && mode == ImageResize.Mode.BICUBIC) {
                // enlarging too: the plain mode (A = -0.75, clamped borders) is not what torch gives
                double plain = maxAbsDifference(want, ImageResize.resize(in, 32, 32, mode));
                assertTrue(plain > 1e-2, "plain bicubic differs from the antialiased one only by " + plain);
            }
            cases++;
        }
        assertEquals(9, cases);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageResize.resize(Tensor.zeros(1, 1, 2, 2), 4, 4, ImageResize.Mode.NEAREST, true));
        assertEquals("antialiasing applies to bilinear and bicubic resizes only, not nearest", e.getMessage());
    }

    private static double maxAbsDifference(Tensor a, Tensor b) {
        double worst = 0;
        for (int i = 0; i < a.size(); i++) {
            worst = Math.max(worst, Math.abs(a.get(i) - b.get(i)));
        }
        return worst;
    }

    @Test
    void bilinearOfConstantIsConstantAndSameSizeIsIdentity() {
        Tensor c = Tensor.zeros(1, 3, 4, 4);
        for (int i = 0; i < c.size(); i++) {
            c.set(i, 0.25f);
        }
        Tensor up = ImageResize.resize(c, 16, 16, ImageResize.Mode.BILINEAR);
        for (int i = 0; i < up.size(); i++) {
            assertEquals(0.25f, up.get(i));
        }
        assertSame(c, ImageResize.toSize(c, 4, ImageResize.Mode.BILINEAR));
        assertThrows(IllegalArgumentException.class, () -> ImageResize.Mode.fromName("lanczos"));
    }

    @Test
    void centerCropKeepsTheMiddle() {
        Tensor t = Tensor.zeros(1, 1, 2, 4);
        for (int i = 0; i < 8; i++) {
            t.set(i, i);
        }
        Tensor sq = ImageResize.centerCropSquare(t);
        assertArrayEquals(new long[] {1, 1, 2, 2}, sq.shape());
        assertArrayEquals(new float[] {1, 2, 5, 6}, sq.toArray());
    }

    static Tensor tensor(JsonNode n) {
        JsonNode shape = n.get("shape");
        long[] s = new long[shape.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape.get(i).asLong();
        }
        JsonNode data = n.get("data");
        float[] v = new float[data.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) data.get(i).asDouble();
        }
        return Tensor.of(v, s);
    }
}
