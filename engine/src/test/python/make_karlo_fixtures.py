#!/usr/bin/python3
"""Builds the Karlo-shaped test bundle and the PyTorch results the Java tests compare against.

    /usr/bin/python3 engine/src/test/python/make_karlo_fixtures.py

Random-weight stand-ins with the call signatures and config fields of diffusers' UnCLIPPipeline
modules (CLIPTextModelWithProjection, PriorTransformer, UnCLIPTextProjModel,
UNet2DConditionModel, UNet2DModel x2), at scaled-down widths, go through the bundle exporter
engine/tools/export_diffusers_unclip.py, so the committed bundle is what that exporter writes.
It rewrites, under engine/src/test/resources/:

  bundles/karlo/                 text_encoder (CLIP BPE tokenizer.json, no padding section),
                                 prior, decoder (text_proj + UNet, learned unconditional .npy),
                                 super_res (super_res_first + super_res_last)
  bundles/clip-captioner/        a scripted captioner on the same tokenizer (pad = EOS)
  stage-reference/karlo.json     torch results: token ids, text encoder outputs, a prior call,
                                 the decoder's and the super-resolution stage's sampling loops
                                 (written the way UnCLIPPipeline's loops are) on the engine's noise
  stage-reference/resize_antialias.json  F.interpolate(..., antialias=True) cases

The sampling references draw x_T from the engine's noise streams (io.unclip.engine.seed.NoiseSeeds,
ported below) and use DDIM with eta 0, so no other noise enters.
"""
import importlib.util
import json
import math
import os
import shutil
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.normpath(os.path.join(HERE, "..", "resources"))
KARLO = os.path.join(RESOURCES, "bundles", "karlo")
CAPTIONER = os.path.join(RESOURCES, "bundles", "clip-captioner")
STAGE_REFERENCE = os.path.join(RESOURCES, "stage-reference")
EXPORTER = os.path.normpath(os.path.join(HERE, "..", "..", "..", "tools", "export_diffusers_unclip.py"))

EMBED = 16       # CLIP embedding width (Karlo: 768); also the text hidden width, as text_proj needs
TOKENS = 10      # context length (Karlo: 77)
TIME = 32        # decoder time embedding width (Karlo: 1280)
CROSS = 24       # decoder cross-attention width (Karlo: 1536)
EXTRA = 4        # text_proj's extra context tokens (Karlo: 4)
LOW, HIGH = 8, 32  # decoder and super-resolution sizes (Karlo: 64, 256)
SEED = 20240611  # request seed of the sampling references
STEPS = 4        # respacing "ddim4": timesteps 0, 250, 500, 750 (the tests override the manifests' "25" / "7")
GUIDANCE = 4.0


def load_exporter():
    spec = importlib.util.spec_from_file_location("export_diffusers_unclip", EXPORTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the CLIP BPE tokenizer.json (the structure of openai/clip-vit-large-patch14's, tiny vocabulary) ----

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MERGES = ["r e", "re d</w>", "c i", "ci r", "cir c", "l e</w>", "circ le</w>", "b l", "u e</w>"]
BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def clip_vocabulary():
    vocab = {}
    for c in LETTERS:
        vocab[c] = len(vocab)
    for c in LETTERS:
        vocab[c + "</w>"] = len(vocab)
    for m in MERGES:
        vocab[m.replace(" ", "")] = len(vocab)
    vocab[BOS] = len(vocab)  # last two ids, as in CLIP (49406, 49407): the text model pools at argmax(ids)
    vocab[EOS] = len(vocab)
    return vocab


def clip_tokenizer_json(vocab):
    special = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": True, "special": True} for t in (BOS, EOS)]
    return json.dumps({
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {
                "Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|"
                         "[^\\s\\p{L}\\p{N}]+"}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "RobertaProcessing", "sep": [EOS, vocab[EOS]], "cls": [BOS, vocab[BOS]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": EOS, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": MERGES},
    }, indent=1)


# Worked out by hand from MERGES (lowest-ranked adjacent pair first), not by a tokenizer library:
# the Java test checks that the tokenizer the engine loads gives exactly these.
PROMPTS = {
    "a red circle": ["a</w>", "red</w>", "circle</w>"],
    "A Blue  SQUARE": ["a</w>", "bl", "ue</w>", "s", "q", "u", "a", "r", "e</w>"],
    "": [],
}


def encode(vocab, prompt):
    """Ids padded with EOS (the pad token) to TOKENS, and the mask (1 on BOS .. EOS)."""
    ids = [vocab[BOS]] + [vocab[t] for t in PROMPTS[prompt]][:TOKENS - 2] + [vocab[EOS]]
    mask = [1] * len(ids) + [0] * (TOKENS - len(ids))
    return ids + [vocab[EOS]] * (TOKENS - len(ids)), mask


# ---- stand-ins with diffusers' interfaces ----

def sinusoid(t, dim):
    t = t.reshape(-1).to(torch.float32)
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ClipTextStandIn(nn.Module):
    """CLIPTextModelWithProjection's interface: causal features, pooled at the first EOS (argmax id)."""

    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, EMBED)
        self.position_embedding = nn.Parameter(torch.randn(TOKENS, EMBED) * 0.1)
        self.layer = nn.Linear(EMBED, EMBED)
        self.text_projection = nn.Linear(EMBED, EMBED, bias=False)

    def forward(self, input_ids):
        h = torch.tanh(self.layer(self.token_embedding(input_ids) + self.position_embedding[None]))
        counts = torch.arange(1, input_ids.shape[1] + 1, dtype=torch.float32)[None, :, None]
        h = torch.cumsum(h, dim=1) / counts
        pooled = h[torch.arange(h.shape[0]), input_ids.argmax(dim=-1)]
        return SimpleNamespace(text_embeds=self.text_projection(pooled), last_hidden_state=h)


class PriorStandIn(nn.Module):
    """PriorTransformer's interface and its clip_mean / clip_std."""

    def __init__(self):
        super().__init__()
        self.clip_mean = nn.Parameter(torch.randn(1, EMBED) * 0.1)
        self.clip_std = nn.Parameter(torch.rand(1, EMBED) + 0.5)
        self.time = nn.Linear(EMBED, EMBED)
        self.inp = nn.Linear(3 * EMBED, EMBED)
        self.out = nn.Linear(EMBED, EMBED)

    def forward(self, hidden_states, timestep, proj_embedding=None, encoder_hidden_states=None, attention_mask=None):
        m = attention_mask.to(torch.float32)[:, :, None]
        context = (encoder_hidden_states * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        x = torch.cat([hidden_states + self.time(sinusoid(timestep, EMBED)), proj_embedding, context], dim=1)
        return SimpleNamespace(predicted_image_embedding=self.out(torch.relu(self.inp(x))))


class TextProjStandIn(nn.Module):
    """UnCLIPTextProjModel's parameters and call; with guidance it prepends the learned embedding's rows."""

    def __init__(self):
        super().__init__()
        self.clip_extra_context_tokens = EXTRA
        self.learned_classifier_free_guidance_embeddings = nn.Parameter(torch.randn(EMBED))
        self.embedding_proj = nn.Linear(EMBED, TIME)
        self.clip_image_embeddings_project_to_time_embeddings = nn.Linear(EMBED, TIME)
        self.clip_extra_context_tokens_proj = nn.Linear(EMBED, EXTRA * CROSS)
        self.encoder_hidden_states_proj = nn.Linear(EMBED, CROSS)
        self.text_encoder_hidden_states_norm = nn.LayerNorm(CROSS)

    def forward(self, *, image_embeddings, prompt_embeds, text_encoder_hidden_states, do_classifier_free_guidance):
        if do_classifier_free_guidance:
            learned = self.learned_classifier_free_guidance_embeddings[None].expand(image_embeddings.shape[0], -1)
            image_embeddings = torch.cat([learned, image_embeddings], dim=0)
        additive = self.embedding_proj(prompt_embeds) + \
            self.clip_image_embeddings_project_to_time_embeddings(image_embeddings)
        extra = self.clip_extra_context_tokens_proj(image_embeddings).reshape(-1, EXTRA, CROSS)
        text = self.text_encoder_hidden_states_norm(self.encoder_hidden_states_proj(text_encoder_hidden_states))
        return torch.cat([extra, text], dim=1), additive


class DecoderUNetStandIn(nn.Module):
    """UNet2DConditionModel's interface (class_embed_type "identity": class_labels add to the time embedding)."""

    def __init__(self):
        super().__init__()
        self.config = SimpleNamespace(sample_size=LOW, in_channels=3, out_channels=6)
        self.time = nn.Linear(TIME, TIME)
        self.conv_in = nn.Conv2d(3, 8, 3, padding=1)
        self.emb = nn.Linear(TIME, 8)
        self.ctx = nn.Linear(CROSS, 8)
        self.conv_out = nn.Conv2d(8, 6, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states, class_labels=None, attention_mask=None):
        t = timestep.reshape(-1).expand(sample.shape[0])
        emb = F.silu(self.time(sinusoid(t, TIME)) + class_labels)
        m = attention_mask.to(torch.float32)[:, :, None]
        context = (encoder_hidden_states * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        h = self.conv_in(sample) + (self.emb(emb) + self.ctx(context))[:, :, None, None]
        # eps close to x_t, as a trained model's is, so that x0 stays mostly inside the clip range
        out = self.conv_out(F.silu(h))
        return SimpleNamespace(sample=torch.cat([sample + 0.3 * torch.tanh(out[:, :3]), out[:, 3:]], dim=1))


class SuperResUNetStandIn(nn.Module):
    """UNet2DModel's interface; sample = [x_t, upsampled low-resolution image] (6 channels)."""

    def __init__(self, amplitude):
        super().__init__()
        self.amplitude = amplitude
        self.config = SimpleNamespace(sample_size=HIGH, in_channels=6, out_channels=3)
        self.conv_in = nn.Conv2d(6, 8, 3, padding=1)
        self.emb = nn.Linear(16, 8)
        self.conv_out = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, sample, timestep):
        t = timestep.reshape(-1).expand(sample.shape[0])
        h = self.conv_in(sample) + self.emb(sinusoid(t, 16))[:, :, None, None]
        return SimpleNamespace(sample=sample[:, :3] + self.amplitude * torch.tanh(self.conv_out(F.silu(h))))


class ScriptedCaptionerStandIn(nn.Module):
    """Logits that spell a fixed caption position by position (then EOS), nudged by the image."""

    def __init__(self, script, vocab_size):
        super().__init__()
        table = torch.full((TOKENS, vocab_size), -4.0)
        for position, token in enumerate(script):
            table[position, token] = 8.0
        self.register_buffer("table", table)
        self.image = nn.Conv2d(3, vocab_size, 3, padding=1)

    def forward(self, image, input_ids):
        nudge = 0.01 * torch.tanh(self.image(image).mean(dim=(2, 3)))
        return self.table[None, : input_ids.shape[1]] + nudge[:, None, :]


def schedulers():
    """The UnCLIPScheduler settings diffusers' Karlo conversion uses."""
    def config(variance, prediction, clip_range=1.0):
        return SimpleNamespace(config=SimpleNamespace(variance_type=variance, prediction_type=prediction,
                                                      num_train_timesteps=1000, clip_sample=True,
                                                      clip_sample_range=clip_range,
                                                      beta_schedule="squaredcos_cap_v2"))
    return config("fixed_small_log", "sample", 5.0), config("learned_range", "epsilon"), \
        config("fixed_small_log", "epsilon")


# ---- the engine's noise streams (io.unclip.engine.seed.NoiseSeeds / GaussianStream), ported ----

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def stream_seed(seed, name, image, step):
    def absorb(h, v):
        return mix64(((h ^ (v & MASK64)) + GOLDEN) & MASK64)
    fnv = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        fnv = ((fnv ^ b) * 0x100000001B3) & MASK64
    return absorb(absorb(absorb(absorb(0, seed), fnv), image), step)


def gaussians(seed, count):
    state, out = seed, []
    def uniform():
        nonlocal state
        state = (state + GOLDEN) & MASK64
        return (mix64(state) >> 11) * 2.0 ** -53
    while len(out) < count:
        while True:
            u, v = 2 * uniform() - 1, 2 * uniform() - 1
            s = u * u + v * v
            if 0 < s < 1:
                break
        m = math.sqrt(-2 * math.log(s) / s)
        out += [u * m, v * m]
    return np.array(out[:count], dtype=np.float32)


def initial_noise(name, step, images, shape):
    n = int(np.prod(shape))
    return torch.from_numpy(np.stack([gaussians(stream_seed(SEED, name, i, step), n).reshape(shape) for i in images]))


# ---- the sampling chain (improved-diffusion respacing, DDIM eta 0) ----

def respaced_chain(steps, timesteps=1000):
    """squaredcos_cap_v2 betas, the kept timesteps of respacing "ddimN" (0, s, 2s, ...: the first stride s
    giving N steps), alpha_bar and its previous kept value."""
    def alpha_bar(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - alpha_bar((i + 1) / timesteps) / alpha_bar(i / timesteps), 0.999) for i in range(timesteps)]
    cumprod = np.cumprod(1.0 - np.array(betas, dtype=np.float64))
    stride = next(s for s in range(1, timesteps) if len(range(0, timesteps, s)) == steps)
    kept = list(range(0, timesteps, stride))
    abar = [float(cumprod[t]) for t in kept]
    return kept, abar, [1.0] + abar[:-1]


def ddim_step(x, eps, abar, abar_prev):
    def f32(v):  # the engine's coefficients are doubles rounded to float32
        return float(np.float32(v))
    recip, recipm1 = f32(math.sqrt(1 / abar)), f32(math.sqrt(1 / abar - 1))
    x0 = (recip * x - recipm1 * eps).clamp(-1, 1)
    eps = (recip * x - x0) / recipm1
    return x0 * f32(math.sqrt(abar_prev)) + f32(math.sqrt(1 - abar_prev)) * eps


def sample_decoder(text_proj, unet, image_embeds, cond, uncond, learned):
    """UnCLIPPipeline's decoder loop: [uncond; cond] rows, text_proj's own guidance branch."""
    kept, abar, abar_prev = respaced_chain(STEPS)
    n = image_embeds.shape[0]
    x = initial_noise("decoder", 0, range(n), (3, LOW, LOW))
    prompt = torch.cat([uncond["text_embeds"].expand(n, -1), cond["text_embeds"]])
    hidden = torch.cat([uncond["last_hidden_state"].expand(n, -1, -1), cond["last_hidden_state"]])
    mask = torch.cat([uncond["mask"].expand(n, -1), cond["mask"]]).to(torch.bool)
    mask = torch.cat([torch.ones(2 * n, EXTRA, dtype=torch.bool), mask], dim=1)
    if learned:
        context, additive = text_proj(image_embeddings=image_embeds, prompt_embeds=prompt,
                                      text_encoder_hidden_states=hidden, do_classifier_free_guidance=True)
    else:  # what the engine did before: zeros for the unconditional image embedding
        context, additive = text_proj(image_embeddings=torch.cat([torch.zeros_like(image_embeds), image_embeds]),
                                      prompt_embeds=prompt, text_encoder_hidden_states=hidden,
                                      do_classifier_free_guidance=False)
    for k in reversed(range(len(kept))):
        t = torch.tensor(kept[k], dtype=torch.int64)
        out = unet(sample=torch.cat([x, x]), timestep=t, encoder_hidden_states=context, class_labels=additive,
                   attention_mask=mask).sample
        eps_uncond, eps_cond = out[:n, :3], out[n:, :3]
        x = ddim_step(x, eps_uncond + GUIDANCE * (eps_cond - eps_uncond), abar[k], abar_prev[k])
    return x.clamp(-1, 1)


def sample_super_res(first, last, image_small, use_last=True):
    """UnCLIPPipeline's super-resolution loop: antialiased bicubic upscale, super_res_last on the last step."""
    kept, abar, abar_prev = respaced_chain(STEPS)
    n = image_small.shape[0]
    x = initial_noise("upsampler", 0, range(n), (3, HIGH, HIGH))
    upscaled = F.interpolate(image_small, size=[HIGH, HIGH], mode="bicubic", align_corners=False, antialias=True)
    for i, k in enumerate(reversed(range(len(kept)))):
        unet = last if use_last and i == len(kept) - 1 else first
        eps = unet(sample=torch.cat([x, upscaled], dim=1), timestep=torch.tensor(kept[k])).sample
        x = ddim_step(x, eps, abar[k], abar_prev[k])
    return x.clamp(-1, 1)


def describe(t):
    t = torch.as_tensor(t)
    if t.dtype == torch.float32:
        data = [float(repr(v)) for v in t.detach().flatten().numpy()]  # shortest decimal of each float32
    else:
        data = t.to(torch.int64).flatten().tolist()
    return {"shape": list(t.shape), "data": data}


def resize_reference():
    g = torch.Generator().manual_seed(7)
    cases = []
    for mode, (h, w), (oh, ow) in [("bicubic", (8, 8), (32, 32)), ("bicubic", (5, 7), (17, 11)),
                                   ("bicubic", (32, 32), (8, 8)), ("bicubic", (13, 9), (5, 20)),
                                   ("bilinear", (8, 8), (32, 32)), ("bilinear", (6, 5), (13, 3)),
                                   ("bilinear", (32, 32), (7, 7)), ("bicubic", (3, 3), (3, 3)),
                                   ("bicubic", (1, 4), (3, 1))]:
        x = torch.rand(1, 2, h, w, generator=g) * 2 - 1
        y = F.interpolate(x, size=(oh, ow), mode=mode, align_corners=False, antialias=True)
        cases.append({"mode": mode, "input": describe(x), "output": describe(y)})
    with open(os.path.join(STAGE_REFERENCE, "resize_antialias.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f)


def main():
    exporter = load_exporter()
    torch.manual_seed(0)
    vocab = clip_vocabulary()
    tokenizer_json = clip_tokenizer_json(vocab)
    text_encoder, prior, text_proj = ClipTextStandIn(len(vocab)), PriorStandIn(), TextProjStandIn()
    decoder, first = DecoderUNetStandIn(), SuperResUNetStandIn(0.3)
    last = SuperResUNetStandIn(3.0)  # a last-step model that differs enough to see in the result
    prior_s, decoder_s, super_res_s = schedulers()
    for m in (text_encoder, prior, text_proj, decoder, first, last):
        m.eval()
    if os.path.exists(KARLO):
        shutil.rmtree(KARLO)
    parts = SimpleNamespace(text_encoder=text_encoder, tokenizer_json=tokenizer_json, pad_token=EOS, tokens=TOKENS,
                            prior=prior, text_proj=text_proj, decoder=decoder, super_res_first=first,
                            super_res_last=last, prior_scheduler=prior_s, decoder_scheduler=decoder_s,
                            super_res_scheduler=super_res_s)
    exporter.export_bundle(parts, KARLO, "karlo-tiny", "0.1.0",
                           "random-weight stand-ins of Karlo's diffusers modules, for tests")

    ref = {"torch": torch.__version__, "seed": SEED, "steps": STEPS, "guidance_scale": GUIDANCE}
    with torch.no_grad():
        texts = {}
        for prompt in PROMPTS:
            ids, mask = encode(vocab, prompt)
            ids_t = torch.tensor([ids], dtype=torch.int64)
            out = text_encoder(ids_t)
            texts[prompt] = {"ids": ids_t, "mask": torch.tensor([mask], dtype=torch.int64),
                             "text_embeds": out.text_embeds, "last_hidden_state": out.last_hidden_state}
        ref["text"] = [{"prompt": p, **{k: describe(v) for k, v in t.items()}} for p, t in texts.items()]

        g = torch.Generator().manual_seed(3)
        prior_in = {"hidden_states": torch.randn(2, EMBED, generator=g), "timestep": torch.tensor([999, 41]),
                    "proj_embedding": torch.randn(2, EMBED, generator=g),
                    "encoder_hidden_states": torch.randn(2, TOKENS, EMBED, generator=g),
                    "attention_mask": torch.tensor([[1] * 5 + [0] * 5, [1] * TOKENS], dtype=torch.bool)}
        prior_out = prior(**prior_in).predicted_image_embedding
        ref["prior"] = {"inputs": {k: describe(v) for k, v in prior_in.items()}, "output": describe(prior_out)}

        cond = {k: torch.cat([texts["a red circle"][k], texts["A Blue  SQUARE"][k]]) for k in texts[""]}
        image_embeds = torch.randn(2, EMBED, generator=g)
        low = sample_decoder(text_proj, decoder, image_embeds, cond, texts[""], learned=True)
        ref["decoder"] = {"image_embeds": describe(image_embeds), "prompts": ["a red circle", "A Blue  SQUARE"],
                          "learned_unconditional": describe(text_proj.learned_classifier_free_guidance_embeddings),
                          "output": describe(low),
                          "output_zero_unconditional": describe(
                              sample_decoder(text_proj, decoder, image_embeds, cond, texts[""], learned=False))}
        ref["super_res"] = {"low_res": describe(low), "output": describe(sample_super_res(first, last, low)),
                            "output_first_only": describe(sample_super_res(first, last, low, use_last=False))}
    os.makedirs(STAGE_REFERENCE, exist_ok=True)
    with open(os.path.join(STAGE_REFERENCE, "karlo.json"), "w") as f:
        json.dump(ref, f)
    resize_reference()
    export_captioner(vocab, tokenizer_json, exporter)


def export_captioner(vocab, tokenizer_json, exporter):
    """A captioner whose pad token is its EOS: greedy decoding must still stop at EOS."""
    if os.path.exists(CAPTIONER):
        shutil.rmtree(CAPTIONER)
    d = os.path.join(CAPTIONER, "captioner")
    os.makedirs(d)
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        f.write(tokenizer_json)
    script = [vocab[t] for t in ["a</w>", "red</w>", "circle</w>", EOS]]
    model = ScriptedCaptionerStandIn(script, len(vocab))
    exporter.export_graph(model, (torch.zeros(2, 3, 16, 16), torch.zeros(2, TOKENS, dtype=torch.int64)),
                          os.path.join(d, "captioner.onnx"), ["image", "input_ids"], ["logits"])
    exporter.write_json(os.path.join(d, "manifest.json"), {
        "manifest_version": 1,
        "kind": "captioner",
        "onnx": "captioner.onnx",
        "tokenizer": "tokenizer.json",
        "pad_token": EOS,
        "inputs": [exporter.tensor("image", None, "float32", ["batch", 3, 16, 16]),
                   exporter.tensor("input_ids", None, "int64", ["batch", TOKENS])],
        "outputs": [exporter.tensor("logits", None, "float32", ["batch", TOKENS, len(vocab)])],
        "resolution": {"input": 16},
        "conditioning": {"text_tokens": TOKENS},
    })
    exporter.write_json(os.path.join(CAPTIONER, "bundle.json"), {
        "name": "clip-captioner", "version": "0.1.0", "description": "scripted captioner, CLIP BPE tokenizer",
        "stages": ["captioner"]})


if __name__ == "__main__":
    main()
