"""What do the training loop's safety checks cost?

Two checks run on every training step:

- before each update, ``nanoae.train.check_gradients`` looks for NaN or
  infinity in every gradient (one float64 sum over all of them);
- every op remembers, for each leaf it reads, a sample of 16 of its values,
  so that backward can refuse inputs changed in place since the forward
  (``Function.check_inputs`` in autograd.py).

This script trains the pytorch/examples VAE (784-400-20, Adam, batch 128) on
fontdigits with ``train_epoch``, the loop ``fit`` runs, once with the checks
and once with both replaced by no-ops, taking turns epoch by epoch so that a
machine that slows down slows both, and prints the median time per epoch of
each and their ratio.

    python benchmarks/safety_overhead.py [--images 6000] [--rounds 7]
"""
import argparse
import statistics
import time

import nanoae
from nanoae import autograd, train
from nanoae.data import DataLoader, load_dataset
from nanoae.models import build_model


def no_gradient_check(model, where):
    return None


def state_without_sample(x):
    return x._version, x.data, None


def epoch_seconds(model, optimizer, loader, epoch, checks):
    saved = train.check_gradients, autograd._state
    if not checks:
        train.check_gradients, autograd._state = no_gradient_check, state_without_sample
    try:
        start = time.perf_counter()
        train.train_epoch(model, optimizer, loader, epoch, progress=False)
        return time.perf_counter() - start
    finally:
        train.check_gradients, autograd._state = saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    x = load_dataset("fontdigits", "train", limit=args.images).inputs()
    models = {checks: build_model("vae", seed=0) for checks in (True, False)}
    optimizers = {checks: nanoae.optim.Adam(m.parameters(), lr=1e-3) for checks, m in models.items()}
    loader = DataLoader(x, batch_size=128, shuffle=True, seed=0)
    times = {True: [], False: []}
    for epoch in range(1, args.rounds + 1):
        for checks in (True, False):
            loader.set_epoch(epoch)
            times[checks].append(epoch_seconds(models[checks], optimizers[checks], loader, epoch, checks))
    with_checks, without = statistics.median(times[True]), statistics.median(times[False])
    print(f"VAE 784-400-20, batch 128, {args.images} fontdigits images per epoch, {args.rounds} epochs each")
    print(f"  with the checks     {with_checks:.3f} s/epoch (median)")
    print(f"  without the checks  {without:.3f} s/epoch (median)")
    print(f"  ratio with / without = {with_checks / without:.3f}")


if __name__ == "__main__":
    main()
