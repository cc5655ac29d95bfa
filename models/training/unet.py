"""The 32x32 decoder: an ADM/GLIDE-style U-Net conditioned on the CLIP image embedding (unCLIP decoder).

Conditioning as in DALL-E 2: the image embedding (and the pooled text embedding) are projected and added to the
timestep embedding, and the image embedding is projected into 4 extra context tokens that are concatenated with the
projected CLIP text tokens; every attention block attends over its own pixels plus these context tokens (GLIDE's
encoder_kv). Output has 2C channels: epsilon and the learned-range variance interpolation v in [-1, 1].

Export-friendly: forward has no data-dependent Python control flow; timestep is int64 (B,).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def zero(m):
    for p in m.parameters():
        nn.init.zeros_(p)
    return m


def norm(c):
    groups = next(g for g in (32, 24, 16, 12, 8, 6, 4, 3, 2, 1) if c % g == 0)
    return nn.GroupNorm(groups, c)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb, dropout=0.0):
        super().__init__()
        self.in_norm = norm(cin)
        self.in_conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, 2 * cout)
        self.out_norm = norm(cout)
        self.drop = nn.Dropout(dropout)
        self.out_conv = zero(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        h = self.in_conv(F.silu(self.in_norm(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.out_norm(h) * (1 + scale) + shift
        h = self.out_conv(self.drop(F.silu(h)))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    """Self-attention over pixels with the context tokens' keys/values prepended (GLIDE AttentionBlock).

    With `res`, a learned positional embedding (zero-initialised) is added to the normalised pixels before the
    projections, so that attention to a context token ("at the top left") can depend on where a pixel is."""

    def __init__(self, c, ctx_dim, head_ch=32, res=None):
        super().__init__()
        self.heads = max(1, c // head_ch)
        self.norm = norm(c)
        self.pos = nn.Parameter(torch.zeros(c, res * res)) if res else None
        self.qkv = nn.Conv1d(c, 3 * c, 1)
        self.enc_kv = nn.Conv1d(ctx_dim, 2 * c, 1)
        self.proj = zero(nn.Conv1d(c, c, 1))

    def forward(self, x, ctx):
        b, c, hh, ww = x.shape
        h = self.heads
        d = c // h
        xn = self.norm(x).reshape(b, c, hh * ww)
        if self.pos is not None:
            xn = xn + self.pos
        qkv = self.qkv(xn)  # B,3C,L
        q, k, v = qkv.reshape(b * h, 3 * d, hh * ww).split(d, dim=1)
        ekv = self.enc_kv(ctx.transpose(1, 2))  # B,2C,S
        ek, ev = ekv.reshape(b * h, 2 * d, ekv.shape[-1]).split(d, dim=1)
        k = torch.cat([ek, k], dim=-1)
        v = torch.cat([ev, v], dim=-1)
        scale = 1.0 / math.sqrt(math.sqrt(d))
        w = torch.softmax(torch.einsum("bct,bcs->bts", q * scale, k * scale), dim=-1)
        a = torch.einsum("bts,bcs->bct", w, v).reshape(b, c, hh * ww)
        return x + self.proj(a).reshape(b, c, hh, ww)


class Decoder(nn.Module):
    def __init__(self, ch=32, mult=(1, 2, 3), num_res=1, attn_res=(16, 8), image_embed_dim=128, text_embed_dim=128,
                 text_width=128, ctx_dim=128, extra_tokens=4, in_ch=3, size=32, dropout=0.0, learn_sigma=True,
                 position=False):
        super().__init__()
        self.config = dict(ch=ch, mult=list(mult), num_res=num_res, attn_res=list(attn_res),
                           image_embed_dim=image_embed_dim, text_embed_dim=text_embed_dim, text_width=text_width,
                           ctx_dim=ctx_dim, extra_tokens=extra_tokens, in_ch=in_ch, size=size, dropout=dropout,
                           learn_sigma=learn_sigma)
        if position:
            self.config["position"] = True
        emb = 4 * ch
        self.ch, self.extra_tokens, self.ctx_dim = ch, extra_tokens, ctx_dim
        self.time_embed = nn.Sequential(nn.Linear(ch, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.image_to_time = nn.Linear(image_embed_dim, emb)
        self.text_to_time = nn.Linear(text_embed_dim, emb)
        self.image_to_tokens = nn.Linear(image_embed_dim, extra_tokens * ctx_dim)
        self.text_norm = nn.LayerNorm(text_width)
        self.text_to_ctx = nn.Linear(text_width, ctx_dim)
        self.ctx_norm = nn.LayerNorm(ctx_dim)

        self.inp = nn.Conv2d(in_ch, ch, 3, padding=1)
        # position=True: where a pixel is, for the conditioning to say where a shape goes. Pixel coordinates in
        # [-1, 1] through a zero-initialised conv (CoordConv) added to the input features, and positional embeddings
        # in the attention blocks; zero-initialised so a warm start from a model without them starts unchanged.
        self.coord = zero(nn.Conv2d(2, ch, 3, padding=1, bias=False)) if position else None
        if position:
            lin = torch.linspace(-1, 1, size)
            self.register_buffer("coords", torch.stack(torch.meshgrid(lin, lin, indexing="ij"))[None], persistent=False)
        pos = (lambda r: r) if position else (lambda r: None)
        self.down = nn.ModuleList()
        chans, c, res = [ch], ch, size
        for li, m in enumerate(mult):
            for _ in range(num_res):
                blk = nn.ModuleList([ResBlock(c, ch * m, emb, dropout)])
                c = ch * m
                if res in attn_res:
                    blk.append(AttnBlock(c, ctx_dim, res=pos(res)))
                self.down.append(blk)
                chans.append(c)
            if li != len(mult) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(c, c, 3, stride=2, padding=1)]))
                chans.append(c)
                res //= 2
        self.mid = nn.ModuleList([ResBlock(c, c, emb, dropout), AttnBlock(c, ctx_dim, res=pos(res)),
                                  ResBlock(c, c, emb, dropout)])
        self.up = nn.ModuleList()
        for li, m in reversed(list(enumerate(mult))):
            for i in range(num_res + 1):
                blk = nn.ModuleList([ResBlock(c + chans.pop(), ch * m, emb, dropout)])
                c = ch * m
                if res in attn_res:
                    blk.append(AttnBlock(c, ctx_dim, res=pos(res)))
                if li and i == num_res:
                    blk.append(nn.Upsample(scale_factor=2, mode="nearest"))
                    blk.append(nn.Conv2d(c, c, 3, padding=1))
                    res *= 2
                self.up.append(blk)
        self.out = nn.Sequential(norm(c), nn.SiLU(), zero(nn.Conv2d(c, in_ch * (2 if learn_sigma else 1), 3, padding=1)))

    def forward(self, sample, timestep, image_embeds, text_embeds, encoder_hidden_states):
        """sample (B,3,32,32), timestep int64 (B,), image_embeds (B,128), text_embeds (B,128) pooled,
        encoder_hidden_states (B,24,128) CLIP text tokens -> (B,6,32,32): epsilon, v."""
        b = sample.shape[0]
        emb = self.time_embed(timestep_embedding(timestep, self.ch))
        emb = emb + self.image_to_time(image_embeds) + self.text_to_time(text_embeds)
        extra = self.image_to_tokens(image_embeds).reshape(b, self.extra_tokens, self.ctx_dim)
        txt = self.text_to_ctx(self.text_norm(encoder_hidden_states))
        ctx = self.ctx_norm(torch.cat([extra, txt], dim=1))

        h = self.inp(sample)
        if self.coord is not None:
            h = h + self.coord(self.coords.expand(b, -1, -1, -1))
        hs = [h]
        for blk in self.down:
            for layer in blk:
                h = self._run_layer(layer, h, emb, ctx)
            hs.append(h)
        for layer in self.mid:
            h = self._run_layer(layer, h, emb, ctx)
        for blk in self.up:
            h = torch.cat([h, hs.pop()], dim=1)
            for layer in blk:
                h = self._run_layer(layer, h, emb, ctx)
        return self.out(h)

    @staticmethod
    def _run_layer(layer, h, emb, ctx):  # not _apply: that is nn.Module's hook behind .to() / .cuda()
        if isinstance(layer, ResBlock):
            return layer(h, emb)
        if isinstance(layer, AttnBlock):
            return layer(h, ctx)
        return layer(h)


class EpsilonOutput(nn.Module):
    """Wraps a v-predicting decoder so that it outputs epsilon (+ the unchanged variance channels): the exported ONNX
    graph then follows the engine's epsilon contract. eps = sqrt(ac_t) v + sqrt(1 - ac_t) x_t, ac_t gathered from the
    training schedule by timestep (so the graph must be called with original, not respaced, timesteps)."""

    def __init__(self, model, sqrt_ac, sqrt_1mac):
        super().__init__()
        self.model = model
        self.register_buffer("sqrt_ac", torch.as_tensor(sqrt_ac, dtype=torch.float32))
        self.register_buffer("sqrt_1mac", torch.as_tensor(sqrt_1mac, dtype=torch.float32))

    def forward(self, sample, timestep, image_embeds, text_embeds, encoder_hidden_states):
        out = self.model(sample, timestep, image_embeds, text_embeds, encoder_hidden_states)
        c = sample.shape[1]
        a = self.sqrt_ac[timestep].reshape(-1, 1, 1, 1)
        s = self.sqrt_1mac[timestep].reshape(-1, 1, 1, 1)
        return torch.cat([a * out[:, :c] + s * sample, out[:, c:]], dim=1)
