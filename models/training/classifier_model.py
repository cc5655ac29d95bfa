"""ADM classifier guidance (Dhariwal & Nichol 2021): a classifier of the decoder's noisy images x_t, and the ONNX
graph the engine runs, which returns grad_x log p(y | x_t, t) itself.

ONNX has no autograd, so `GuidanceGradient` writes the classifier's backward pass out with exportable ops (ConvTranspose
for a convolution's input gradient, nearest upsampling / 4 for average pooling, the SiLU derivative from the saved
pre-activations). `test_classifier_gradient.py` checks it against torch.autograd.

Three heads for the main object (the first one a caption names): colour, shape and grid cell. The target is a (B, 21)
row of one-hot blocks; a block of zeros means "no label for this head" (a prompt without a cell) and adds nothing, so
one graph serves every combination of labels.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "cyan", "pink"]
SHAPES = ["circle", "square", "triangle", "diamond"]
CELLS = ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"]
HEADS = [("color", COLORS), ("shape", SHAPES), ("cell", CELLS)]
NUM_LABELS = sum(len(v) for _, v in HEADS)


def timestep_features(t, dim=64, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def silu_grad(z):
    s = torch.sigmoid(z)
    return s * (1 + z * (1 - s))


class NoisyClassifier(nn.Module):
    """conv(3->c1) -> pool -> conv(c1->c2) -> pool -> conv(c2->c2) -> pool -> fc -> 21 logits; every layer gets a
    per-channel bias from the timestep, no normalisation (its backward pass would be long to write out and check)."""

    def __init__(self, c1=32, c2=64, hidden=128, temb=128):
        super().__init__()
        self.config = dict(c1=c1, c2=c2, hidden=hidden, temb=temb)
        self.time = nn.Sequential(nn.Linear(64, temb), nn.SiLU(), nn.Linear(temb, temb), nn.SiLU())
        self.conv1 = nn.Conv2d(3, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.conv3 = nn.Conv2d(c2, c2, 3, padding=1)
        self.t1, self.t2, self.t3 = nn.Linear(temb, c1), nn.Linear(temb, c2), nn.Linear(temb, c2)
        self.fc = nn.Linear(c2 * 16, hidden)
        self.t4 = nn.Linear(temb, hidden)
        self.head = nn.Linear(hidden, NUM_LABELS)

    def pre_activations(self, x, t):
        """Forward pass keeping what the backward pass needs: the pre-activations z1..z4 and the logits."""
        e = self.time(timestep_features(t).to(x.dtype))
        z1 = self.conv1(x) + self.t1(e)[:, :, None, None]
        z2 = self.conv2(F.avg_pool2d(F.silu(z1), 2)) + self.t2(e)[:, :, None, None]
        z3 = self.conv3(F.avg_pool2d(F.silu(z2), 2)) + self.t3(e)[:, :, None, None]
        z4 = self.fc(F.avg_pool2d(F.silu(z3), 2).flatten(1)) + self.t4(e)
        logits = self.head(F.silu(z4))
        return (z1, z2, z3, z4), logits

    def forward(self, x, t):
        return self.pre_activations(x, t)[1]


def log_likelihood(logits, target):
    """sum over heads of log p(label | x_t) for the labelled heads: (B,)."""
    total, start = 0.0, 0
    for _, labels in HEADS:
        end = start + len(labels)
        total = total + (target[:, start:end] * F.log_softmax(logits[:, start:end], dim=1)).sum(1)
        start = end
    return total


def pool_backward(g):
    """Input gradient of a 2x2 average pool: each input pixel gets a quarter of its window's gradient."""
    return F.interpolate(g, scale_factor=2.0, mode="nearest") * 0.25


class GuidanceGradient(nn.Module):
    """(x_t, timestep, target) -> grad_x sum_heads log p(y_head | x_t, t), with the backward pass written out."""

    def __init__(self, clf: NoisyClassifier):
        super().__init__()
        self.clf = clf

    def forward(self, sample, timestep, target):
        c = self.clf
        (z1, z2, z3, z4), logits = c.pre_activations(sample, timestep)
        # d/dlogits of sum_k y_k log softmax_k, per head: y - softmax * sum(y)
        blocks, start = [], 0
        for _, labels in HEADS:
            end = start + len(labels)
            y = target[:, start:end]
            blocks.append(y - F.softmax(logits[:, start:end], dim=1) * y.sum(1, keepdim=True))
            start = end
        g = torch.cat(blocks, dim=1)
        g = (g @ c.head.weight) * silu_grad(z4)                               # (B, hidden)
        g = (g @ c.fc.weight).reshape(z3.shape[0], z3.shape[1], 4, 4)         # (B, c2, 4, 4)
        g = pool_backward(g) * silu_grad(z3)
        g = F.conv_transpose2d(g, c.conv3.weight, padding=1)
        g = pool_backward(g) * silu_grad(z2)
        g = F.conv_transpose2d(g, c.conv2.weight, padding=1)
        g = pool_backward(g) * silu_grad(z1)
        grad = F.conv_transpose2d(g, c.conv1.weight, padding=1)
        return grad, logits


def targets_from_metadata(objects_meta):
    """One (21,) target row from a scene's first object's metadata (colour, shape, cell)."""
    row = torch.zeros(NUM_LABELS)
    o = objects_meta[0]
    start = 0
    for key, labels in HEADS:
        row[start + labels.index(o[key])] = 1.0
        start += len(labels)
    return row
