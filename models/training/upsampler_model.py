"""4x diffusion upsampler (DALL-E 2 / ADM super-resolution U-Net, conv only, no attention, unconditional on text).

The model input `sample` is concat([x_t, interpolate(low_res, size=(out, out), mode="bilinear", align_corners=False)])
(6 channels; engine/MANIFEST.md "Sampling contract", upsampler without a `low_res` input); the output is epsilon
(3 channels, fixed_small variance). Fully convolutional, so it trains on random crops and runs on the full image.
Reuses the ResBlock / timestep embedding of unet.py (scale-shift norm).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from unet import ResBlock, norm, timestep_embedding, zero


class Upsampler(nn.Module):
    def __init__(self, ch=32, mult=(1, 2, 2), num_res=1, in_ch=3, out_size=128, scale=4, dropout=0.0):
        super().__init__()
        self.config = dict(ch=ch, mult=list(mult), num_res=num_res, in_ch=in_ch, out_size=out_size, scale=scale,
                           dropout=dropout)
        emb = 4 * ch
        self.ch = ch
        self.time_embed = nn.Sequential(nn.Linear(ch, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.inp = nn.Conv2d(2 * in_ch, ch, 3, padding=1)
        self.down = nn.ModuleList()
        chans, c = [ch], ch
        for li, m in enumerate(mult):
            for _ in range(num_res):
                self.down.append(nn.ModuleList([ResBlock(c, ch * m, emb, dropout)]))
                c = ch * m
                chans.append(c)
            if li != len(mult) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(c, c, 3, stride=2, padding=1)]))
                chans.append(c)
        self.mid = nn.ModuleList([ResBlock(c, c, emb, dropout), ResBlock(c, c, emb, dropout)])
        self.up = nn.ModuleList()
        for li, m in reversed(list(enumerate(mult))):
            for i in range(num_res + 1):
                blk = nn.ModuleList([ResBlock(c + chans.pop(), ch * m, emb, dropout)])
                c = ch * m
                if li and i == num_res:
                    blk.append(nn.Upsample(scale_factor=2, mode="nearest"))
                    blk.append(nn.Conv2d(c, c, 3, padding=1))
                self.up.append(blk)
        self.out = nn.Sequential(norm(c), nn.SiLU(), zero(nn.Conv2d(c, in_ch, 3, padding=1)))

    def forward(self, sample, timestep):
        """sample (B, 6, S, S) = [x_t, upsampled low-res]; timestep int64 (B,) -> epsilon (B, 3, S, S).
        S must be a multiple of 2 ** (len(mult) - 1)."""
        emb = self.time_embed(timestep_embedding(timestep, self.ch))
        h = self.inp(sample)
        hs = [h]
        for blk in self.down:
            for layer in blk:
                h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        for layer in self.mid:
            h = layer(h, emb)
        for blk in self.up:
            h = torch.cat([h, hs.pop()], dim=1)
            for layer in blk:
                h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
        return self.out(h)


def upsample_lowres(low, size, mode="bilinear"):
    """Exactly what the engine does (MANIFEST lowres_resize): F.interpolate(..., align_corners=False), no antialias."""
    if mode == "nearest":
        return F.interpolate(low, size=(size, size), mode="nearest")
    return F.interpolate(low, size=(size, size), mode=mode, align_corners=False)


def gaussian_kernel(sigma, k):
    """(B,) sigmas -> (B, k, k) normalised Gaussian kernels."""
    r = torch.arange(k, dtype=torch.float32, device=sigma.device) - (k - 1) / 2
    g = torch.exp(-(r[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    g = g / g.sum(1, keepdim=True)
    return g[:, :, None] * g[:, None, :]


def blur(x, sigma, k):
    """Per-sample Gaussian blur (reflect padding); sigma (B,) with 0 = no blur."""
    b, c, h, w = x.shape
    s = sigma.clamp(min=1e-3)
    ker = gaussian_kernel(s, k)  # B,k,k
    ker = torch.where((sigma > 0)[:, None, None], ker, torch.zeros_like(ker))
    ident = torch.zeros(k, k, device=x.device)
    ident[k // 2, k // 2] = 1
    ker = torch.where((sigma > 0)[:, None, None], ker, ident[None])
    xp = F.pad(x.reshape(1, b * c, h, w), (k // 2,) * 4, mode="reflect")
    wgt = ker[:, None].repeat_interleave(c, 0)  # (B*C,1,k,k)
    return F.conv2d(xp, wgt, groups=b * c).reshape(b, c, h, w)


class PrecondUpsampler(nn.Module):
    """The exported upsampler: an EDM-style preconditioned wrapper (Karras et al. 2022) around `Upsampler` that
    models the RESIDUAL y = x0 - cond (cond = the bilinearly upsampled low-res image), and returns epsilon as the
    engine's contract wants.

    With a = sqrt(alphas_cumprod[t]), s = sqrt(1 - alphas_cumprod[t]) and z = x_t - a * cond = a * y + s * eps,
    d = sqrt(s^2 + a^2 sd^2) (sd = sigma_data of the residual):
        F      = net(concat([z / d, cond]), t)
        y_pred = sd^2 a z / d^2 + (s sd / d) F         (c_skip * z / a + c_out * F)
        eps    = s z / d^2 - (a sd / d) F               (= (x_t - a (cond + y_pred)) / s, written without 1/s)
    With F = 0 (the zero-initialised output layer) the model already samples the bilinear image (plus a Wiener
    estimate of the residual), so training only has to learn the sharpening. Training target (EDM weighting, unit
    variance): F* = (s y - sd^2 a eps) / (sd d).
    """

    def __init__(self, net, alphas_cumprod, sigma_data=0.2):
        super().__init__()
        self.net = net
        self.config = dict(net.config)
        self.config["sigma_data"] = sigma_data
        self.sd = float(sigma_data)
        ac = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
        self.register_buffer("a_tab", ac.sqrt().float(), persistent=False)
        self.register_buffer("s_tab", (1 - ac).sqrt().float(), persistent=False)

    def _coef(self, t):
        a = self.a_tab[t][:, None, None, None]
        s = self.s_tab[t][:, None, None, None]
        d = torch.sqrt(s * s + a * a * (self.sd * self.sd))
        return a, s, d

    def inner(self, sample, timestep):
        c = sample.shape[1] // 2
        xt, cond = sample[:, :c], sample[:, c:]
        a, s, d = self._coef(timestep)
        z = xt - a * cond
        f = self.net(torch.cat([z / d, cond], dim=1), timestep)
        return f, z, a, s, d

    def forward(self, sample, timestep):
        """sample (B, 6, S, S) = [x_t, bilinear(low_res)], timestep int64 (B,) -> epsilon (B, 3, S, S)."""
        f, z, a, s, d = self.inner(sample, timestep)
        return s * z / (d * d) - (a * self.sd / d) * f

    def loss(self, x0, cond, timestep, noise):
        a, s, d = self._coef(timestep)
        xt = a * x0 + s * noise
        f, _, _, _, _ = self.inner(torch.cat([xt, cond], dim=1), timestep)
        target = (s * (x0 - cond) - self.sd * self.sd * a * noise) / (self.sd * d)
        return ((f - target) ** 2).mean()


def build_upsampler(config):
    """PrecondUpsampler from a checkpoint's config (Upsampler config + sigma_data), cosine schedule T=1000."""
    from diffusion import cosine_betas
    cfg = dict(config)
    sd = cfg.pop("sigma_data", 0.2)
    ac = np.cumprod(1.0 - cosine_betas(1000))
    return PrecondUpsampler(Upsampler(**cfg), ac, sd)
