#!/usr/bin/python3
"""Exports the tiny ONNX models used by the engine's tests, plus input -> output reference pairs.

Run with the Debian toolchain (torch 1.13, onnx; call /usr/bin/python3 explicitly, a pyenv
python3 on PATH lacks torch):

    /usr/bin/python3 engine/src/test/python/make_fixtures.py

It rewrites, under engine/src/test/resources/:
  bundles/tiny/<stage>/<stage>.onnx   one toy model per stage kind (a few KB each)
  bundles/extra-stages/upsampler_512  a third upsampler (128 -> 512) that tests add to a copy of tiny
  onnx-reference/<stage>.json         fixed inputs and the outputs PyTorch computed for them
  stage-reference/resize.json         torch F.interpolate results the engine's resizes must match

The models are random (fixed seed) and meaningless; they only have the tensor contract of the
real stages (names, element types, dynamic batch axis, int64 timestep, bool attention mask),
so the Java tests can check session metadata, manifest validation and numerical parity with
PyTorch without Python at test time. Manifests and tokenizer.json are hand-written, not generated.
Re-running reproduces the .onnx files byte for byte; recorded outputs may move by ~1e-7 (PyTorch
CPU threading), far inside the 1e-5 the Java test allows.
"""
import json
import math
import os

import torch
from torch import nn

OPSET = 17
EMBED = 16           # image/text embedding dimension
TOKENS = 24          # text context length
HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.normpath(os.path.join(HERE, "..", "resources"))
BUNDLE = os.path.join(RESOURCES, "bundles", "tiny")
# stages that tests add to a copy of the tiny bundle (Fixtures.tinyBundleWith)
EXTRA_STAGES = os.path.join(RESOURCES, "bundles", "extra-stages")
REFERENCE = os.path.join(RESOURCES, "onnx-reference")


STAGE_REFERENCE = os.path.join(RESOURCES, "stage-reference")


def vocab_size(stage="text_encoder"):
    with open(os.path.join(BUNDLE, stage, "tokenizer.json")) as f:
        return len(json.load(f)["model"]["vocab"])


def timestep_embedding(t, dim):
    """Sinusoidal embedding of an int64 timestep, computed inside the graph."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.to(torch.float32)[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class TextEncoder(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, EMBED)
        self.hidden = nn.Linear(EMBED, EMBED)
        self.proj = nn.Linear(EMBED, EMBED)

    def forward(self, input_ids, attention_mask):
        h = torch.tanh(self.hidden(self.embed(input_ids)))
        m = attention_mask.to(torch.float32)[:, :, None]
        pooled = (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        return self.proj(pooled), h


class Prior(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(3 * EMBED, EMBED)
        self.out = nn.Linear(EMBED, EMBED)

    def forward(self, hidden_states, timestep, proj_embedding, encoder_hidden_states, attention_mask):
        m = attention_mask.to(torch.float32)[:, :, None]
        ctx = (encoder_hidden_states * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        x = torch.cat([hidden_states + timestep_embedding(timestep, EMBED), proj_embedding, ctx], dim=1)
        return self.out(torch.relu(self.inp(x)))


class Decoder(nn.Module):
    """64x64-style decoder shrunk to 8x8: 3 channels in, 6 out (epsilon + learned variance)."""

    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(3, 8, 3, padding=1)
        self.cond = nn.Linear(2 * EMBED, 8)
        self.conv_out = nn.Conv2d(8, 6, 3, padding=1)

    def forward(self, sample, timestep, image_embeds, encoder_hidden_states):
        c = torch.cat([image_embeds + timestep_embedding(timestep, EMBED),
                       encoder_hidden_states.mean(dim=1)], dim=1)
        h = torch.relu(self.conv_in(sample) + self.cond(c)[:, :, None, None])
        return self.conv_out(h)


class Upsampler(nn.Module):
    """4x super-resolution step: noisy 32x32 sample concatenated with the upsampled 8x8 image."""

    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(6, 8, 3, padding=1)
        self.time = nn.Linear(EMBED, 8)
        self.conv_out = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, sample, timestep):
        h = torch.relu(self.conv_in(sample) + self.time(timestep_embedding(timestep, EMBED))[:, :, None, None])
        return self.conv_out(h)


class Upsampler128(nn.Module):
    """Second 4x step: noisy 128x128 sample concatenated with the upsampled 32x32 image (also the
    third, 128 -> 512, of bundles/extra-stages: the net is size-agnostic, the export fixes the size)."""

    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(6, 4, 3, padding=1)
        self.time = nn.Linear(EMBED, 4)
        self.conv_out = nn.Conv2d(4, 3, 3, padding=1)

    def forward(self, sample, timestep):
        h = torch.relu(self.conv_in(sample) + self.time(timestep_embedding(timestep, EMBED))[:, :, None, None])
        return self.conv_out(h)


class ImageEncoder(nn.Module):
    """CLIP-style image tower: a 32x32 image in [-1, 1] to an image embedding."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, EMBED, 8, stride=8)
        self.proj = nn.Linear(EMBED, EMBED)

    def forward(self, image):
        return self.proj(torch.tanh(self.patch(image)).mean(dim=(2, 3)))


class Captioner(nn.Module):
    """Next-token logits for a caption prefix, conditioned on a 32x32 image."""

    def __init__(self, vocab):
        super().__init__()
        self.image = nn.Conv2d(3, EMBED, 8, stride=8)
        self.embed = nn.Embedding(vocab, EMBED)
        self.out = nn.Linear(EMBED, vocab)

    def forward(self, image, input_ids):
        img = self.image(image).mean(dim=(2, 3))
        return self.out(torch.tanh(self.embed(input_ids) + img[:, None, :]))


def export(stage, file_name, model, inputs, input_names, output_names, dynamic, reference=True, root=BUNDLE):
    model.eval()
    path = os.path.join(root, stage, file_name)
    with torch.no_grad():
        torch.onnx.export(model, inputs, path, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic, do_constant_folding=True)
        outputs = model(*inputs)
    print(f"{path}: {os.path.getsize(path)} bytes")
    if not reference:  # a large image model: the reference JSON would be megabytes
        return
    if not isinstance(outputs, tuple):
        outputs = (outputs,)
    record = {
        "model": f"bundles/tiny/{stage}/{file_name}",
        "inputs": [describe(n, t) for n, t in zip(input_names, inputs)],
        "outputs": [describe(n, t) for n, t in zip(output_names, outputs)],
    }
    with open(os.path.join(REFERENCE, f"{stage}.json"), "w") as f:
        json.dump(record, f)


def describe(name, t):
    types = {torch.float32: "float32", torch.int64: "int64", torch.bool: "bool"}
    if t.dtype == torch.float32:
        # shortest decimal that reads back as the same float32: keeps the files small
        data = [float(repr(v)) for v in t.flatten().numpy()]
    else:
        data = t.to(torch.int64).flatten().tolist()
    return {"name": name, "type": types[t.dtype], "shape": list(t.shape), "data": data}


def batch_dims(names):
    """Every input and output gets a dynamic leading batch axis."""
    return {n: {0: "batch"} for n in names}


def main():
    torch.manual_seed(0)
    os.makedirs(REFERENCE, exist_ok=True)
    vocab = vocab_size()
    batch = 2
    ids = torch.randint(4, vocab, (batch, TOKENS), dtype=torch.int64)
    mask = torch.ones(batch, TOKENS, dtype=torch.int64)
    mask[1, 10:] = 0
    t = torch.tensor([999, 17], dtype=torch.int64)

    names = ["input_ids", "attention_mask", "text_embeds", "last_hidden_state"]
    export("text_encoder", "text_encoder.onnx", TextEncoder(vocab), (ids, mask),
           names[:2], names[2:], batch_dims(names))

    names = ["hidden_states", "timestep", "proj_embedding", "encoder_hidden_states", "attention_mask",
             "predicted_image_embedding"]
    export("prior", "prior.onnx", Prior(),
           (torch.randn(batch, EMBED), t, torch.randn(batch, EMBED), torch.randn(batch, TOKENS, EMBED),
            mask.to(torch.bool)),
           names[:5], names[5:], batch_dims(names))

    names = ["sample", "timestep", "image_embeds", "encoder_hidden_states", "out_sample"]
    export("decoder", "decoder.onnx", Decoder(),
           (torch.randn(batch, 3, 8, 8), t, torch.randn(batch, EMBED), torch.randn(batch, TOKENS, EMBED)),
           names[:4], names[4:], batch_dims(names))

    names = ["sample", "timestep", "out_sample"]
    export("upsampler_32", "upsampler.onnx", Upsampler(), (torch.randn(batch, 6, 32, 32), t),
           names[:2], names[2:], batch_dims(names))

    names = ["image", "input_ids", "logits"]
    export("captioner", "captioner.onnx", Captioner(vocab_size("captioner")), (torch.randn(batch, 3, 32, 32), ids),
           names[:2], names[2:], batch_dims(names))

    names = ["sample", "timestep", "out_sample"]
    export("upsampler_128", "upsampler.onnx", Upsampler128(), (torch.randn(batch, 6, 128, 128), t),
           names[:2], names[2:], batch_dims(names), reference=False)

    names = ["image", "image_embeds"]
    export("image_encoder", "image_encoder.onnx", ImageEncoder(), (torch.randn(batch, 3, 32, 32),),
           names[:1], names[1:], batch_dims(names))

    resize_reference()

    # last, so that the RNG draws of every model above stay as they were
    names = ["sample", "timestep", "out_sample"]
    export("upsampler_512", "upsampler.onnx", Upsampler128(), (torch.randn(1, 6, 512, 512), t[:1]),
           names[:2], names[2:], batch_dims(names), reference=False, root=EXTRA_STAGES)


def resize_reference():
    """torch.nn.functional.interpolate cases for the engine's ImageResize (float32, NCHW)."""
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(1)
    cases = []
    for mode, src, dst in [("bilinear", 8, 32), ("bilinear", 5, 12), ("bilinear", 32, 8), ("bicubic", 8, 32),
                           ("bicubic", 6, 13), ("nearest", 8, 32), ("nearest", 7, 3), ("area", 32, 8),
                           ("area", 13, 5), ("area", 8, 8)]:
        x = torch.rand(1, 3, src, src, generator=g) * 2 - 1
        kwargs = {} if mode in ("nearest", "area") else {"align_corners": False}
        y = F.interpolate(x, size=(dst, dst), mode=mode, **kwargs)
        cases.append({"mode": mode, "input": describe("x", x), "output": describe("y", y)})
    os.makedirs(STAGE_REFERENCE, exist_ok=True)
    with open(os.path.join(STAGE_REFERENCE, "resize.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
