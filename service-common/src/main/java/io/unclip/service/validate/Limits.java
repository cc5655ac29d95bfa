package io.unclip.service.validate;

/**
 * The limits the unclip.v1 contract states in its comments, as constants. Every server enforces
 * them on every request (INVALID_ARGUMENT otherwise); clients may check them before sending.
 */
public final class Limits {
    private Limits() {
    }

    /** Prompt length, in Unicode code points. */
    public static final int MAX_PROMPT_CHARS = 256;
    /** Images per Generate / Variations job. */
    public static final int MAX_IMAGES = 8;
    /** Frames of an interpolation, both ends included. */
    public static final int MIN_FRAMES = 2;
    public static final int MAX_FRAMES = 32;
    public static final int DEFAULT_FRAMES = 8;
    /** Batch of a decoder / upsampler call (images, or frames of an interpolation). */
    public static final int MAX_STAGE_BATCH = 32;
    /** Prompts per TextEncoderService.Encode call. */
    public static final int MAX_ENCODE_PROMPTS = 16;

    // Sampling steps, respacing, guidance, eta and clip limits are the engine's
    // (io.unclip.engine.stage.SamplerOverrides), where the respacing grammar is parsed.
    public static final int MAX_PREVIEW_INTERVAL = 1000;

    /** Target resolution: 0 (bundle default) or a power of two in this range. */
    public static final int MIN_SIZE = 8;
    public static final int MAX_SIZE = 4096;

    /** Uploaded / inline images. */
    public static final int MAX_IMAGE_BYTES = 8 * 1024 * 1024;
    public static final long MAX_IMAGE_PIXELS = 16L * 1024 * 1024;
    public static final int MAX_IMAGE_SIDE = 16384;
    /** Upsampler input side (square). */
    public static final int MIN_UPSAMPLE_SIDE = 4;
    public static final int MAX_UPSAMPLE_SIDE = 1024;
    /** Preview PNGs in progress events. */
    public static final int MAX_PREVIEW_BYTES = 1024 * 1024;

    /** Tensors. */
    public static final int MAX_TENSOR_RANK = 8;
    public static final long MAX_INLINE_TENSOR_ELEMENTS = 1L << 20;
    public static final long MAX_BLOB_TENSOR_ELEMENTS = 1L << 26;
    public static final int MAX_EMBEDDING_WIDTH = 4096;
    public static final int MAX_SEQUENCE_LENGTH = 512;

    /** Identifiers and references. */
    public static final int MAX_ID_CHARS = 64;
    public static final int MAX_URI_CHARS = 1024;
    public static final int SHA256_HEX_CHARS = 64;

    /** Captions. */
    public static final int MAX_CAPTION_TOKENS = 256;

    /** Upsampler cascade steps (0-based index below this). */
    public static final int MAX_CASCADE_STEPS = 4;

    /** gRPC inbound message size every server must accept: two maximal uploads plus overhead. */
    public static final int MAX_INBOUND_MESSAGE_BYTES = 20 * 1024 * 1024;
}
