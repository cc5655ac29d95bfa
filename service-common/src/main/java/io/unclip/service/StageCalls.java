package io.unclip.service;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.BackPressureStrategy;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.unclip.engine.diffusion.SamplingCancelledException;
import io.unclip.engine.schedule.QueueFullException;
import io.unclip.engine.stage.InvalidRequestException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Runs a stage's gRPC calls on a pool of threads (never on the event loop; {@code unclip.grpc.threads}
 * at once, {@code unclip.grpc.queue} more waiting) and streams what they emit. Calls running at once
 * share the stage's step scheduler, so their steps are batched. A caller that cancels (or whose deadline passes) stops the stage
 * within one step; a full queue (this pool's or the step scheduler's) is RESOURCE_EXHAUSTED; engine errors map to gRPC statuses
 * (INVALID_ARGUMENT naming the field, CANCELLED, INTERNAL with an error id: {@link GrpcErrors}).
 */
@ApplicationScoped
public class StageCalls {
    private static final Logger LOG = Logger.getLogger(StageCalls.class);

    /** A blocking call: emits its events, returns when done, polls {@code cancelled} between steps. */
    @FunctionalInterface
    public interface Call<T> {
        void run(Consumer<T> emit, BooleanSupplier cancelled) throws Exception;
    }

    // calls mostly wait on the stage's step scheduler, which batches them: threads are cheap, and
    // the scheduler's own queue bounds the work (unclip.scheduler.max-queued)
    @ConfigProperty(name = "unclip.grpc.threads", defaultValue = "32")
    int threads;

    @ConfigProperty(name = "unclip.grpc.queue", defaultValue = "32")
    int queue;

    private volatile ThreadPoolExecutor pool;

    private ThreadPoolExecutor pool() {
        ThreadPoolExecutor p = pool;
        if (p == null) {
            synchronized (this) {
                if (pool == null) {
                    pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue),
                            r -> {
                                Thread t = new Thread(r, "unclip-grpc-stage");
                                t.setDaemon(true);
                                return t;
                            });
                }
                p = pool;
            }
        }
        return p;
    }

    /**
     * Streams a call. Progress may be dropped for a slow caller ({@code latest}: only the newest
     * undelivered event is kept); otherwise every event is delivered.
     */
    public <T> Multi<T> stream(Call<T> call, boolean latest) {
        return Multi.createFrom().emitter((MultiEmitter<? super T> em) -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            em.onTermination(() -> cancelled.set(em.isCancelled() || cancelled.get()));
            try {
                pool().execute(() -> {
                    try {
                        call.run(em::emit, () -> cancelled.get() || em.isCancelled());
                        em.complete();
                    } catch (Throwable e) {
                        em.fail(status(e));
                    }
                });
            } catch (RejectedExecutionException e) {
                em.fail(Status.RESOURCE_EXHAUSTED.withDescription("the stage's queue is full; retry later")
                        .asRuntimeException());
            }
        }, latest ? BackPressureStrategy.LATEST : BackPressureStrategy.BUFFER);
    }

    /** The gRPC status for a failure of a stage call. */
    public static StatusRuntimeException status(Throwable e) {
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        if (e instanceof InvalidRequestException i) {
            return GrpcStatuses.invalidArgument(i);
        }
        if (e instanceof QueueFullException) {
            return Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof SamplingCancelledException) {
            return Status.CANCELLED.withDescription(e.getMessage()).asRuntimeException();
        }
        return GrpcErrors.internal(LOG, e);
    }

    @PreDestroy
    void close() {
        ThreadPoolExecutor p = pool;
        if (p != null) {
            p.shutdownNow();
        }
    }
}
