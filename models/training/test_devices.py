"""Every model, trainer step and sampling helper runs on any torch device, and every trainer runs end to end.

Run from models/training: `nice /usr/bin/python3 -m unittest test_devices` (about 2 minutes on 2 cores). Needs the
shapes-world renderer: `nice mvn -B -q package -pl shapes-world -am -DskipTests` from the repository root.

Without a GPU the `meta` device stands in for one, under SameDevice: a meta tensor mixed with a tensor made on the
CPU inside a forward pass or a diffusion helper raises, as a CUDA one would. Where CUDA is available the trainers'
smoke runs also run on it, and a CPU run resumes the CUDA run's checkpoint.

The GPU machine has no Java: there, set UNCLIP_TEST_PACKS to a folder holding the test scenes as packs (d32.npz,
d512.npz). A run here with UNCLIP_TEST_PACKS set to a folder without them renders them and writes them there
(`UNCLIP_TEST_PACKS=packs/test nice /usr/bin/python3 -m unittest test_devices`, 0.15 MiB), ready to carry.
"""
import glob
import importlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import unittest

import numpy as np
import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

import train_captioner
import train_clip
import train_consistency
import train_decoder
import train_prior
import train_upsampler
from captioner_model import CAP_CONTEXT, Captioner, greedy
from clip_model import MiniClip
from common import CONTEXT, ShapesData, dataset_dir, step_generator
from diffusion import Diffusion
from prior_model import Prior
from unet import Decoder, EpsilonOutput
from upsampler_model import build_upsampler

HERE = os.path.dirname(os.path.abspath(__file__))
JAR = os.path.join(HERE, "..", "..", "shapes-world", "target", "shapes-world-0.1.0-SNAPSHOT.jar")
META = torch.device("meta")
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
# every file that defines the training code's nn.Modules (new *_model.py files are picked up by themselves)
MODULE_FILES = sorted({os.path.basename(p)[:-3] for p in glob.glob(os.path.join(HERE, "*_model.py"))}
                      | {"unet", "bundle_modules", "export_onnx", "export_extra"})
SCENES = (("d32", 256, 1, "32,128"), ("d512", 16, 3, "128,512"))  # name, count, seed, sizes
TMP = None
DATA = {}


def data_dir(name):
    return DATA[name]


def setUpModule():
    global TMP
    TMP = tempfile.TemporaryDirectory(prefix="test_devices_")
    packs = os.environ.get("UNCLIP_TEST_PACKS")
    have_packs = packs and all(os.path.exists(os.path.join(packs, s[0] + ".npz")) for s in SCENES)
    if not have_packs and not os.path.exists(JAR):
        raise RuntimeError("no %s: build it with `nice mvn -B -q package -pl shapes-world -am -DskipTests`"
                           " (or set UNCLIP_TEST_PACKS, see the docstring)" % JAR)
    for name, count, seed, sizes in SCENES:
        DATA[name] = os.path.join(TMP.name, name)
        if have_packs:  # a copy, unpacked: the tests write caches into the data directories
            shutil.copyfile(os.path.join(packs, name + ".npz"), DATA[name] + ".npz")
            os.replace(dataset_dir(DATA[name] + ".npz"), DATA[name])
            continue
        subprocess.run(["java", "-jar", JAR, "--out", DATA[name], "--count", str(count), "--seed", str(seed),
                        "--sizes", sizes, "--format", "npy"], check=True, capture_output=True)
        if packs:
            run("pack_scenes.py", DATA[name], os.path.join(packs, name + ".npz"), "--sizes", sizes, "--captions",
                "--max-mib", "8")


def tearDownModule():
    TMP.cleanup()


def models():
    """One instance of every nn.Module class of the training code, by name."""
    import bundle_modules
    from classifier_model import GuidanceGradient, NoisyClassifier
    import export_extra
    import export_onnx
    clip = MiniClip()
    diff = Diffusion.cosine(1000)
    return {
        "clip": clip, "decoder": Decoder(position=True),
        "decoder_v": EpsilonOutput(Decoder(), diff.sqrt_ac, diff.sqrt_1mac), "prior": Prior(),
        "captioner": Captioner(), "upsampler_128": build_upsampler(dict(ch=32, mult=(1, 2, 2), out_size=128)),
        "text_export": export_onnx.TextEncoderExport(clip.text),
        "image_export": export_extra.ImageEncoderExport(clip.image),
        "text_module": bundle_modules.TextEncoderModule(clip.text),
        "classifier": NoisyClassifier(), "guidance": GuidanceGradient(NoisyClassifier()),
    }


def module_classes():
    out = []
    for name in MODULE_FILES:
        mod = importlib.import_module(name)
        out += [c for _, c in inspect.getmembers(mod, inspect.isclass) if issubclass(c, nn.Module) and c.__module__ == name]
    return out


class ModuleApiTest(unittest.TestCase):
    """No training module hides nn.Module's API (Decoder._apply did: .to(), .cuda() and .double() then failed)."""

    API = set(dir(nn.Module))
    OVERRIDES = {"forward", "extra_repr"}  # meant to be overridden

    def test_every_class_is_instantiated_here(self):
        covered = {type(m) for inst in models().values() for m in inst.modules()}
        missing = [c.__qualname__ for c in module_classes() if c not in covered]
        self.assertIn(Decoder, covered)
        self.assertEqual(missing, [], "add an instance of these to test_devices.models()")

    def test_no_method_or_attribute_shadows_nn_module(self):
        for cls in module_classes():
            names = {n for n in vars(cls) if not (n.startswith("__") and n.endswith("__"))}
            self.assertEqual(sorted((names & self.API) - self.OVERRIDES), [], cls.__qualname__)
        base = set(vars(nn.Module()))
        for name, inst in models().items():
            for path, m in inst.named_modules():
                names = (set(vars(m)) - base) | set(m._modules) | set(m._parameters) | set(m._buffers)
                self.assertEqual(sorted(names & self.API), [], "%s.%s" % (name, path))

    def test_to_moves_every_module(self):
        for name, inst in models().items():
            inst.double()
            self.assertTrue(all(p.dtype == torch.float64 for p in inst.parameters()), name)
            inst.to(META)
            tensors = list(inst.parameters()) + list(inst.buffers())
            self.assertTrue(tensors and all(t.device == META for t in tensors), name)


def meta(*shape, dtype=torch.float32):
    return torch.zeros(shape, dtype=dtype, device=META)


class SameDevice(TorchFunctionMode):
    """Refuses any torch call that mixes tensors of two devices, as CUDA kernels do (0-dim CPU tensors count as
    scalars there). Meta kernels alone miss some: torch.cat of a meta and a CPU tensor works in torch 1.13."""

    MOVES = {"to", "copy_", "_has_compatible_shallow_copy_type"}  # crossing devices is what these are for

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        devices = {t.device for t in tree_flatten((args, kwargs))[0]
                   if isinstance(t, torch.Tensor) and not (t.dim() == 0 and t.device.type == "cpu")}
        if len(devices) > 1 and getattr(func, "__name__", "") not in self.MOVES:
            raise RuntimeError("%s mixes devices %s" % (getattr(func, "__name__", func), sorted(map(str, devices))))
        return func(*args, **kwargs)


class MetaForwardTest(unittest.TestCase):
    """Forward passes, trainer steps and sampling helpers on the meta device: nothing in them may make a tensor on
    the CPU. Each trainer step also draws exactly what it draws on the CPU (same generator state afterwards)."""

    def setUp(self):
        mode = SameDevice()
        mode.__enter__()
        self.addCleanup(mode.__exit__, None, None, None)

    def test_same_device_refuses_mixing(self):
        with self.assertRaisesRegex(RuntimeError, "cat mixes devices"):
            torch.cat([meta(2), torch.zeros(2)])
        self.assertEqual((meta(2) * torch.tensor(2.0)).device, META)  # a CPU scalar is fine, as on CUDA

    def test_forward_passes(self):
        m = {k: v.to(META).eval() for k, v in models().items()}
        ids = meta(2, CONTEXT, dtype=torch.long)
        t = meta(2, dtype=torch.long)
        img, txt, _ = m["clip"](meta(2, 3, 32, 32), ids)
        hid = meta(2, CONTEXT, 128)
        outs = [img, txt, m["decoder"](meta(2, 3, 32, 32), t, img, txt, hid),
                m["decoder_v"](meta(2, 3, 32, 32), t, img, txt, hid), m["prior"](img, t, txt, hid, ids),
                m["captioner"](meta(2, 3, 32, 32), meta(2, CAP_CONTEXT, dtype=torch.long)),
                m["upsampler_128"](meta(2, 6, 48, 48), t), m["text_export"](ids)[0],
                m["image_export"](meta(2, 3, 32, 32)), m["text_module"](ids)[1]]
        self.assertTrue(all(o.device == META for o in outs))
        self.assertEqual(tuple(outs[2].shape), (2, 6, 32, 32))

    def check_step(self, step):
        """step(device, g) -> loss; run on the CPU and on meta from the same seed."""
        g_cpu, g_meta = step_generator(5, 0), step_generator(5, 0)
        cpu, on_meta = step("cpu", g_cpu), step(META, g_meta)
        self.assertEqual(on_meta.device, META)
        self.assertEqual(on_meta.shape, cpu.shape)
        self.assertTrue(torch.isfinite(cpu).all())
        self.assertTrue(torch.equal(g_cpu.get_state(), g_meta.get_state()), "a draw depends on the device")

    def test_clip_step_with_hard_negatives_and_anchor(self):
        args = train_clip.parser().parse_args(["--batch", "32", "--hard-negatives", "--anchor", "5"])
        data = ShapesData(data_dir("d32"), 32, 64)
        self.assertGreater(len(train_clip.hard_negative_ids(data.batch(step_generator(5, 0), 32)[1], torch.Generator())), 0)

        def step(device, g):
            model, anchor = MiniClip().to(device), MiniClip().image.to(device)
            return train_clip.step_loss(model, anchor, data, g, args, device)[0]
        self.check_step(step)

    def test_decoder_step(self):
        data = ShapesData(data_dir("d32"), 32, 64)
        for prediction in ("epsilon", "v"):
            args = train_decoder.parser().parse_args(["--batch", "4", "--two-object-fraction", "0.5",
                                                      "--style-weights", "1,1,4"])
            args.prediction = prediction

            def step(device, g):
                return train_decoder.step_loss(Decoder().to(device), MiniClip().eval().to(device),
                                               Diffusion.cosine(1000), data, g, args, device)[0]
            self.check_step(step)

    def test_consistency_step(self):
        data = ShapesData(data_dir("d32"), 32, 64)
        args = train_consistency.parser().parse_args(["--batch", "4"])
        grid = train_consistency.solver_grid(1000, args.grid)

        def step(device, g):
            teacher = Decoder().to(device).eval()
            return train_consistency.step_loss(Decoder().to(device), teacher, teacher, MiniClip().eval().to(device),
                                               train_consistency.Consistency(Diffusion.cosine(1000)), grid, data, g,
                                               args, device)[0]
        self.check_step(step)

    def test_prior_step(self):
        args = train_prior.parser().parse_args(["--batch", "8"])
        data = ShapesData(data_dir("d32"), 32, 64)
        clip = MiniClip().eval()
        emb = train_prior.image_embeddings(clip, data, os.path.join(TMP.name, "prior_embeds.npy"), {"test": 1})
        z_all = torch.from_numpy((emb - emb.mean(0)) / (emb.std(0) + 1e-6))

        def step(device, g):
            return train_prior.step_loss(Prior().to(device), MiniClip().eval().to(device), Diffusion.cosine(1000),
                                         data, z_all, g, args, device)
        self.check_step(step)

    def test_upsampler_steps(self):
        for stage, root in (("128", "d32"), ("512", "d512")):
            cfg = dict(train_upsampler.STAGES[stage], batch=2)
            data = train_upsampler.PairData(data_dir(root), cfg["low"], cfg["high"], 64)

            def step(device, g):
                model = build_upsampler(dict(ch=cfg["ch"], mult=cfg["mult"], out_size=cfg["high"])).to(device)
                return train_upsampler.step_loss(model, Diffusion.cosine(1000), data, cfg, g, device)
            self.check_step(step)

    def test_captioner_step(self):
        args = train_captioner.parser().parse_args(["--batch", "4"])
        data = train_captioner.CapData(data_dir("d32"), limit=64)
        self.check_step(lambda device, g: train_captioner.step_loss(Captioner().to(device), data, g, args, device))

    def test_sampling_helpers(self):
        diff = Diffusion.cosine(1000)
        xs = train_decoder.guided_samples(Decoder().to(META), MiniClip().to(META), diff, "v", meta(2, 3, 32, 32),
                                          ["a red circle"] * 3, steps=3)
        self.assertEqual((xs.device, tuple(xs.shape)), (META, (3, 3, 32, 32)))
        up = build_upsampler(dict(ch=32, mult=(1, 2, 2), out_size=128)).to(META)
        hr = train_upsampler.ddim_sample(up, meta(2, 3, 32, 32), 128, steps=2, g=torch.Generator().manual_seed(0))
        self.assertEqual((hr.device, tuple(hr.shape)), (META, (2, 3, 128, 128)))

    def test_greedy_reaches_its_stopping_test(self):
        # the first decoding step runs on meta; only the data-dependent "all done?" test then cannot (meta tensors
        # hold no values), and every later step repeats the first
        try:
            greedy(Captioner().to(META), meta(2, 3, 32, 32), "short")
            self.fail("greedy ran to the end on meta")
        except RuntimeError as e:  # NotImplementedError in torch 1.13
            failed_at = [f.line for f in traceback.extract_tb(e.__traceback__) if f.name == "greedy"][-1]
            self.assertIn("done.all()", failed_at, e)


class PackTest(unittest.TestCase):
    def test_pack_unpacks_to_the_same_dataset(self):
        src = data_dir("d32")
        for extra in ([], ["--deflate"]):
            out = os.path.join(TMP.name, "packs", "d32%s.npz" % "".join(extra))
            run("pack_scenes.py", src, out, "--captions", "--sizes", "32,128", "--max-mib", "8", *extra)
            root = dataset_dir(out)
            for name in ("images_32.npy", "images_128.npy"):
                self.assertTrue(np.array_equal(np.load(os.path.join(root, name)), np.load(os.path.join(src, name))))
            with open(os.path.join(src, "captions.jsonl"), "rb") as a, open(os.path.join(root, "captions.jsonl"), "rb") as b:
                self.assertEqual(a.read(), b.read())
            packed, rendered = ShapesData(out, 32, 100), ShapesData(src, 32, 100)
            self.assertTrue(np.array_equal(packed.tokens, rendered.tokens))
            self.assertTrue(np.array_equal(packed.valid, rendered.valid))
            self.assertEqual(dataset_dir(out), root)  # unpacked once

    def test_pack_over_the_limit_is_refused(self):
        out = os.path.join(TMP.name, "packs", "big.npz")
        proc = run("pack_scenes.py", data_dir("d32"), out, "--max-mib", "0.01", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("about --count", proc.stderr)
        self.assertFalse(os.path.exists(out))


def run(script, *args, check=True):
    proc = subprocess.run([sys.executable, os.path.join(HERE, script), *args], cwd=HERE, capture_output=True,
                          text=True, env=dict(os.environ, UNCLIP_TRAIN_DIR=os.path.join(TMP.name, "train_dir")))
    if check and proc.returncode != 0:
        raise AssertionError("%s %s failed:\n%s" % (script, " ".join(args), proc.stderr[-3000:]))
    return proc


class TrainerSmokeTest(unittest.TestCase):
    """Each trainer, 2 steps on 64 scenes, on the CPU (and CUDA when present); checkpoints hold CPU tensors."""

    def check_ckpt(self, path, step):
        ck = torch.load(path, map_location="cpu")
        self.assertEqual(ck["step"], step)
        flat = [ck]
        while flat:
            v = flat.pop()
            if isinstance(v, dict):
                flat += list(v.values())
            elif isinstance(v, (list, tuple)):
                flat += list(v)
            elif torch.is_tensor(v):
                self.assertEqual(v.device.type, "cpu", path)

    def test_trainers(self):
        d32, d512 = data_dir("d32"), data_dir("d512")
        pack = os.path.join(TMP.name, "packs", "smoke.npz")
        run("pack_scenes.py", d32, pack, "--captions", "--max-mib", "8")
        for device in DEVICES:
            with self.subTest(device=device):
                o = os.path.join(TMP.name, "runs", device)
                common = ["--steps", "2", "--limit", "64", "--device", device]
                run("train_clip.py", "--data", d32, "--out", o + "/clip", *common)
                self.check_ckpt(o + "/clip/final.pt", 2)
                clip = ["--clip", o + "/clip/final.pt"]
                run("train_decoder.py", "--data", pack, "--val", pack, *clip, "--out", o + "/decoder",
                    "--sample-every", "2", *common)
                self.check_ckpt(o + "/decoder/last.pt", 2)
                self.assertTrue(os.path.exists(o + "/decoder/samples/step_0000002.png"))
                # resumes on the CPU whatever device wrote the checkpoint
                run("train_decoder.py", "--data", pack, "--val", pack, *clip, "--out", o + "/decoder", "--steps", "3",
                    "--limit", "64", "--device", "cpu")
                self.check_ckpt(o + "/decoder/last.pt", 3)
                # distils the shipped decoder (the teacher comes from the bundle, the conditioning from this CLIP)
                run("train_consistency.py", "--data", pack, *clip, "--out", o + "/consistency", "--sample-every", "2",
                    *common)
                self.check_ckpt(o + "/consistency/last.pt", 2)
                self.assertTrue(os.path.exists(o + "/consistency/samples/step_0000002.png"))
                run("train_prior.py", "--data", d32, *clip, "--out", o + "/prior", *common)
                self.check_ckpt(o + "/prior/last.pt", 2)
                for stage, root in (("128", d32), ("512", d512)):
                    run("train_upsampler.py", "--stage", stage, "--data", root, "--out", o + "/up" + stage, *common)
                    self.check_ckpt(o + "/up%s/last.pt" % stage, 2)
                run("train_captioner.py", "--data", d32, "--val", d32, "--eval-n", "16", "--out", o + "/captioner",
                    *common)
                self.check_ckpt(o + "/captioner/last.pt", 2)
                with open(o + "/captioner/metrics.jsonl") as f:
                    self.assertIn("eval", [json.loads(line).get("event") for line in f])


if __name__ == "__main__":
    unittest.main()
