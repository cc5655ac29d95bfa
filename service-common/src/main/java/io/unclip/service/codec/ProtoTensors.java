package io.unclip.service.codec;

import java.util.Arrays;

import io.unclip.api.v1.FloatTensor;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.engine.tensor.Tensor;
import io.unclip.service.validate.Checks;
import io.unclip.service.validate.Limits;

/**
 * Engine tensors to FloatTensor messages and back, bit-exact (float32 values, row-major).
 * Tensors up to {@link #inlineLimit} elements travel inline; larger ones go to the blob store.
 */
public final class ProtoTensors {
    /** Inline up to 128 Ki elements (512 KiB): a Kafka record stays well below its size limit. */
    public static final long DEFAULT_INLINE_LIMIT = 128 * 1024;

    private final BlobStore blobs;
    private final long inlineLimit;

    /** @param blobs where large tensors go; null = always inline */
    public ProtoTensors(BlobStore blobs, long inlineLimit) {
        this.blobs = blobs;
        this.inlineLimit = inlineLimit;
    }

    public static ProtoTensors inlineOnly() {
        return new ProtoTensors(null, Long.MAX_VALUE);
    }

    /** {@code t} with the given shape (same element count), e.g. dropping a leading batch of 1. */
    public FloatTensor toProto(Tensor t, long... shape) {
        if (Tensor.elementCount(shape) != t.size()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not fit " + t);
        }
        return toProto(t.toArray(), shape);
    }

    public FloatTensor toProto(Tensor t) {
        return toProto(t.toArray(), t.shape());
    }

    public FloatTensor toProto(float[] values, long... shape) {
        FloatTensor.Builder b = FloatTensor.newBuilder();
        for (long d : shape) {
            b.addShape(d);
        }
        if (blobs != null && values.length > inlineLimit) {
            BlobStore.Stored s = blobs.put(BlobStore.littleEndian(values));
            return b.setUri(s.uri()).setSha256(s.sha256()).build();
        }
        for (float v : values) {
            b.addData(v);
        }
        return b.build();
    }

    /**
     * The tensor's values (inline or from the blob store), every one finite: a request's NaN or
     * infinity would only come back as a NaN image.
     *
     * @param field the request field of the tensor ("image_embeds"), for errors
     * @throws InvalidRequestException when the values do not fit the shape, a blob URI is not one
     *                                 of this store's blobs of the shape's size, or a value is not finite
     */
    public float[] values(String field, FloatTensor f) {
        long n = Tensor.elementCount(shape(f));
        float[] out;
        if (f.getUri().isEmpty()) {
            if (f.getDataCount() != n) {
                throw Checks.invalid(Checks.path(field, "data"), "shape " + f.getShapeList() + " needs " + n
                        + " values, got " + f.getDataCount());
            }
            out = new float[f.getDataCount()];
            for (int i = 0; i < out.length; i++) {
                out[i] = f.getData(i);
            }
        } else {
            if (blobs == null) {
                throw Checks.invalid(Checks.path(field, "uri"), "this service reads inline tensors only");
            }
            if (n < 0 || n > Limits.MAX_BLOB_TENSOR_ELEMENTS) {
                throw Checks.invalid(Checks.path(field, "shape"), "too many elements: at most "
                        + Limits.MAX_BLOB_TENSOR_ELEMENTS);
            }
            out = BlobStore.floats(blobs.get(Checks.path(field, "uri"), f.getUri(), f.getSha256(), n * Float.BYTES));
        }
        for (int i = 0; i < out.length; i++) {
            if (!Float.isFinite(out[i])) {
                throw Checks.invalid(field, "value " + i + " is not finite (" + out[i] + ")");
            }
        }
        return out;
    }

    /** @see #values(String, FloatTensor) */
    public Tensor fromProto(String field, FloatTensor f) {
        return Tensor.of(values(field, f), shape(f));
    }

    /** As {@link #fromProto(String, FloatTensor)} with another shape of the same element count. */
    public Tensor fromProto(String field, FloatTensor f, long... shape) {
        return Tensor.of(values(field, f), shape);
    }

    public static long[] shape(FloatTensor f) {
        long[] s = new long[f.getShapeCount()];
        for (int i = 0; i < s.length; i++) {
            s[i] = f.getShape(i);
        }
        return s;
    }
}
