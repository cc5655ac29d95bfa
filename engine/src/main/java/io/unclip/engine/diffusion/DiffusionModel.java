package io.unclip.engine.diffusion;

import io.unclip.engine.tensor.Tensor;

/**
 * A denoising network as the sampler sees it. Conditioning (text embeddings, image embeddings,
 * low-resolution images) is not passed here: implementations close over it, laid out for the
 * rows they will receive.
 *
 * <p>Without guidance the sampler calls it with the N sample rows. With classifier-free guidance
 * it calls it once with 2N rows: rows 0..N-1 are the conditional copies of the samples and rows
 * N..2N-1 the same x_t for the unconditional pass, so a guided model closes over [cond; uncond]
 * conditioning.
 */
@FunctionalInterface
public interface DiffusionModel {
    /**
     * @param x         x_t, [B, C, ...]; the sampler reuses this tensor, do not keep it
     * @param timesteps the ORIGINAL (not respaced) timestep of each row, length B; also reused
     * @return the output [B, C or 2C, ...]; it is read before the next call, so an implementation
     *         may reuse its output buffer between calls
     */
    Tensor predict(Tensor x, long[] timesteps);
}
