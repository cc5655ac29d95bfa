"""PyTorch eager reference of the embedded cascade, for `unclip bench --torch`: the same stages, steps, samplers,
guidance (cond + uncond rows in one model call), batch shapes and sizes as io.unclip.engine.pipeline.Cascade, on
modules rebuilt from this directory's definitions with the weights of the bundle's ONNX files (bundle_modules.py).

  /usr/bin/python3 models/training/torch_reference.py --bundle models/bundle --runs 3 --size 128 --threads 2

Defaults come from each stage's manifest.json; the flags mirror `unclip bench`'s (--prior-steps, --decoder-steps,
--sr-steps, --sampler, --eta, --prior-guidance, --decoder-guidance, --candidates, -n). Noise is torch's, not the
engine's NoiseSeeds streams: the work (number and shapes of model calls) is identical, the pixels are not.

Before timing it checks every stage it runs against the stage's reference.json (the export-time PyTorch output that
ONNX Runtime reproduces in ShippedBundleTest) and stops with exit status 3 when one disagrees. stdout carries one
JSON object (format: "reference": "pytorch-eager"); progress goes to stderr.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bundle_modules as bm  # noqa: E402
from common import PAD, encode  # noqa: E402
from reference_sampler import Chain, Settings, sample  # noqa: E402


class Timer:
    """Accumulates the time spent inside model forward passes (the counterpart of ONNX Runtime time)."""

    def __init__(self):
        self.total = 0.0
        self.calls = 0
        self.batches = set()

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.total += time.perf_counter() - self.t0
        self.calls += 1


def log(msg):
    print("torch_reference: " + msg, file=sys.stderr, flush=True)


# ---- self-check against reference.json ----

def pattern(shape, mult):
    """export_extra.pattern: ((sum_j a_j i_j) mod 17) / 8 - 1, exact in float32."""
    grids = torch.meshgrid(*[torch.arange(s, dtype=torch.int64) for s in shape], indexing="ij")
    acc = sum(m * g for m, g in zip(mult, grids))
    return ((acc % 17).to(torch.float32) / 8.0) - 1.0


def reference_inputs(ref, names):
    out = []
    for n in names:
        spec = ref["inputs"][n]
        if "input_pattern" in spec:
            out.append(pattern(spec["shape"], spec["input_pattern"]))
        else:
            out.append(torch.tensor(spec["values"], dtype=torch.int64).reshape(spec["shape"]))
    return out


def compare(ref, y):
    """(max abs error, ok) of output y against reference.json's full values or slices + sums."""
    tol = float(ref.get("tolerance", 1e-4))
    y = y.detach().double()
    if list(y.shape) != list(ref["output_shape"]):
        return float("inf"), False
    if "output_values" in ref:
        err = (y.reshape(-1) - torch.tensor(ref["output_values"], dtype=torch.float64)).abs().max().item()
        return err, err <= tol
    err = 0.0
    for s in ref["output_slices"]:
        got = y[0, s["c"], s["y"][0]:s["y"][1], s["x"][0]:s["x"][1]].reshape(-1)
        err = max(err, (got - torch.tensor(s["values"], dtype=torch.float64)).abs().max().item())
    scale = abs(ref["output_abs_sum"])
    sums_ok = (abs(y.sum().item() - ref["output_sum"]) <= 1e-5 * scale
               and abs(y.abs().sum().item() - ref["output_abs_sum"]) <= 1e-5 * scale)
    return err, err <= tol and sums_ok


INPUT_ORDER = {
    "text_encoder": ["input_ids"],
    "prior": ["hidden_states", "timestep", "proj_embedding", "encoder_hidden_states", "attention_mask"],
    "decoder": ["sample", "timestep", "image_embeds", "text_embeds", "encoder_hidden_states"],
    "upsampler": ["sample", "timestep"],
}


def self_check(bundle, stage, kind, module):
    path = os.path.join(bundle, stage, "reference.json")
    if not os.path.exists(path):
        return {"stage": stage, "ok": None, "note": "no reference.json"}
    with open(path) as f:
        ref = json.load(f)
    with torch.no_grad():
        y = module(*reference_inputs(ref, INPUT_ORDER[kind]))
    if isinstance(y, tuple):
        y = y[0]
    err, ok = compare(ref, y)
    return {"stage": stage, "max_abs_error": err, "tolerance": float(ref.get("tolerance", 1e-4)), "ok": bool(ok)}


# ---- the cascade ----

class Cascade:
    def __init__(self, bundle, args):
        with open(os.path.join(bundle, "bundle.json")) as f:
            stages = json.load(f)["stages"]
        self.bundle = bundle
        self.text = bm.load_text_encoder(bundle)
        self.prior = bm.load_prior(bundle)
        self.decoder = bm.load_decoder(bundle)
        man = {s: bm.read_manifest(bundle, s) for s in stages}
        self.names = {"text_encoder": _first(man, "text_encoder"), "prior": _first(man, "prior"),
                      "decoder": _first(man, "decoder")}
        ups = [s for s in stages if man[s]["kind"] == "upsampler"]
        sizes = [man[self.names["decoder"]]["resolution"]["output"]] + [man[s]["resolution"]["output"] for s in ups]
        size = args.size or sizes[-1]
        if size not in sizes:
            raise SystemExit("torch_reference: --size %d is not one of the bundle's sizes %s" % (size, sizes))
        self.size = size
        self.upsamplers = [(s, bm.load_upsampler(bundle, s)) for s in ups[:sizes.index(size)]]
        self.prior_settings = Settings(man[self.names["prior"]]["diffusion"], steps=args.prior_steps,
                                       guidance=args.prior_guidance)
        self.decoder_settings = Settings(man[self.names["decoder"]]["diffusion"], steps=args.decoder_steps,
                                         sampler=args.sampler, eta=args.eta, guidance=args.decoder_guidance)
        self.up_settings = [Settings(man[s]["diffusion"], steps=args.sr_steps) for s, _ in self.upsamplers]
        norm = man[self.names["prior"]].get("normalization")
        if isinstance(norm, str):
            with open(os.path.join(bundle, self.names["prior"], norm)) as f:
                norm = json.load(f)
        self.mean = torch.tensor(norm["mean"]) if norm else None
        self.std = torch.tensor(norm["std"]) if norm else None
        self.candidates = args.candidates or man[self.names["prior"]]["diffusion"].get("candidates", 2)
        self.n = args.num_images
        self.uncond = self.encode([""])  # cached, as the engine caches the empty prompt

    def modules(self):
        yield self.names["text_encoder"], "text_encoder", self.text
        yield self.names["prior"], "prior", self.prior
        yield self.names["decoder"], "decoder", self.decoder
        for s, m in self.upsamplers:
            yield s, "upsampler", m

    def encode(self, prompts):
        ids = torch.tensor([encode(p) for p in prompts], dtype=torch.int64)
        with torch.no_grad():
            emb, hid = self.text(ids)
        return emb, hid, (ids != PAD).long()

    def run(self, prompt, generator):
        """One generate call; returns [(stage, steps, model calls, model batch, wall s, model s)] and the images."""
        timings = []
        with torch.no_grad():
            t0 = time.perf_counter()
            tm = Timer()
            with tm:
                emb, hid, mask = self.encode([prompt])
            timings.append((self.names["text_encoder"], 1, tm.calls, 1, time.perf_counter() - t0, tm.total))

            n, c = self.n, self.candidates
            t0 = time.perf_counter()
            tm = Timer()
            rows = n * c
            guided = self.prior_settings.guided
            pe, ph, pm = (emb.expand(rows, -1), hid.expand(rows, -1, -1), mask.expand(rows, -1))
            if guided:
                ue, uh, um = self.uncond
                pe = torch.cat([pe, ue.expand(rows, -1)])
                ph = torch.cat([ph, uh.expand(rows, -1, -1)])
                pm = torch.cat([pm, um.expand(rows, -1)])
            chain = Chain(self.prior_settings)
            z = sample(chain, lambda x, t: self.prior(x, t, pe, ph, pm), (rows, emb.shape[1]), generator, tm)
            if self.mean is not None:
                z = z * self.std + self.mean
            score = (F.normalize(z, dim=-1) * F.normalize(emb, dim=-1)).sum(-1).reshape(n, c)
            embeds = z.reshape(n, c, -1)[torch.arange(n), score.argmax(1)]
            timings.append((self.names["prior"], len(chain), tm.calls, 2 * rows if guided else rows,
                            time.perf_counter() - t0, tm.total))

            t0 = time.perf_counter()
            tm = Timer()
            guided = self.decoder_settings.guided
            de, dt, dh = embeds, emb.expand(n, -1), hid.expand(n, -1, -1)
            if guided:
                ue, uh, _ = self.uncond
                de = torch.cat([de, torch.zeros_like(de)])
                dt = torch.cat([dt, ue.expand(n, -1)])
                dh = torch.cat([dh, uh.expand(n, -1, -1)])
            chain = Chain(self.decoder_settings)
            size = self.decoder.config["size"]
            img = sample(chain, lambda x, t: self.decoder(x, t, de, dt, dh), (n, self.decoder.config["in_ch"], size,
                                                                              size), generator, tm)
            timings.append((self.names["decoder"], len(chain), tm.calls, 2 * n if guided else n,
                            time.perf_counter() - t0, tm.total))

            for (name, up), settings in zip(self.upsamplers, self.up_settings):
                t0 = time.perf_counter()
                tm = Timer()
                out = up.config["out_size"]
                low = F.interpolate(img, size=(out, out), mode="bilinear", align_corners=False)
                chain = Chain(settings)
                img = sample(chain, lambda x, t: up(torch.cat([x, low], dim=1), t), (n, img.shape[1], out, out),
                             generator, tm)
                timings.append((name, len(chain), tm.calls, n, time.perf_counter() - t0, tm.total))
        return timings, img


def _first(man, kind):
    for s, m in man.items():
        if m["kind"] == kind:
            return s
    raise SystemExit("torch_reference: the bundle has no %s stage" % kind)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default=os.path.join(HERE, "..", "bundle"))
    ap.add_argument("--prompt", default="a small red circle at the top left")
    ap.add_argument("-k", "--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("-n", "--num-images", type=int, default=1)
    ap.add_argument("--candidates", type=int, default=None, help="prior candidates (default: the manifest's, else 2)")
    ap.add_argument("--size", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prior-steps", type=int)
    ap.add_argument("--prior-guidance", type=float)
    ap.add_argument("--decoder-steps", type=int)
    ap.add_argument("--decoder-guidance", type=float)
    ap.add_argument("--sampler", choices=["ddpm", "ddim"])
    ap.add_argument("--eta", type=float)
    ap.add_argument("--sr-steps", type=int)
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    ap.add_argument("--check-only", action="store_true", help="only the self-check, no timing")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    bundle = os.path.abspath(args.bundle)
    cascade = Cascade(bundle, args)
    checks = [self_check(bundle, stage, kind, m) for stage, kind, m in cascade.modules()]
    for c in checks:
        log("self-check %s: max abs error %s (tolerance %s) %s" % (c["stage"], c.get("max_abs_error"),
                                                                 c.get("tolerance"), "ok" if c["ok"] else "FAILED"))
    result = {"reference": "pytorch-eager", "torch_version": torch.__version__, "threads": torch.get_num_threads(),
              "bundle": bundle, "prompt": args.prompt, "size": cascade.size, "num_images": args.num_images,
              "candidates": cascade.candidates, "runs": 0 if args.check_only else args.runs, "warmup": args.warmup,
              "self_check": checks, "stages": []}
    if not all(c["ok"] is not False for c in checks):
        result["error"] = "self-check failed: the rebuilt PyTorch modules do not reproduce reference.json"
        print(json.dumps(result))
        return 3
    if not args.check_only:
        generator = torch.Generator().manual_seed(args.seed)
        sums, per_run = {}, []
        for i in range(args.warmup + args.runs):
            t0 = time.perf_counter()
            timings, img = cascade.run(args.prompt, generator)
            wall = time.perf_counter() - t0
            measured = i >= args.warmup
            log("%s %d: %.1f ms (image range %.2f..%.2f)" % ("run" if measured else "warm-up",
                                                           i - args.warmup + 1 if measured else i + 1, wall * 1e3,
                                                           img.min().item(), img.max().item()))
            if not torch.isfinite(img).all():
                result["error"] = "non-finite pixels in the sampled images"
                print(json.dumps(result))
                return 1
            if not measured:
                continue
            per_run.append(wall)
            for stage, steps, calls, batch, w, m in timings:
                s = sums.setdefault(stage, {"stage": stage, "steps": steps, "model_calls": calls, "model_batch": batch,
                                            "wall_ms": 0.0, "model_ms": 0.0})
                s["wall_ms"] += w * 1e3 / args.runs
                s["model_ms"] += m * 1e3 / args.runs
        result["stages"] = list(sums.values())
        result["total_ms"] = sum(s["wall_ms"] for s in result["stages"])
        result["end_to_end_ms"] = sum(per_run) * 1e3 / len(per_run)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
