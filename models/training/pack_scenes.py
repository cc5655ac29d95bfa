"""Packs a rendered Shapes-World dataset into one compressed .npz small enough to travel to a GPU machine.

The device tool carries at most 64 MiB of working tree, tracked files included (about 42 MiB of them, mostly
models/bundle), so a pack gets what is left: --max-mib (default: 64 MiB less the files that travel now) refuses a
larger one and says how many scenes would fit; lower it by what else you carry (a CLIP final.pt is 8.1 MiB).
The trainers take the pack wherever they take a dataset directory (--data / --val PACK.npz): common.dataset_dir
unpacks it once beside itself.

  python3 pack_scenes.py $D/data/train-s1-200k packs/train-200k.npz
  python3 pack_scenes.py $D/data/val-s2-2k packs/val-2k.npz --captions

Contents: images_<S> uint8 (N,S,S,3) for each --sizes; tokens uint8 (N,3,24) and valid bool (N,3), the token cache
of common.ShapesData (ids < 256); with --captions, file:captions.jsonl (the first N lines, as bytes; the
captioner's --canonical captions, the decoder's sample prompts and caption evaluation read it) and
file:dataset.json. Compression: LZMA zip entries by default (np.load reads them like np.savez_compressed's
deflate; 200k scenes at 32 px: 19.9 MiB against 29.0 MiB, 2 min to write against 15 s), --deflate for the latter.
"""
import argparse
import io
import os
import subprocess
import zipfile

import numpy as np

DEVICE_TREE_MIB = 64  # what the device tool carries of a working tree, everything included

from common import caption_tokens


def caption_lines(root, n):
    with open(os.path.join(root, "captions.jsonl"), "rb") as f:
        lines = [line for _, line in zip(range(n), f)]
    if len(lines) < n:
        raise SystemExit("%s/captions.jsonl has %d lines, fewer than %d scenes" % (root, len(lines), n))
    return b"".join(lines)


def travelling_mib(exclude):
    """MiB of the files the device tool would carry now: git's tracked and untracked-not-ignored files (None outside
    a git checkout). exclude: a path not to count (the pack being replaced)."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                             check=True).stdout.strip()
        names = subprocess.run(["git", "-C", top, "ls-files", "-co", "--exclude-standard", "-z"], capture_output=True,
                               check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        return None
    paths = {os.path.join(top, n) for n in names if n} - {os.path.abspath(exclude)}
    return sum(os.path.getsize(p) for p in paths if os.path.isfile(p)) / 2 ** 20


def npz_bytes(arrays, lzma):
    """np.savez_compressed's format; with lzma, LZMA instead of deflate zip entries (np.load reads both)."""
    buf = io.BytesIO()
    if not lzma:
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_LZMA) as z:
        for key, arr in arrays.items():
            with z.open(key + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, arr, allow_pickle=False)
    return buf.getvalue()


def pack(src, count=None, sizes=(32,), captions=False, lzma=True):
    """-> (the .npz bytes of the first count scenes (all when None) of the dataset directory src, scene count)."""
    arrays = {}
    for s in sizes:
        path = os.path.join(src, "images_%d.npy" % s)
        if not os.path.exists(path):
            raise SystemExit("no %s (render the dataset with --sizes %d)" % (path, s))
        imgs = np.load(path, mmap_mode="r")
        total = imgs.shape[0]
        n = total if count is None else min(count, total)
        arrays["images_%d" % s] = np.ascontiguousarray(imgs[:n])
    tokens, valid = caption_tokens(src, n, total, write_cache=False)  # src stays untouched
    if tokens.max() > 255:
        raise SystemExit("token ids above 255 do not fit the pack's uint8 tokens")
    arrays["tokens"] = tokens.astype(np.uint8)
    arrays["valid"] = valid
    if captions:
        arrays["file:captions.jsonl"] = np.frombuffer(caption_lines(src, n), dtype=np.uint8)
        meta = os.path.join(src, "dataset.json")
        if os.path.exists(meta):
            with open(meta, "rb") as f:
                arrays["file:dataset.json"] = np.frombuffer(f.read(), dtype=np.uint8)
    return npz_bytes(arrays, lzma), n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", help="a dataset directory written by the shapes-world CLI (--format npy)")
    ap.add_argument("out", help="the pack to write (.npz)")
    ap.add_argument("--count", type=int, default=None, help="pack only the first N scenes (default: all)")
    ap.add_argument("--sizes", default="32", help="image sizes to pack, comma-separated (default 32)")
    ap.add_argument("--captions", action="store_true", help="also pack captions.jsonl (and dataset.json)")
    ap.add_argument("--deflate", action="store_true", help="np.savez_compressed's deflate (faster, about 45%% larger)")
    ap.add_argument("--max-mib", type=float, default=None,
                    help="refuse a pack larger than this (default: %d MiB less the files that travel now)"
                         % DEVICE_TREE_MIB)
    args = ap.parse_args()
    if not args.out.endswith(".npz"):
        raise SystemExit("the pack's name must end in .npz")
    if args.count is not None and args.count < 1:
        raise SystemExit("--count must be at least 1")
    if args.max_mib is None:
        other = travelling_mib(args.out)
        if other is None:
            raise SystemExit("not in a git checkout: give --max-mib")
        args.max_mib = DEVICE_TREE_MIB - other
        print("budget %.2f MiB (%.2f MiB of the working tree travel already)" % (args.max_mib, other), flush=True)
    blob, n = pack(args.src, args.count, [int(s) for s in args.sizes.split(",")], args.captions, not args.deflate)
    mib = len(blob) / 2 ** 20
    print("%d scenes: %.2f MiB (%.1f bytes per scene)" % (n, mib, len(blob) / n), flush=True)
    if mib > args.max_mib:
        raise SystemExit("pack of %.2f MiB is over --max-mib %.1f: about --count %d would fit"
                         % (mib, args.max_mib, int(n * args.max_mib / mib * 0.97)))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, args.out)
    print("wrote", args.out, flush=True)


if __name__ == "__main__":
    main()
