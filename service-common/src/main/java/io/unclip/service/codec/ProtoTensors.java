package io.unclip.service.codec;

import java.util.Arrays;

import io.unclip.api.v1.FloatTensor;
import io.unclip.engine.tensor.Tensor;

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

    /** The tensor's values (inline or from the blob store). */
    public float[] values(FloatTensor f) {
        if (f.getUri().isEmpty()) {
            float[] out = new float[f.getDataCount()];
            for (int i = 0; i < out.length; i++) {
                out[i] = f.getData(i);
            }
            return out;
        }
        if (blobs == null) {
            throw new IllegalArgumentException("tensor at " + f.getUri() + " needs a blob store (unclip.blobs.dir)");
        }
        float[] v = BlobStore.floats(blobs.get(f.getUri(), f.getSha256()));
        long n = Tensor.elementCount(shape(f));
        if (v.length != n) {
            throw new IllegalArgumentException("blob " + f.getUri() + " holds " + v.length + " values, shape needs " + n);
        }
        return v;
    }

    public Tensor fromProto(FloatTensor f) {
        return Tensor.of(values(f), shape(f));
    }

    /** As {@link #fromProto(FloatTensor)} with another shape of the same element count. */
    public Tensor fromProto(FloatTensor f, long... shape) {
        return Tensor.of(values(f), shape);
    }

    public static long[] shape(FloatTensor f) {
        long[] s = new long[f.getShapeCount()];
        for (int i = 0; i < s.length; i++) {
            s[i] = f.getShape(i);
        }
        return s;
    }
}
