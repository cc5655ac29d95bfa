package io.unclip.service;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A value built on first use and then shared by every thread: the stage objects of a service,
 * which can only be built once its model has loaded. A build that throws (model not loaded yet)
 * leaves nothing behind, so the next call tries again.
 */
public final class Lazy<T> implements Supplier<T> {
    private final Supplier<T> build;
    private volatile T value;

    public Lazy(Supplier<T> build) {
        this.build = Objects.requireNonNull(build, "build");
    }

    @Override
    public T get() {
        T v = value;
        if (v == null) {
            synchronized (this) {
                v = value;
                if (v == null) {
                    v = Objects.requireNonNull(build.get(), "built value");
                    value = v;
                }
            }
        }
        return v;
    }
}
