"""How much does the autograd engine cost over hand-written NumPy?

Trains the same MLP autoencoder (784-400-20-400-784, ReLU, logit outputs,
summed binary cross-entropy with logits, Adam 1e-3, float32) two ways, in the
same run, alternating:

- nanoae: the model built from nn.Linear, backward by the engine;
- plain NumPy: the same arithmetic with every gradient derived by hand,
  the floor that any engine running on NumPy can approach.

Both start from the same weights and see the same batches. The two take turns
step by step, so that a machine that slows down for a while slows both; the
script prints the median time per training step of each and their ratio
(nanoae / NumPy).

    python benchmarks/engine_overhead.py [--batch 128] [--steps 30] [--rounds 7]
"""
import argparse
import statistics
import time

import numpy as np

import nanoae
from nanoae import functional as F, nn, optim
from vae_epoch import adam_update  # the same lean Adam as the VAE benchmark's reference

SIZES = [784, 400, 20, 400, 784]


def build_nanoae():
    nanoae.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    return model, optim.Adam(model.parameters(), lr=1e-3)


def nanoae_step(model, optimizer, x):
    optimizer.zero_grad()
    logits = model(nanoae.Tensor(x))
    loss = F.binary_cross_entropy_with_logits(logits, nanoae.Tensor(x), reduction="sum")
    loss.backward()
    optimizer.step()
    return loss.item()


class NumpyAutoencoder:
    """The same model with hand-derived gradients and a hand-written Adam."""

    def __init__(self, weights):
        self.params = [w.copy() for w in weights]  # W0, b0, W1, b1, ...
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, x, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        Ws, bs = self.params[0::2], self.params[1::2]
        hs = [x]                                   # activations, (B, n) each
        for i, (W, b) in enumerate(zip(Ws, bs)):
            a = hs[-1] @ W.T + b
            hs.append(np.maximum(a, 0) if i < len(Ws) - 1 else a)
        z = hs[-1]                                 # logits (B, 784)
        loss = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - x * z).sum()
        g = 1 / (1 + np.exp(-z)) - x               # dL/dz = sigmoid(z) - x
        grads = [None] * len(self.params)
        for i in reversed(range(len(Ws))):
            grads[2 * i] = g.T @ hs[i]             # dL/dW = g^T h
            grads[2 * i + 1] = g.sum(axis=0)       # dL/db
            if i > 0:
                g = (g @ Ws[i]) * (hs[i] > 0)      # back through the linear layer and the ReLU
        self.t += 1
        for p, gp, m, v in zip(self.params, grads, self.m, self.v):  # as lean as nanoae's Adam
            adam_update(p, gp, m, v, self.t, lr, (beta1, beta2), eps)
        return float(loss)


def timed(step, x):
    start = time.perf_counter()
    step(x)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30, help="batches per round")
    parser.add_argument("--rounds", type=int, default=7, help="passes over the batches")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    batches = [rng.random((args.batch, SIZES[0]), dtype=np.float32) for _ in range(args.steps)]
    model, optimizer = build_nanoae()
    reference = NumpyAutoencoder([p.numpy() for p in model.parameters()])

    # The two must compute the same thing before their speed is compared.
    first = [nanoae_step(model, optimizer, batches[0]), reference.step(batches[0])]
    second = [nanoae_step(model, optimizer, batches[1]), reference.step(batches[1])]
    assert np.allclose(first[0], first[1], rtol=1e-4) and np.allclose(second[0], second[1], rtol=1e-3), \
        f"nanoae and NumPy disagree: {first}, {second}"

    engine, plain = [], []
    for _ in range(args.rounds):
        for x in batches:
            engine.append(timed(lambda x: nanoae_step(model, optimizer, x), x))
            plain.append(timed(reference.step, x))
    e, p = statistics.median(engine), statistics.median(plain)
    print(f"MLP autoencoder {'-'.join(map(str, SIZES))}, batch {args.batch}, float32, "
          f"{len(engine)} timed steps each")
    print(f"  nanoae      {e * 1000:8.2f} ms/step (median)")
    print(f"  plain NumPy {p * 1000:8.2f} ms/step (median)")
    print(f"  ratio nanoae / NumPy = {e / p:.3f}")


if __name__ == "__main__":
    main()
