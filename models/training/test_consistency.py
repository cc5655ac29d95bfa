"""The consistency distillation's schedule arithmetic (train_consistency.Consistency) and solver grid.

  /usr/bin/python3 -m unittest test_consistency
"""
import unittest

import torch

from diffusion import Diffusion
from train_consistency import Consistency, solver_grid, trailing


class ConsistencyMathTest(unittest.TestCase):
    def setUp(self):
        self.cm = Consistency(Diffusion.cosine(1000))
        g = torch.Generator().manual_seed(3)
        self.x0 = torch.rand((3, 3, 4, 4), generator=g) * 1.6 - 0.8
        self.noise = torch.randn((3, 3, 4, 4), generator=g)

    def test_the_grid_holds_the_engines_trailing_timesteps(self):
        grid = set(solver_grid(1000, 40).tolist())
        self.assertEqual(len(grid), 40)
        for k in (1, 2, 4, 5, 8, 10):
            self.assertTrue(set(trailing(1000, k)) <= grid, k)
        self.assertEqual(trailing(1000, 4), [999, 749, 499, 249])
        with self.assertRaises(ValueError):
            solver_grid(1000, 30)

    def test_the_true_v_gives_back_x0_and_ddim_lands_on_q_sample(self):
        t = torch.tensor([999, 499, 19])
        d = self.cm.diff
        xt = d.q_sample(self.x0, t, self.noise)
        v = d.v_target(self.x0, t, self.noise)
        self.assertTrue(torch.allclose(self.cm.x0(v, xt, t), self.x0, atol=1e-4))
        # with the true x0 a deterministic DDIM step keeps the same noise: it lands on q(x_{t'} | x0, noise)
        t_prev = torch.tensor([979, 479, -1])
        stepped = self.cm.ddim(self.x0, xt, t, t_prev)
        expected = d.q_sample(self.x0, t_prev.clamp(min=0), self.noise)
        self.assertTrue(torch.allclose(stepped[:2], expected[:2], atol=1e-4))
        self.assertTrue(torch.equal(stepped[2], self.x0[2]), "to the clean end: x0 itself (the boundary condition)")

    def test_x0_is_clamped_like_the_engine(self):
        t = torch.tensor([500, 500, 500])
        x = torch.zeros((3, 3, 4, 4))
        v = torch.full((3, 3, 4, 4), -100.0)
        self.assertEqual(float(self.cm.x0(v, x, t).max()), 1.0)


if __name__ == "__main__":
    unittest.main()
