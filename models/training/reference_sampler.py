"""The engine's sampling contract (engine/MANIFEST.md) in PyTorch eager, for the side-by-side benchmark: improved-
diffusion respacing, DDPM and DDIM steps for epsilon / x0 prediction with fixed_small, fixed_large or learned_range
variance and x0 clipping, and GLIDE-style guidance on a [cond; uncond] batch. Float64 schedule tables, float32 tensors.
"""
import math

import numpy as np
import torch

from diffusion import cosine_betas, linear_betas


def space_timesteps(T, spec):
    """improved-diffusion's space_timesteps: "25", "10,15,20" (per equal section) or "ddim25" (integer stride)."""
    spec = spec.strip()
    if spec.startswith("ddim"):
        n = int(spec[4:])
        for stride in range(1, T):
            if len(range(0, T, stride)) == n:
                return sorted(range(0, T, stride))
        raise ValueError("no integer stride gives %d steps of %d" % (n, T))
    counts = [int(c) for c in spec.split(",")]
    per, extra = divmod(T, len(counts))
    kept, start = set(), 0
    for i, c in enumerate(counts):
        size = per + (1 if i < extra else 0)
        if size < c:
            raise ValueError("cannot take %d steps from a section of %d" % (c, size))
        stride = 1 if c <= 1 else (size - 1) / (c - 1)
        cur = 0.0
        for _ in range(c):
            kept.add(start + round(cur))
            cur += stride
        start += size
    return sorted(kept)


def base_betas(schedule, T):
    if schedule in ("cosine", "squaredcos_cap_v2"):
        return cosine_betas(T)
    if schedule == "linear":
        return linear_betas(T)
    raise ValueError("unknown schedule " + schedule)


class Settings:
    """A stage's resolved sampling settings: the manifest's diffusion block with the bench's overrides."""

    def __init__(self, diffusion, steps=None, sampler=None, eta=None, guidance=None):
        self.schedule = diffusion["schedule"]
        self.T = int(diffusion["train_timesteps"])
        self.prediction = diffusion["prediction"]
        self.variance = diffusion["variance"]
        self.clip = diffusion.get("clip_range")
        self.sampler = (sampler or diffusion["sampler"]).lower()
        respacing = diffusion["respacing"]
        if steps is not None:
            respacing = "ddim%d" % steps if respacing.startswith("ddim") and _has_stride(steps, self.T) else str(steps)
        self.respacing = respacing
        self.eta = float(eta) if eta is not None else (float(diffusion.get("eta") or 0.0)
                                                        if self.sampler == "ddim" else 0.0)
        g = guidance if guidance is not None else diffusion.get("guidance_scale")
        self.guidance = 1.0 if g is None else float(g)

    @property
    def guided(self):
        return self.guidance != 1.0


def _has_stride(n, T):
    return any((T + s - 1) // s == n for s in range(1, T))


class Chain:
    """The respaced chain: per respaced index i, the model timestep and the step coefficients."""

    def __init__(self, settings):
        self.s = settings
        ac_full = np.cumprod(1.0 - base_betas(settings.schedule, settings.T))
        self.timesteps = space_timesteps(settings.T, settings.respacing)
        last, betas = 1.0, []
        for t in self.timesteps:
            betas.append(1.0 - ac_full[t] / last)
            last = ac_full[t]
        b = np.array(betas, dtype=np.float64)
        ac = np.cumprod(1.0 - b)
        ac_prev = np.append(1.0, ac[:-1])
        self.betas, self.ac, self.ac_prev = b, ac, ac_prev
        post_var = b * (1.0 - ac_prev) / (1.0 - ac)
        self.post_var = post_var
        self.post_log_var = np.log(np.append(post_var[1], post_var[1:])) if len(b) > 1 else np.log(np.maximum(
            post_var, 1e-20))
        self.c1 = b * np.sqrt(ac_prev) / (1.0 - ac)
        self.c2 = (1.0 - ac_prev) * np.sqrt(1.0 - b) / (1.0 - ac)

    def __len__(self):
        return len(self.timesteps)

    def step(self, i, x, out, noise):
        """x_{i} -> x_{i-1} from the (guided) model output; noise is used where the step needs it."""
        s = self.s
        c = x.shape[1]
        ac, sr, srm1 = self.ac[i], math.sqrt(1.0 / self.ac[i]), math.sqrt(1.0 / self.ac[i] - 1.0)
        pred = out[:, :c]
        x0 = pred if s.prediction == "x0" else sr * x - srm1 * pred
        if s.clip is not None:
            x0 = x0.clamp(-s.clip, s.clip)
        if s.sampler == "ddim":
            eps = (sr * x - x0) / srm1
            ap = self.ac_prev[i]
            sigma = s.eta * math.sqrt((1 - ap) / (1 - ac)) * math.sqrt(1 - ac / ap)
            mean = x0 * math.sqrt(ap) + math.sqrt(max(1 - ap - sigma * sigma, 0.0)) * eps
            return mean + sigma * noise if (i > 0 and sigma > 0) else mean
        mean = self.c1[i] * x0 + self.c2[i] * x
        if i == 0:
            return mean
        if s.variance == "learned_range":
            frac = (out[:, c:] + 1) / 2
            log_var = frac * math.log(self.betas[i]) + (1 - frac) * self.post_log_var[i]
            return mean + torch.exp(0.5 * log_var) * noise
        if s.variance == "fixed_large":
            var = self.post_var[1] if i == 0 else self.betas[i]
            return mean + math.sqrt(var) * noise
        return mean + math.exp(0.5 * self.post_log_var[i]) * noise

    def uses_noise(self, i):
        return i > 0 and (self.s.sampler == "ddpm" or self.s.eta > 0)


def guide(out, rows, channels, scale):
    """GLIDE model_fn: uncond + s (cond - uncond) on the first `channels` channels, the cond rows' rest unchanged."""
    cond, uncond = out[:rows], out[rows:]
    guided = uncond[:, :channels] + scale * (cond[:, :channels] - uncond[:, :channels])
    return torch.cat([guided, cond[:, channels:]], dim=1)


def sample(chain, model_fn, shape, generator, timer):
    """The engine's loop: one model call per step over [x; x] when guided. model_fn(x_rows, t) -> output rows."""
    rows = shape[0]
    x = torch.randn(shape, generator=generator)
    guided = chain.s.guided
    for k in range(len(chain)):
        i = len(chain) - 1 - k
        xin = torch.cat([x, x], dim=0) if guided else x
        t = torch.full((xin.shape[0],), chain.timesteps[i], dtype=torch.int64)
        with timer:
            out = model_fn(xin, t)
        if guided:
            out = guide(out, rows, shape[1], chain.s.guidance)
        noise = torch.randn(shape, generator=generator) if chain.uses_noise(i) else None
        x = chain.step(i, x, out, noise)
    return x
