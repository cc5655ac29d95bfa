package io.unclip.gateway.http;

import java.util.List;

import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.StageName;
import io.unclip.api.v1.StageProgress;

/**
 * OpenAI's {@code partial_images}: at most N previews, spread over the cascade. A job's image stages (the decoder,
 * then each upsampler step, from its accepted plan) make its progress from 0 to 1; preview i (0-based) goes out at
 * the first preview past (i + 1) / (N + 1) of it, so N = 1 is a half-done image and the final image follows the
 * last one. Previews come as the sampler makes them (latest wins when a client is slow), so a fast job may send
 * fewer, as OpenAI's do. Without a plan (the gateway read no bundle) the decoder alone makes the progress.
 */
final class PartialImages {
    private final int wanted;
    private int imageStages = 1;
    private int sent;

    PartialImages(int wanted) {
        this.wanted = wanted;
    }

    /** The preview of this event to send as the next partial image, or null. */
    StageProgress next(GenerateEvent e) {
        if (e.hasAccepted()) {
            List<StageName> plan = e.getAccepted().getPlanList();
            int n = (int) plan.stream().filter(s -> s == StageName.DECODER || s == StageName.UPSAMPLER).count();
            imageStages = Math.max(1, n);
            return null;
        }
        if (!e.hasProgress() || !e.getProgress().hasPreviewPng() || sent >= wanted) {
            return null;
        }
        StageProgress p = e.getProgress();
        int run = switch (p.getStage()) {
            case DECODER -> 0;
            case UPSAMPLER -> 1 + p.getCascadeStep();
            default -> -1;
        };
        if (run < 0 || run >= imageStages || p.getTotal() == 0) {
            return null;
        }
        double done = (run + (double) p.getStep() / p.getTotal()) / imageStages;
        if (done + 1e-9 < (sent + 1.0) / (wanted + 1.0)) {
            return null;
        }
        sent++;
        return p;
    }

    /** Partial images sent so far; the next one's partial_image_index. */
    int sent() {
        return sent;
    }
}
