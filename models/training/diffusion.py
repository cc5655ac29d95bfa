"""Gaussian diffusion as in openai/improved-diffusion: cosine schedule, epsilon prediction, learned-range variance,
the hybrid loss L_simple + lambda * L_vlb (lambda = 0.001 with T = 1000, i.e. per sample mse + vb_t in bits/dim with
the mean frozen for the vb term), DDPM ancestral and DDIM sampling with respacing. float64 schedule tables."""
import math

import numpy as np
import torch


def cosine_betas(T, s=0.008, max_beta=0.999):
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    return np.array([min(1 - f(i + 1) / f(i), max_beta) for i in range(T)], dtype=np.float64)


def linear_betas(T):
    scale = 1000 / T
    return np.linspace(scale * 0.0001, scale * 0.02, T, dtype=np.float64)


def _ex(a, t, shape):
    out = torch.as_tensor(a, dtype=torch.float32, device=t.device)[t]  # the table follows t's device
    return out.reshape(-1, *([1] * (len(shape) - 1)))


def normal_kl(mean1, logvar1, mean2, logvar2):
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def approx_standard_normal_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


def discretized_gaussian_log_likelihood(x, means, log_scales):
    centered = x - means
    inv_stdv = torch.exp(-log_scales)
    cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered + 1.0 / 255.0))
    cdf_min = approx_standard_normal_cdf(inv_stdv * (centered - 1.0 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    cdf_delta = cdf_plus - cdf_min
    return torch.where(x < -0.999, log_cdf_plus,
                       torch.where(x > 0.999, log_one_minus_cdf_min, torch.log(cdf_delta.clamp(min=1e-12))))


def mean_flat(x):
    return x.mean(dim=list(range(1, x.ndim)))


class Diffusion:
    def __init__(self, betas):
        self.betas = betas = np.asarray(betas, dtype=np.float64)
        self.T = len(betas)
        alphas = 1.0 - betas
        self.ac = np.cumprod(alphas)
        self.ac_prev = np.append(1.0, self.ac[:-1])
        self.sqrt_ac = np.sqrt(self.ac)
        self.sqrt_1mac = np.sqrt(1.0 - self.ac)
        self.sqrt_recip_ac = np.sqrt(1.0 / self.ac)
        self.sqrt_recipm1_ac = np.sqrt(1.0 / self.ac - 1)
        self.post_var = betas * (1.0 - self.ac_prev) / (1.0 - self.ac)
        # improved-diffusion clips log(0) at t = 0 with the next step's variance; a 1-step chain has none
        self.post_log_var = (np.log(np.append(self.post_var[1], self.post_var[1:])) if self.T > 1
                             else np.full(1, np.log(np.float64(1e-20))))
        self.post_c1 = betas * np.sqrt(self.ac_prev) / (1.0 - self.ac)
        self.post_c2 = (1.0 - self.ac_prev) * np.sqrt(alphas) / (1.0 - self.ac)

    @staticmethod
    def cosine(T=1000):
        return Diffusion(cosine_betas(T))

    def q_sample(self, x0, t, noise):
        return _ex(self.sqrt_ac, t, x0.shape) * x0 + _ex(self.sqrt_1mac, t, x0.shape) * noise

    def q_posterior(self, x0, xt, t):
        mean = _ex(self.post_c1, t, xt.shape) * x0 + _ex(self.post_c2, t, xt.shape) * xt
        return mean, _ex(self.post_log_var, t, xt.shape)

    def p_mean_var(self, out, xt, t, clip=True):
        """out: model output (B, 2C) = eps, v (learned range). Returns mean, log variance, x0 prediction."""
        c = xt.shape[1]
        eps, v = out[:, :c], out[:, c:]
        min_log = _ex(self.post_log_var, t, xt.shape)
        max_log = _ex(np.log(self.betas), t, xt.shape)
        frac = (v + 1) / 2
        log_var = frac * max_log + (1 - frac) * min_log
        x0 = _ex(self.sqrt_recip_ac, t, xt.shape) * xt - _ex(self.sqrt_recipm1_ac, t, xt.shape) * eps
        if clip:
            x0 = x0.clamp(-1, 1)
        mean, _ = self.q_posterior(x0, xt, t)
        return mean, log_var, x0

    def eps_from_v(self, v, xt, t):
        """v-parametrisation (Salimans & Ho 2022): v = sqrt(ac) eps - sqrt(1 - ac) x0, so eps = sqrt(ac) v + sqrt(1 - ac) x_t."""
        return _ex(self.sqrt_ac, t, xt.shape) * v + _ex(self.sqrt_1mac, t, xt.shape) * xt

    def v_target(self, x0, t, noise):
        return _ex(self.sqrt_ac, t, x0.shape) * noise - _ex(self.sqrt_1mac, t, x0.shape) * x0

    def hybrid_loss(self, out, x0, xt, t, noise, prediction="epsilon"):
        """IDDPM hybrid loss per sample: mse + vb_t (bits/dim, mean detached). Returns (loss, mse, vb).
        prediction "epsilon": out[:, :C] is eps and mse is on eps (improved-diffusion). "v": out[:, :C] is v and mse is
        on v, which weights x0 errors by (1 + SNR) instead of SNR: the high-noise steps that fix an image's global
        colour get real weight (with eps they get almost none, which showed as off-palette backgrounds)."""
        c = x0.shape[1]
        if prediction == "v":
            mse = mean_flat((self.v_target(x0, t, noise) - out[:, :c]) ** 2)
            eps = self.eps_from_v(out[:, :c], xt, t)
        else:
            eps = out[:, :c]
            mse = mean_flat((noise - eps) ** 2)
        frozen = torch.cat([eps.detach(), out[:, c:]], dim=1)
        mean, log_var, _ = self.p_mean_var(frozen, xt, t, clip=False)
        true_mean, true_log_var = self.q_posterior(x0, xt, t)
        kl = mean_flat(normal_kl(true_mean, true_log_var, mean, log_var)) / math.log(2.0)
        nll = -mean_flat(discretized_gaussian_log_likelihood(x0, mean, 0.5 * log_var)) / math.log(2.0)
        vb = torch.where(t == 0, nll, kl) * (self.T / 1000.0)
        return mse + vb, mse, vb

    # ---------------- sampling (for monitoring; the product's samplers live in the Java engine) -------------------
    def respaced(self, steps):
        """Evenly spaced subset of timesteps (improved-diffusion space_timesteps with one section)."""
        frac = (self.T - 1) / (steps - 1) if steps > 1 else 0
        use = sorted(set(int(round(i * frac)) for i in range(steps)))
        last, betas = 1.0, []
        for i in use:
            betas.append(1 - self.ac[i] / last)
            last = self.ac[i]
        return Diffusion(np.array(betas)), np.array(use)

    @torch.no_grad()
    def sample_ddpm(self, model_fn, shape, steps, g, device="cpu"):
        """g: a CPU torch.Generator; the noise is drawn on the CPU and moved, so every device samples the same."""
        sp, tmap = self.respaced(steps)
        x = torch.randn(shape, generator=g).to(device)
        for i in reversed(range(sp.T)):
            t = torch.full((shape[0],), i, dtype=torch.long, device=device)
            out = model_fn(x, torch.full((shape[0],), int(tmap[i]), dtype=torch.long, device=device))
            mean, log_var, _ = sp.p_mean_var(out, x, t)
            noise = torch.randn(shape, generator=g).to(device) if i > 0 else torch.zeros(shape, device=device)
            x = mean + torch.exp(0.5 * log_var) * noise
        return x
