"""Does nanoae's VAE learn as well as the reference implementation?

Trains the pytorch/examples VAE configuration (784-400-20, ReLU, Adam 1e-3,
batch 128, summed BCE + KL, float32) on Fashion-MNIST with nanoae's own
training loop and prints the test negative ELBO (reconstruction + KL, in nats
per image) after every epoch. The reference configuration reaches about
244.1-244.3 nats on this data after 10 epochs; the target here is <= 245.5.

The data come from Debian's package (``apt-get install dataset-fashion-mnist``,
files in /usr/share/datasets/fashion-mnist) or any place nanoae looks for them.

    python benchmarks/vae_quality.py [--epochs 10] [--seed 0] [--dataset fashion-mnist]
"""
import argparse
import platform
import time

import numpy as np

from nanoae.data import load_dataset
from nanoae.models import build_model
from nanoae.train import TrainConfig, fit

TARGET = 245.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    train, test = load_dataset(args.dataset, "train"), load_dataset(args.dataset, "test")
    print(f"{args.dataset}: {len(train)} train / {len(test)} test images; Python {platform.python_version()}, "
          f"NumPy {np.__version__}, {platform.processor() or platform.machine()}")
    model = build_model("vae", seed=args.seed)  # the default VAEConfig is the reference one
    config = TrainConfig(epochs=args.epochs, batch_size=128, lr=1e-3, seed=args.seed, device=args.device)
    start = time.perf_counter()
    history = fit(model, train.inputs(), test.inputs(), config, progress=False)
    print(f"\n{'epoch':>5}  {'train -ELBO':>11}  {'test -ELBO':>10}  {'test recon':>10}  {'test KL':>7}  {'s':>5}")
    for row in history:
        print(f"{row['epoch']:>5}  {row['train_total']:>11.2f}  {row['test_total']:>10.2f}  "
              f"{row['test_recon']:>10.2f}  {row['test_kl']:>7.2f}  {row['seconds']:>5.1f}")
    final = history[-1]["test_total"]
    verdict = "meets" if final <= TARGET else "MISSES"
    print(f"\ntest -ELBO after {args.epochs} epochs: {final:.2f} nats per image ({verdict} the target "
          f"<= {TARGET}); {time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
