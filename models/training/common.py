"""Shared helpers for the unclip demo-model training (torch 1.13 on the CPU; any torch device with --device).

Data: a dataset written by the shapes-world CLI (``images_<size>.npy`` uint8 (N,S,S,3) + ``captions.jsonl``), or a
pack of one made by pack_scenes.py (``.npz``, unpacked once beside itself by dataset_dir).
Checkpoints live outside git (default /root/unclip-train, override with UNCLIP_TRAIN_DIR) and are written
atomically; every training script resumes from its latest checkpoint when re-run.
"""
import functools
import json
import math
import os
import random
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_DIR = os.environ.get("UNCLIP_TRAIN_DIR", "/root/unclip-train")

# ---------------------------------------------------------------------------------------------------------------
# Tokenizer: word level over the closed Shapes-World vocabulary (same order as io.unclip.shapes.Vocabulary.WORDS)
# ---------------------------------------------------------------------------------------------------------------
SPECIALS = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]
WORDS = ["a", "and", "at", "the", "on", "of", "to", "background", "above", "below", "top", "bottom", "left", "right",
         "center", "small", "large", "red", "green", "blue", "yellow", "purple", "orange", "cyan", "pink", "circle",
         "square", "triangle", "diamond", "white", "gray", "black", ","]
VOCAB = {t: i for i, t in enumerate(SPECIALS + WORDS)}
PAD, UNK, BOS, EOS = 0, 1, 2, 3
CONTEXT = 24  # the longest caption (two-object descriptive) is 22 words + BOS + EOS


def split_words(text):
    """Whitespace split with every comma its own token (what HF's Whitespace pre-tokenizer does for this grammar)."""
    out = []
    for part in text.lower().split():
        cur = ""
        for ch in part:
            if ch == ",":
                if cur:
                    out.append(cur)
                out.append(",")
                cur = ""
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def encode(text, context=CONTEXT):
    ids = [BOS] + [VOCAB.get(w, UNK) for w in split_words(text)][: context - 2] + [EOS]
    return ids + [PAD] * (context - len(ids))


_WORD_OF = {i: t for t, i in VOCAB.items()}


def decode(ids):
    """Token ids -> caption text: the words up to the first EOS (inverse of encode). Special tokens and ids outside
    the vocabulary (the captioner's style tokens) are left out."""
    words = []
    for i in map(int, ids):
        if i == EOS:
            break
        word = _WORD_OF.get(i)
        if word is not None and word not in SPECIALS:
            words.append(word)
    return " ".join(words).replace(" ,", ",")


def tokenizer_json(context=CONTEXT):
    """A HuggingFace tokenizer.json (WordLevel, Whitespace pre-tokenizer, BOS/EOS template, fixed padding)."""
    added = [{"id": VOCAB[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIALS]
    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": context, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": context}, "direction": "Right", "pad_to_multiple_of": None,
                    "pad_id": PAD, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[BOS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[EOS]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[BOS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[EOS]", "type_id": 0}}],
            "special_tokens": {
                "[BOS]": {"id": "[BOS]", "ids": [BOS], "tokens": ["[BOS]"]},
                "[EOS]": {"id": "[EOS]", "ids": [EOS], "tokens": ["[EOS]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordLevel", "vocab": VOCAB, "unk_token": "[UNK]"},
    }


def write_tokenizer(path, context=CONTEXT):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(tokenizer_json(context), f, indent=1)


# ---------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------
STYLES = ("short", "descriptive", "relational")


def caption_tokens(root, n, total, write_cache=True):
    """Token ids (n,3,CONTEXT int64) and validity (n,3) of the first n of a dataset's total scenes' captions, from the
    token cache root/tokens_<n>.npz (or the whole set's, sliced), else tokenised and cached (unless write_cache)."""
    cache = os.path.join(root, "tokens_%d.npz" % n)
    whole = os.path.join(root, "tokens_%d.npz" % total)
    if os.path.exists(cache) or os.path.exists(whole):
        z = np.load(cache if os.path.exists(cache) else whole)
        return z["tokens"][:n], z["valid"][:n]
    toks = np.zeros((n, 3, CONTEXT), dtype=np.int64)
    valid = np.zeros((n, 3), dtype=bool)
    with open(os.path.join(root, "captions.jsonl")) as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            rec = json.loads(line)
            assert rec["id"] == i
            for k, st in enumerate(STYLES):
                if rec[st] is not None:
                    toks[i, k] = encode(rec[st])
                    valid[i, k] = True
    if write_cache:
        tmp = cache + ".tmp.npz"
        np.savez(tmp, tokens=toks, valid=valid)
        os.replace(tmp, cache)
    return toks, valid


class ShapesData:
    """Images (uint8 N,S,S,3 in RAM) and pre-tokenised captions (N,3,CONTEXT int64; style 2 missing for 1-object)."""

    def __init__(self, root, size=32, limit=None, write_cache=True):
        self.root = root = dataset_dir(root)
        imgs = np.load(os.path.join(root, "images_%d.npy" % size), mmap_mode="r")
        n = imgs.shape[0] if limit is None else min(limit, imgs.shape[0])
        self.images = np.ascontiguousarray(imgs[:n])
        self.tokens, self.valid = caption_tokens(root, n, imgs.shape[0], write_cache)
        self.n = n

    def __len__(self):
        return self.n

    @functools.cached_property
    def _two_object_ids(self):
        return torch.from_numpy(np.flatnonzero(self.valid[:, 2]))  # only two-object scenes have a relational caption

    @functools.cached_property
    def _one_object_ids(self):
        return torch.from_numpy(np.flatnonzero(~self.valid[:, 2]))

    def batch(self, g, batch_size, style_weights=None, two_object_fraction=None):
        """A random batch drawn with torch.Generator g: (images float [-1,1] B,3,S,S; token ids B,CONTEXT; indices).

        Scenes are drawn uniformly (half of them have two objects), or with two-object scenes making up
        two_object_fraction of the batch when given. Each scene's caption is one of its valid styles (short,
        descriptive, relational), uniformly, or in proportion to style_weights (3 floats) when given.
        """
        if two_object_fraction is None:
            idx = torch.randint(0, self.n, (batch_size,), generator=g)
        else:
            two, one = self._two_object_ids, self._one_object_ids
            n_two = int(round(batch_size * two_object_fraction))
            idx = torch.cat([two[torch.randint(0, len(two), (n_two,), generator=g)],
                             one[torch.randint(0, len(one), (batch_size - n_two,), generator=g)]])
        u = torch.rand(batch_size, generator=g)
        valid = torch.from_numpy(self.valid[idx.numpy()])
        if style_weights is None:
            nvalid = valid.sum(1)
            k = torch.minimum((u * nvalid).long(), nvalid - 1)
            # map k-th valid style to the style index
            order = torch.cumsum(valid.long(), 1) - 1
            style = (order == k[:, None]) & valid
            style = style.float().argmax(1)
        else:
            w = valid.float() * torch.tensor(style_weights, dtype=torch.float32)[None]
            cdf = torch.cumsum(w / w.sum(1, keepdim=True), 1)
            style = (cdf < u[:, None]).sum(1).clamp(max=2)  # u ~ 1 with float rounding
        toks = torch.from_numpy(self.tokens[idx.numpy(), style.numpy()])
        x = torch.from_numpy(self.images[idx.numpy()]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return x, toks, idx


def add_batch_mix_args(ap):
    """The --style-weights / --two-object-fraction options of ShapesData.batch, for the prior and decoder trainers."""
    def weights(text):
        w = [float(v) for v in text.split(",")]
        if len(w) != 3:
            raise ValueError("three weights: short,descriptive,relational")
        return w
    ap.add_argument("--style-weights", type=weights, default=None,
                    help="caption style mix short,descriptive,relational (e.g. 1,1,4 to train relations more);"
                         " default: uniform over a scene's styles")
    ap.add_argument("--two-object-fraction", type=float, default=None,
                    help="share of two-object scenes in each batch (default: as drawn, about half)")


def dataset_dir(path):
    """A dataset directory for path: path itself, or for a pack_scenes.py .npz the directory it unpacks to beside
    itself (<name>.unpacked: images_<S>.npy, the token cache tokens_<N>.npz and any packed text files such as
    captions.jsonl), so every loader reads a pack like the renderer's output. Unpacked again when the pack changes."""
    if not path.endswith(".npz"):
        return path
    if not os.path.isfile(path):
        raise SystemExit("no dataset pack at %s" % path)
    out = path[:-len(".npz")] + ".unpacked"
    stamp = {"pack_bytes": os.path.getsize(path), "pack_mtime": os.path.getmtime(path)}
    if os.path.isdir(out):
        try:
            with open(os.path.join(out, "pack.json")) as f:
                if json.load(f) == stamp:
                    return out
        except (OSError, ValueError):
            pass
        shutil.rmtree(out)
    tmp = "%s.tmp%d" % (out, os.getpid())  # per process: two trainers may start on one pack at once
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with np.load(path) as z:
        n = None
        for key in z.files:
            if key.startswith("images_"):
                arr = z[key]
                n = arr.shape[0]
                np.save(os.path.join(tmp, key + ".npy"), arr)
            elif key.startswith("file:"):  # text files, stored as their bytes
                with open(os.path.join(tmp, key[len("file:"):]), "wb") as f:
                    f.write(z[key].tobytes())
        if "tokens" in z.files:
            np.savez(os.path.join(tmp, "tokens_%d.npz" % n), tokens=z["tokens"].astype(np.int64), valid=z["valid"])
    with open(os.path.join(tmp, "pack.json"), "w") as f:
        json.dump(stamp, f)
    try:
        os.replace(tmp, out)
    except OSError:  # another process unpacked it first
        shutil.rmtree(tmp)
    return out


def images_to_float(u8):
    return torch.from_numpy(np.ascontiguousarray(u8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


# ---------------------------------------------------------------------------------------------------------------
# Reproducibility, checkpoints, logging
# ---------------------------------------------------------------------------------------------------------------
def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def step_generator(seed, step):
    """Every training step draws from its own generator, so a resumed run repeats exactly what it would have done."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) % (2 ** 63))


def add_device_arg(ap):
    ap.add_argument("--device", default="cpu",
                    help="torch device to train on: cpu, cuda, cuda:1 ... (batches, noise and timesteps are still drawn"
                         " on the CPU, so any device trains on the same data; --threads sets the CPU's threads)")


def to_cpu(obj):
    """obj (nested dicts/lists of tensors, e.g. a state_dict) with every tensor on the CPU."""
    if torch.is_tensor(obj):
        return obj.cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def save_ckpt(path, obj):
    """Atomic torch.save of obj with its tensors on the CPU, so a checkpoint written on a GPU loads anywhere."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(to_cpu(obj), tmp)
    os.replace(tmp, path)


def load_ckpt(path):
    if os.path.exists(path):
        return torch.load(path, map_location="cpu")
    return None


class Logger:
    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "a")

    def log(self, **kw):
        kw["time"] = round(time.time(), 1)
        line = json.dumps(kw)
        self.f.write(line + "\n")
        self.f.flush()
        print(line, flush=True)


def count_params(m):
    return sum(p.numel() for p in m.parameters())


def save_png(path, arr_u8):
    """Writes an (H,W,3) uint8 array as PNG (Pillow from Debian)."""
    from PIL import Image
    Image.fromarray(arr_u8).save(path)


def grid(images_u8, cols):
    n, h, w, c = images_u8.shape
    rows = int(math.ceil(n / cols))
    out = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
    for i in range(n):
        r, cc = divmod(i, cols)
        out[r * h:(r + 1) * h, cc * w:(cc + 1) * w] = images_u8[i]
    return out
