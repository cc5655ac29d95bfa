"""Captioner (DALL-E 3 / CoCa style, in small): a conv image encoder on 32x32 (stride-2 stem, 16x16 -> 8x8) keeping an 8x8 feature map (64 image
tokens) and an autoregressive transformer text decoder (causal self-attention + cross-attention to the image tokens).

Token ids: the mini-CLIP word-level vocabulary (common.VOCAB, ids 0..36) plus three style tokens [SHORT], [DESC],
[REL] (37, 38, 39). A sequence is [BOS, style, words..., EOS, PAD...] of length CAP_CONTEXT; logits[b, i] scores
token i + 1 (engine/MANIFEST.md, captioner). Export-friendly: no data-dependent control flow.
"""
import copy
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from clip_model import ResBlock as ConvRes
from common import BOS, EOS, PAD, VOCAB, decode, encode, tokenizer_json

STYLE_TOKENS = {"short": "[SHORT]", "descriptive": "[DESC]", "relational": "[REL]"}
CAP_VOCAB = dict(VOCAB)
for _tok in STYLE_TOKENS.values():
    CAP_VOCAB[_tok] = len(CAP_VOCAB)
CAP_CONTEXT = 26  # BOS + style + 22 words (longest descriptive caption) + EOS, +1 spare


def encode_caption(text, style):
    """[BOS, style token, words..., EOS] padded to CAP_CONTEXT."""
    base = encode(text, context=CAP_CONTEXT - 1)  # [BOS] words [EOS] pad...
    ids = [BOS, CAP_VOCAB[STYLE_TOKENS[style]]] + base[1:]
    return ids[:CAP_CONTEXT]


def captioner_tokenizer_json():
    """The mini-CLIP tokenizer.json with the style tokens as extra special tokens and fixed padding to CAP_CONTEXT."""
    tj = copy.deepcopy(tokenizer_json(CAP_CONTEXT))
    tj["model"]["vocab"] = dict(CAP_VOCAB)
    for tok in STYLE_TOKENS.values():
        tj["added_tokens"].append({"id": CAP_VOCAB[tok], "content": tok, "single_word": False, "lstrip": False,
                                   "rstrip": False, "normalized": False, "special": True})
    return tj


def write_captioner_tokenizer(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(captioner_tokenizer_json(), f, indent=1)


class DecoderLayer(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.self_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.cross_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln3 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x, mem, mask):
        h = self.ln1(x)
        x = x + self.self_attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        h = self.ln2(x)
        x = x + self.cross_attn(h, mem, mem, need_weights=False)[0]
        return x + self.mlp(self.ln3(x))


class Captioner(nn.Module):
    def __init__(self, width=128, layers=3, heads=4, size=32, chans=(48, 96), vocab=len(CAP_VOCAB),
                 context=CAP_CONTEXT):
        super().__init__()
        self.config = dict(width=width, layers=layers, heads=heads, size=size, chans=list(chans), vocab=vocab,
                           context=context)
        c0, c2 = chans
        self.enc = nn.Sequential(
            nn.Conv2d(3, c0, 4, stride=2, padding=1), ConvRes(c0),  # 32 -> 16 (a 4x4 stride-2 stem loses nothing)
            nn.Conv2d(c0, c2, 3, stride=2, padding=1), ConvRes(c2), ConvRes(c2),  # 8
            nn.GroupNorm(8, c2), nn.SiLU())
        n_img = (size // 4) ** 2
        self.img_proj = nn.Linear(c2, width)
        self.img_pos = nn.Parameter(torch.randn(n_img, width) * 0.02)
        self.img_ln = nn.LayerNorm(width)
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.01)
        self.layers = nn.ModuleList([DecoderLayer(width, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("causal_mask", torch.full((context, context), float("-inf")).triu(1), persistent=False)
        nn.init.normal_(self.tok.weight, std=0.02)

    def encode_image(self, image):
        f = self.enc(image)  # B,C,8,8
        f = f.flatten(2).transpose(1, 2)  # B,64,C
        return self.img_ln(self.img_proj(f) + self.img_pos)

    def forward(self, image, input_ids):
        """image (B,3,32,32) in [-1,1], input_ids (B,CAP_CONTEXT) int64 -> logits (B,CAP_CONTEXT,vocab)."""
        mem = self.encode_image(image)
        x = self.tok(input_ids) + self.pos
        for layer in self.layers:
            x = layer(x, mem, self.causal_mask)
        return self.head(self.ln_f(x))


@torch.no_grad()
def greedy(model, image, style):
    """The engine's decoding: from [BOS, style], never PAD/BOS/UNK/style tokens, stop at EOS. -> list of str."""
    b = image.shape[0]
    ids = torch.full((b, CAP_CONTEXT), PAD, dtype=torch.long, device=image.device)
    ids[:, 0] = BOS
    ids[:, 1] = CAP_VOCAB[STYLE_TOKENS[style]]
    banned = [PAD, BOS, VOCAB["[UNK]"]] + [CAP_VOCAB[t] for t in STYLE_TOKENS.values()]
    done = torch.zeros(b, dtype=torch.bool, device=image.device)
    mem = model.encode_image(image)
    for pos in range(2, CAP_CONTEXT):
        x = model.tok(ids) + model.pos
        for layer in model.layers:
            x = layer(x, mem, model.causal_mask)
        logits = model.head(model.ln_f(x[:, pos - 1]))
        logits[:, banned] = float("-inf")
        nxt = logits.argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, PAD), nxt)
        ids[:, pos] = nxt
        done |= nxt == EOS
        if bool(done.all()):
            break
    return [decode(r[2:]) for r in ids]
