"""mini-CLIP: a causal text transformer over the closed vocabulary and a small conv image encoder (32x32).

Export-friendly: no data-dependent Python control flow in forward (the EOS position is found with argmax/gather).
Text output names follow the contract (`text_embeds`, `last_hidden_state`).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import CONTEXT, EOS, VOCAB


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    def __init__(self, width=128, layers=4, heads=4, embed_dim=128, context=CONTEXT, vocab=len(VOCAB)):
        super().__init__()
        self.width, self.context, self.embed_dim = width, context, embed_dim
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.proj = nn.Linear(width, embed_dim, bias=False)
        mask = torch.full((context, context), float("-inf")).triu(1)
        self.register_buffer("causal_mask", mask, persistent=False)
        nn.init.normal_(self.tok.weight, std=0.02)

    def forward(self, input_ids):
        """input_ids (B, CONTEXT) int64 -> (text_embeds (B, embed_dim), last_hidden_state (B, CONTEXT, width))."""
        x = self.tok(input_ids) + self.pos
        for b in self.blocks:
            x = b(x, self.causal_mask)
        x = self.ln_final(x)
        eos_pos = (input_ids == EOS).long().argmax(dim=1)  # first EOS
        pooled = torch.gather(x, 1, eos_pos[:, None, None].expand(-1, 1, x.shape[-1]))[:, 0]
        return self.proj(pooled), x


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n1 = nn.GroupNorm(8, c)
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.n2 = nn.GroupNorm(8, c)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        h = self.c1(F.silu(self.n1(x)))
        return x + self.c2(F.silu(self.n2(h)))


class ImageEncoder(nn.Module):
    """32x32 RGB in [-1, 1] -> image embedding. Keeps a 4x4 spatial map to the end (position matters here)."""

    def __init__(self, embed_dim=128, chans=(16, 32, 64, 128), size=32):
        super().__init__()
        c0, c1, c2, c3 = chans
        self.net = nn.Sequential(
            nn.Conv2d(3, c0, 3, padding=1),  # 32
            ResBlock(c0),
            nn.Conv2d(c0, c1, 3, stride=2, padding=1),  # 16
            ResBlock(c1),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),  # 8
            ResBlock(c2),
            nn.Conv2d(c2, c3, 3, stride=2, padding=1),  # 4
            nn.GroupNorm(8, c3),
            nn.SiLU(),
        )
        s = size // 8
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c3 * s * s, 512), nn.GELU(), nn.Linear(512, embed_dim))

    def forward(self, x):
        return self.head(self.net(x))


class MiniClip(nn.Module):
    def __init__(self, embed_dim=128, text_width=128, text_layers=4, heads=4):
        super().__init__()
        self.text = TextEncoder(text_width, text_layers, heads, embed_dim)
        self.image = ImageEncoder(embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, images, input_ids):
        img = F.normalize(self.image(images), dim=-1)
        txt = F.normalize(self.text(input_ids)[0], dim=-1)
        return img, txt, self.logit_scale.exp().clamp(max=100.0)


def contrastive_loss(img, txt, scale, input_ids, txt_neg=None, neg_ids=None):
    """Symmetric InfoNCE with multi-positive soft targets: identical captions in a batch are all positives.

    txt_neg/neg_ids (optional): extra caption columns for the image->text direction only (hard negatives); one is
    a positive for any image whose own caption it equals. Returned logits: (B, B + K), the batch's captions first.
    """
    cols, col_ids = txt, input_ids
    if txt_neg is not None:
        cols, col_ids = torch.cat([txt, txt_neg]), torch.cat([input_ids, neg_ids])
    logits = scale * img @ cols.t()
    same = (input_ids[:, None, :] == col_ids[None, :, :]).all(-1).float()
    target = same / same.sum(1, keepdim=True)
    li = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
    n = len(input_ids)
    t2i = same[:, :n].t()
    lt = -(t2i / t2i.sum(1, keepdim=True) * F.log_softmax(logits[:, :n].t(), dim=1)).sum(1).mean()
    return 0.5 * (li + lt), logits
