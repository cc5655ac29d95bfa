package io.unclip.service.validate;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.FloatTensor;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.TextConditioning;
import io.unclip.engine.stage.InvalidRequestException;

/**
 * Field-level checks of the unclip.v1 contract, shared by the gateway's and the stage services'
 * request validators (and usable by clients). Every check throws
 * {@link InvalidRequestException} naming the field; none needs a model. Sampler parameters are
 * the engine's to check (its respacing grammar and limits, through service-common's
 * ImageRequestValidator.samplerParams); checks that depend on a loaded model (embedding widths,
 * sequence length, respacing against the schedule) come later, from the model manifest.
 */
public final class Checks {
    private Checks() {
    }

    /**
     * The one id grammar (job ids, idempotency keys, batch-line ids): it starts with a letter or
     * digit, so "." and ".." are not ids and an id used as a file name stays one file name.
     */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0," + (Limits.MAX_ID_CHARS - 1) + "}");
    /** What {@link #ID} means, for messages. */
    public static final String ID_RULE = "1.." + Limits.MAX_ID_CHARS
            + " characters of [A-Za-z0-9._-], starting with a letter or digit";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public static InvalidRequestException invalid(String field, String reason) {
        return new InvalidRequestException(field, reason);
    }

    /** A field path for a nested field: {@code path("decoder", "steps")} = "decoder.steps". */
    public static String path(String parent, String field) {
        return parent == null || parent.isEmpty() ? field : parent + "." + field;
    }

    // ---------------------------------------------------------------------------------------
    // Text

    /** A prompt: 1..256 code points, not blank, no control characters but tab / CR / LF. */
    public static String prompt(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw invalid(field, "is required");
        }
        if (value.isBlank()) {
            throw invalid(field, "must not be blank");
        }
        return optionalPrompt(field, value);
    }

    /** Like {@link #prompt} but empty is allowed (meaning "no text"); blank is not. */
    public static String optionalPrompt(String field, String value) {
        if (value == null || value.isEmpty()) {
            return "";
        }
        if (value.isBlank()) {
            throw invalid(field, "must not be blank (leave it empty for no text)");
        }
        int chars = value.codePointCount(0, value.length());
        if (chars > Limits.MAX_PROMPT_CHARS) {
            throw invalid(field, "must be at most " + Limits.MAX_PROMPT_CHARS + " characters, got " + chars);
        }
        value.codePoints().forEach(cp -> {
            if (Character.isISOControl(cp) && cp != '\t' && cp != '\n' && cp != '\r') {
                throw invalid(field, String.format("must not contain control character U+%04X", cp));
            }
        });
        return value;
    }

    // ---------------------------------------------------------------------------------------
    // Numbers

    /** A count where 0 means {@code zeroMeans}; otherwise it must be within [min, max]. */
    public static int count(String field, int value, int min, int max, int zeroMeans) {
        if (value == 0) {
            return zeroMeans;
        }
        long v = Integer.toUnsignedLong(value);
        if (v < min || v > max) {
            throw invalid(field, "must be in [" + min + ", " + max + "], got " + v);
        }
        return value;
    }

    /** An unsigned value within [0, max]. */
    public static int atMost(String field, int value, int max) {
        long v = Integer.toUnsignedLong(value);
        if (v > max) {
            throw invalid(field, "must be in [0, " + max + "], got " + v);
        }
        return value;
    }

    /** A number of images per job: 1..8, 0 = 1. */
    public static int numImages(String field, int value) {
        return count(field, value, 1, Limits.MAX_IMAGES, 1);
    }

    public static int previewInterval(String field, int value) {
        return atMost(field, value, Limits.MAX_PREVIEW_INTERVAL);
    }

    /** Target size: 0 (bundle default) or a power of two in [8, 4096]. */
    public static int size(String field, int value) {
        if (value == 0) {
            return 0;
        }
        long v = Integer.toUnsignedLong(value);
        if (v < Limits.MIN_SIZE || v > Limits.MAX_SIZE || Long.bitCount(v) != 1) {
            throw invalid(field, "must be 0 (default) or a power of two in [" + Limits.MIN_SIZE + ", "
                    + Limits.MAX_SIZE + "], got " + v);
        }
        return value;
    }

    // ---------------------------------------------------------------------------------------
    // Identifiers

    /** A job id: required, {@link #ID_RULE}. */
    public static String jobId(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw invalid(field, "is required");
        }
        return optionalId(field, value);
    }

    /** Whether {@code value} is an id ({@link #ID_RULE}). */
    public static boolean isId(String value) {
        return value != null && ID.matcher(value).matches();
    }

    /** An id that may be empty; if set, {@link #ID_RULE}. */
    public static String optionalId(String field, String value) {
        if (value == null || value.isEmpty()) {
            return "";
        }
        if (!ID.matcher(value).matches()) {
            throw invalid(field, "must be " + ID_RULE);
        }
        return value;
    }

    // ---------------------------------------------------------------------------------------
    // Images

    /**
     * An uploaded image (public API): required, PNG or JPEG, at most 8 MiB, at most 16384 pixels
     * per side and 16 Mpx, all read from the header.
     */
    public static ImageHeaders.Info uploadedImage(String field, ByteString bytes) {
        if (bytes == null || bytes.isEmpty()) {
            throw invalid(field, "is required");
        }
        if (bytes.size() > Limits.MAX_IMAGE_BYTES) {
            throw invalid(field, "must be at most " + Limits.MAX_IMAGE_BYTES + " bytes (8 MiB), got " + bytes.size());
        }
        ImageHeaders.Info info;
        try {
            info = ImageHeaders.probe(bytes);
        } catch (IllegalArgumentException e) {
            throw invalid(field, e.getMessage());
        }
        pixelSize(field, info.width(), info.height());
        return info;
    }

    private static void pixelSize(String field, long w, long h) {
        if (w < 1 || h < 1 || w > Limits.MAX_IMAGE_SIDE || h > Limits.MAX_IMAGE_SIDE
                || w * h > Limits.MAX_IMAGE_PIXELS) {
            throw invalid(field, "image is " + w + "x" + h + "; at most " + Limits.MAX_IMAGE_SIDE
                    + " pixels per side and " + Limits.MAX_IMAGE_PIXELS + " pixels (16 Mpx) in all");
        }
    }

    /**
     * An {@link ImageRef}: inline PNG checked like an upload (and its stated size, if any, must
     * match the header), or a blob URI with sha256 and size.
     *
     * @return width and height (from the header for inline PNGs)
     */
    public static ImageHeaders.Info imageRef(String field, ImageRef ref, boolean present) {
        if (!present || ref.getSourceCase() == ImageRef.SourceCase.SOURCE_NOT_SET) {
            throw invalid(field, "is required (png or uri)");
        }
        if (ref.getSourceCase() == ImageRef.SourceCase.PNG) {
            String f = path(field, "png");
            ImageHeaders.Info info = uploadedImage(f, ref.getPng());
            if (info.format() != ImageHeaders.Format.PNG) {
                throw invalid(f, "must be a PNG");
            }
            if ((ref.getWidth() != 0 && ref.getWidth() != info.width())
                    || (ref.getHeight() != 0 && ref.getHeight() != info.height())) {
                throw invalid(path(field, "width"), "says " + Integer.toUnsignedLong(ref.getWidth()) + "x"
                        + Integer.toUnsignedLong(ref.getHeight()) + " but the PNG is " + info.width() + "x" + info.height());
            }
            if (!ref.getSha256().isEmpty()) {
                sha256(path(field, "sha256"), ref.getSha256());
            }
            return info;
        }
        uri(path(field, "uri"), ref.getUri());
        sha256(path(field, "sha256"), ref.getSha256());
        long w = Integer.toUnsignedLong(ref.getWidth());
        long h = Integer.toUnsignedLong(ref.getHeight());
        if (w == 0 || h == 0) {
            throw invalid(path(field, "width"), "width and height are required with uri");
        }
        pixelSize(field, w, h);
        return new ImageHeaders.Info(ImageHeaders.Format.PNG, (int) w, (int) h);
    }

    public static String uri(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw invalid(field, "is required");
        }
        if (value.length() > Limits.MAX_URI_CHARS) {
            throw invalid(field, "must be at most " + Limits.MAX_URI_CHARS + " characters");
        }
        try {
            URI u = new URI(value);
            if (u.getScheme() == null) {
                throw invalid(field, "must be an absolute URI (file:, s3:, ...), got \"" + value + "\"");
            }
        } catch (URISyntaxException e) {
            throw invalid(field, "is not a valid URI: " + e.getReason());
        }
        return value;
    }

    public static String sha256(String field, String value) {
        if (value == null || !SHA256.matcher(value).matches()) {
            throw invalid(field, "must be " + Limits.SHA256_HEX_CHARS + " lowercase hex characters");
        }
        return value;
    }

    // ---------------------------------------------------------------------------------------
    // Tensors

    /**
     * A tensor of the given rank: dims >= 1, element count within limits, inline data of exactly
     * that many finite values, or a blob URI with sha256 and no inline data.
     *
     * @return its shape
     */
    public static long[] tensor(String field, FloatTensor t, boolean present, int rank) {
        if (!present) {
            throw invalid(field, "is required");
        }
        int r = t.getShapeCount();
        if (r != rank) {
            throw invalid(path(field, "shape"), "must have " + rank + " dimensions, got " + r + " " + t.getShapeList());
        }
        long[] shape = new long[r];
        long elements = 1;
        for (int i = 0; i < r; i++) {
            long d = t.getShape(i);
            if (d < 1) {
                throw invalid(path(field, "shape"), "dimensions must be >= 1, got " + t.getShapeList());
            }
            shape[i] = d;
            elements = d > Limits.MAX_BLOB_TENSOR_ELEMENTS ? Long.MAX_VALUE : elements * d;
            if (elements > Limits.MAX_BLOB_TENSOR_ELEMENTS) {
                throw invalid(path(field, "shape"), "too many elements: at most " + Limits.MAX_BLOB_TENSOR_ELEMENTS);
            }
        }
        if (t.getUri().isEmpty()) {
            if (elements > Limits.MAX_INLINE_TENSOR_ELEMENTS) {
                throw invalid(field, elements + " elements is too many to send inline (at most "
                        + Limits.MAX_INLINE_TENSOR_ELEMENTS + "); store it as a blob and set uri");
            }
            if (t.getDataCount() != elements) {
                throw invalid(path(field, "data"), "shape " + t.getShapeList() + " needs " + elements
                        + " values, got " + t.getDataCount());
            }
            for (int i = 0; i < t.getDataCount(); i++) {
                if (!Float.isFinite(t.getData(i))) {
                    throw invalid(path(field, "data"), "value " + i + " is not finite (" + t.getData(i) + ")");
                }
            }
        } else {
            if (t.getDataCount() != 0) {
                throw invalid(path(field, "data"), "must be empty when uri is set");
            }
            uri(path(field, "uri"), t.getUri());
            sha256(path(field, "sha256"), t.getSha256());
        }
        return shape;
    }

    /** Image embeddings [N, E]: 1 <= N <= maxBatch, 1 <= E <= 4096. */
    public static long[] embeddings(String field, FloatTensor t, boolean present, int maxBatch) {
        long[] s = tensor(field, t, present, 2);
        if (s[0] > maxBatch) {
            throw invalid(path(field, "shape"), "batch must be at most " + maxBatch + ", got " + s[0]);
        }
        if (s[1] > Limits.MAX_EMBEDDING_WIDTH) {
            throw invalid(path(field, "shape"), "width must be at most " + Limits.MAX_EMBEDDING_WIDTH + ", got " + s[1]);
        }
        return s;
    }

    /** Shapes of a {@link TextConditioning}: D (text_embeds), L (tokens), H (hidden width). */
    public record TextShape(long embedWidth, long tokens, long hiddenWidth) {
    }

    /**
     * A text conditioning: text_embeds [D], last_hidden_state [L, H], attention_mask [L] of 0/1
     * with at least one 1, token_ids empty or of length L.
     */
    public static TextShape textConditioning(String field, TextConditioning tc, boolean present) {
        if (!present) {
            throw invalid(field, "is required");
        }
        long[] e = tensor(path(field, "text_embeds"), tc.getTextEmbeds(), tc.hasTextEmbeds(), 1);
        if (e[0] > Limits.MAX_EMBEDDING_WIDTH) {
            throw invalid(path(field, "text_embeds.shape"), "width must be at most " + Limits.MAX_EMBEDDING_WIDTH + ", got " + e[0]);
        }
        long[] h = tensor(path(field, "last_hidden_state"), tc.getLastHiddenState(), tc.hasLastHiddenState(), 2);
        if (h[0] > Limits.MAX_SEQUENCE_LENGTH || h[1] > Limits.MAX_EMBEDDING_WIDTH) {
            throw invalid(path(field, "last_hidden_state.shape"), "must be at most [" + Limits.MAX_SEQUENCE_LENGTH + ", "
                    + Limits.MAX_EMBEDDING_WIDTH + "], got [" + h[0] + ", " + h[1] + "]");
        }
        String maskField = path(field, "attention_mask");
        long[] m = tensor(maskField, tc.getAttentionMask(), tc.hasAttentionMask(), 1);
        if (m[0] != h[0]) {
            throw invalid(path(maskField, "shape"), "must be [" + h[0] + "] to match last_hidden_state, got [" + m[0] + "]");
        }
        if (tc.getAttentionMask().getUri().isEmpty()) {
            boolean any = false;
            for (int i = 0; i < tc.getAttentionMask().getDataCount(); i++) {
                float v = tc.getAttentionMask().getData(i);
                if (v != 0f && v != 1f) {
                    throw invalid(path(maskField, "data"), "values must be 0 or 1, got " + v + " at " + i);
                }
                any |= v == 1f;
            }
            if (!any) {
                throw invalid(path(maskField, "data"), "must mark at least one token");
            }
        }
        if (tc.getTokenIdsCount() != 0 && tc.getTokenIdsCount() != h[0]) {
            throw invalid(path(field, "token_ids"), "must be empty or hold " + h[0] + " ids, got " + tc.getTokenIdsCount());
        }
        return new TextShape(e[0], h[0], h[1]);
    }

    /** Checks {@code other} has exactly the shapes of {@code expected}. */
    public static void sameShape(String field, TextShape expected, TextShape actual) {
        if (!expected.equals(actual)) {
            throw invalid(field, "shapes must match the conditional text: expected text_embeds [" + expected.embedWidth()
                    + "], last_hidden_state [" + expected.tokens() + ", " + expected.hiddenWidth() + "], got ["
                    + actual.embedWidth() + "], [" + actual.tokens() + ", " + actual.hiddenWidth() + "]");
        }
    }
}
