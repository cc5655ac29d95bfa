"""The written-out backward pass of the guidance graph against torch.autograd (float64, random weights and inputs,
partial labels included), and the exported ONNX graph's structure. Run: /usr/bin/python3 -m unittest test_classifier_gradient"""
import io
import unittest

import torch

from classifier_model import NUM_LABELS, GuidanceGradient, NoisyClassifier, log_likelihood


def random_target(b, g, drop_head=None):
    rows = torch.zeros(b, NUM_LABELS, dtype=torch.float64)
    for i in range(b):
        for start, size in ((0, 8), (8, 4), (12, 9)):
            if drop_head is not None and start == drop_head:
                continue
            rows[i, start + torch.randint(0, size, (1,), generator=g).item()] = 1.0
    return rows


class GuidanceGradientTest(unittest.TestCase):
    def check(self, drop_head=None):
        g = torch.Generator().manual_seed(3)
        clf = NoisyClassifier().double()
        for p in clf.parameters():  # larger than the init so that no activation sits in a flat region
            p.data = torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.3
        x = torch.randn(4, 3, 32, 32, generator=g, dtype=torch.float64, requires_grad=True)
        t = torch.tensor([0, 10, 500, 999])
        y = random_target(4, g, drop_head)
        want, = torch.autograd.grad(log_likelihood(clf(x, t), y).sum(), x)
        got, _ = GuidanceGradient(clf)(x.detach(), t, y)
        scale = want.abs().max().item()
        self.assertGreater(scale, 1e-3)
        self.assertLess((got - want).abs().max().item(), 1e-5 * max(1.0, scale))

    def test_all_heads(self):
        self.check()

    def test_without_cell(self):
        self.check(drop_head=12)

    def test_without_colour(self):
        self.check(drop_head=0)

    def test_exports_without_autograd_ops(self):
        import onnx
        m = GuidanceGradient(NoisyClassifier().eval())
        buf = io.BytesIO()
        torch.onnx.export(m, (torch.zeros(2, 3, 32, 32), torch.zeros(2, dtype=torch.long), torch.zeros(2, NUM_LABELS)),
                          buf, opset_version=17, input_names=["sample", "timestep", "target"],
                          output_names=["grad", "logits"], dynamic_axes={k: {0: "batch"} for k in
                                                                          ("sample", "timestep", "target", "grad", "logits")})
        model = onnx.load_from_string(buf.getvalue())
        onnx.checker.check_model(model)
        ops = {n.op_type for n in model.graph.node}
        self.assertIn("ConvTranspose", ops)
        self.assertEqual([o.name for o in model.graph.output], ["grad", "logits"])


if __name__ == "__main__":
    unittest.main()
