"""Per-timestep error of the decoder's x0 prediction on validation scenes: full MSE and the error of the image's
mean colour (DC, what decides the background). Usage: python3 eval_decoder_noise.py $D/ckpt/decoder_v/last.pt
Conditioning: the true CLIP image embedding and descriptive caption of the first 48 val-s2 scenes."""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, torch, torch.nn.functional as F
from common import TRAIN_DIR, encode, images_to_float
from diffusion import Diffusion
from unet import Decoder, EpsilonOutput
from train_decoder import load_clip, clip_condition
torch.set_num_threads(1)
ck = torch.load(sys.argv[1], map_location="cpu")
dec = Decoder(**ck["config"]); dec.load_state_dict(ck["ema"]); dec.eval()
diff = Diffusion.cosine(1000)
net = EpsilonOutput(dec, diff.sqrt_ac, diff.sqrt_1mac) if ck.get("prediction") == "v" else dec
clip = load_clip(os.path.join(TRAIN_DIR, "ckpt/clip/final.pt"))
val = os.path.join(TRAIN_DIR, "data/val-s2-2k")
x = images_to_float(np.load(val + "/images_32.npy", mmap_mode="r")[:48])
recs = [json.loads(l) for _, l in zip(range(48), open(val + "/captions.jsonl"))]
ids = torch.tensor([encode(r["descriptive"]) for r in recs])
img, txt, hid = clip_condition(clip, x, ids)
g = torch.Generator().manual_seed(0)
print("step", ck["step"], ck.get("prediction", "epsilon"))
with torch.no_grad():
    for tt in [999, 950, 900, 800, 700, 500, 300, 100]:
        t = torch.full((48,), tt, dtype=torch.long)
        n = torch.randn(x.shape, generator=g)
        xt = diff.q_sample(x, t, n)
        eps = net(xt, t, img, txt, hid)[:, :3]
        x0 = (xt * diff.sqrt_recip_ac[tt] - diff.sqrt_recipm1_ac[tt] * eps).clamp(-1, 1)
        mse = ((x0 - x) ** 2).mean().item()
        dc = (x0.mean((2, 3)) - x.mean((2, 3))).abs().mean().item()
        corner = (x0[:, :, :3, :3].mean((2, 3)) - x[:, :, :3, :3].mean((2, 3))).abs().mean().item()
        print("t=%4d  x0 mse %.4f  mean-colour err %.4f  corner(bg) err %.4f" % (tt, mse, dc, corner))
