package io.unclip.gateway;

import java.util.ArrayDeque;
import java.util.Deque;

import io.smallrye.mutiny.subscription.MultiEmitter;
import io.unclip.api.v1.GenerateEvent;

/**
 * One client's event stream. Events are queued and emitted as the client asks for them; a
 * progress event replaces a queued, not yet sent progress event of the same stage run (latest
 * wins), so a slow client gets fewer progress events instead of slowing anyone down. Every
 * other event is kept. A terminal event (result, failed, cancelled) completes the stream.
 */
final class ClientStream {
    private final MultiEmitter<? super GenerateEvent> emitter;
    private final Deque<GenerateEvent> queue = new ArrayDeque<>();
    private boolean completing;
    private boolean done;

    ClientStream(MultiEmitter<? super GenerateEvent> emitter) {
        this.emitter = emitter;
        emitter.onRequest(n -> drain());
    }

    synchronized void offer(GenerateEvent e) {
        if (done || completing) {
            return;
        }
        GenerateEvent last = queue.peekLast();
        if (e.hasProgress() && last != null && last.hasProgress()
                && last.getProgress().getStage() == e.getProgress().getStage()
                && last.getProgress().getCascadeStep() == e.getProgress().getCascadeStep()
                && !(last.getProgress().hasPreviewPng() && !e.getProgress().hasPreviewPng())) {
            queue.pollLast();
        }
        queue.add(e);
        if (isTerminal(e)) {
            completing = true;
        }
        drain();
    }

    private synchronized void drain() {
        while (!done && !queue.isEmpty() && emitter.requested() > 0) {
            emitter.emit(queue.poll());
        }
        if (!done && completing && queue.isEmpty()) {
            done = true;
            emitter.complete();
        }
    }

    /** Ends the stream with an error status (before the job was accepted). */
    synchronized void fail(Throwable t) {
        if (!done) {
            done = true;
            emitter.fail(t);
        }
    }

    synchronized boolean finished() {
        return done || completing;
    }

    static boolean isTerminal(GenerateEvent e) {
        return e.hasResult() || e.hasFailed() || e.hasCancelled();
    }
}
