"""The diffusion prior (DALL-E 2 style): a causal transformer over
[CLIP text tokens (24)] + [pooled text embedding] + [timestep] + [noisy image embedding] + [learned query]
that predicts the clean (standardised) CLIP image embedding x0 from the output at the query position.
Input names follow the contract (diffusers PriorTransformer): hidden_states (noisy embedding), timestep (int64),
proj_embedding (pooled text embedding), encoder_hidden_states (text tokens), attention_mask (1 = real token).
"""
import math

import torch
import torch.nn as nn

from unet import timestep_embedding


class PriorBlock(nn.Module):
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


class Prior(nn.Module):
    def __init__(self, embed_dim=128, text_width=128, width=192, layers=4, heads=4, context=24):
        super().__init__()
        self.config = dict(embed_dim=embed_dim, text_width=text_width, width=width, layers=layers, heads=heads,
                           context=context)
        self.width, self.heads, self.context = width, heads, context
        self.text_in = nn.Linear(text_width, width)
        self.proj_in = nn.Linear(embed_dim, width)
        self.time_in = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.x_in = nn.Linear(embed_dim, width)
        self.query = nn.Parameter(torch.randn(width) * 0.02)
        n = context + 4
        self.pos = nn.Parameter(torch.randn(n, width) * 0.01)
        self.blocks = nn.ModuleList([PriorBlock(width, heads) for _ in range(layers)])
        self.ln_out = nn.LayerNorm(width)
        self.out = nn.Linear(width, embed_dim)
        self.register_buffer("causal", torch.full((n, n), float("-inf")).triu(1), persistent=False)

    def forward(self, hidden_states, timestep, proj_embedding, encoder_hidden_states, attention_mask):
        """hidden_states (B,E) noisy standardised image embedding; timestep int64 (B,); proj_embedding (B,E)
        pooled text embedding; encoder_hidden_states (B,24,W_text); attention_mask (B,24) 1/0 -> x0 (B,E)."""
        b = hidden_states.shape[0]
        toks = torch.cat([
            self.text_in(encoder_hidden_states),
            self.proj_in(proj_embedding)[:, None],
            self.time_in(timestep_embedding(timestep, self.width))[:, None],
            self.x_in(hidden_states)[:, None],
            self.query.expand(b, 1, self.width),
        ], dim=1) + self.pos
        keep = torch.cat([attention_mask.float(), torch.ones(b, 4, device=attention_mask.device)], dim=1)  # padding text tokens are not attended
        key_bias = (1.0 - keep)[:, None, :] * -1e4
        mask = self.causal[None] + key_bias  # (B, N, N), then each row once per head: (B*H, N, N), as repeat_interleave
        mask = mask[:, None].expand(-1, self.heads, -1, -1).reshape(-1, mask.shape[1], mask.shape[2])  # (meta can't)
        x = toks
        for blk in self.blocks:
            x = blk(x, mask)
        return self.out(self.ln_out(x[:, -1]))
