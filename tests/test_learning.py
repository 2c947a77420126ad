"""End to end: a small MLP autoencoder learns to reconstruct its data.

The data are 16-dimensional points made from 3 hidden numbers each, so a
4-dimensional code can hold them: the loss can fall far below what predicting
the mean of every pixel gives (about the loss at the start).
"""
import numpy as np
import pytest

import nanoae
from nanoae import functional as F, nn, optim


class AutoEncoder(nn.Module):
    """16 -> 8 -> 4 (the code) -> 8 -> 16, ReLU inside, sigmoid output in (0, 1)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))
        self.decoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 16), nn.Sigmoid())

    def forward(self, x):        # x: (B, 16)
        z = self.encoder(x)      # (B, 4)
        return self.decoder(z)   # (B, 16)


def make_data(n=256, seed=0):
    """(n, 16) values in (0, 1) lying on a 3-dimensional surface."""
    rng = np.random.default_rng(seed)
    hidden = rng.standard_normal((n, 3))
    mixing = rng.standard_normal((3, 16)) * 1.5
    return (1 / (1 + np.exp(-hidden @ mixing))).astype(np.float32)


def train(make_optimizer, steps, seed=0):
    """The MSE loss at every step of full-batch training from a seeded start."""
    nanoae.manual_seed(seed)
    model = AutoEncoder()
    optimizer = make_optimizer(model.parameters())
    x = nanoae.tensor(make_data())
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), x)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("make_optimizer, steps", [
    (lambda params: optim.Adam(params, lr=0.01), 300),
    (lambda params: optim.SGD(params, lr=1.0, momentum=0.9), 400),
], ids=["adam", "sgd-momentum"])
def test_autoencoder_training_lowers_the_loss_by_a_large_factor(make_optimizer, steps):
    losses = train(make_optimizer, steps)
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0] / 20


def test_training_is_deterministic_for_a_seed():
    adam = lambda params: optim.Adam(params, lr=0.01)  # noqa: E731
    first, second = train(adam, steps=30), train(adam, steps=30)
    assert first == second
    assert train(adam, steps=30, seed=1) != first
