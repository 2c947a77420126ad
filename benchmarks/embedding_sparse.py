"""One SGD step on an embedding table, with the dense gradient and with the row-sparse one.

The table is word2vec-sized: V = 42,000 words (the dictionary corpus's
vocabulary) of D = 100 numbers. A step looks up a batch of word indices drawn
from a Zipf-like distribution (as words are: a few very frequent, most rare,
so the batch repeats rows), backpropagates a random upstream gradient and
applies SGD:

- dense (``nn.Embedding(V, D)``): backward builds a (V, D) gradient of zeros
  with the batch's rows added in, and SGD updates all V rows;
- sparse (``nn.Embedding(V, D, sparse=True)``): backward keeps the batch's
  rows and their indices (``ops.SparseRows``), and SGD updates those rows.

The two take turns step by step, so that a machine that slows down slows
both; the script prints each one's median time per step and their ratio, and
checks once that both steps moved the table the same way.

    python benchmarks/embedding_sparse.py [--words 42000] [--dim 100] [--batch 6144] [--steps 50]
"""
import argparse
import statistics
import time

import numpy as np

import nanoae
from nanoae import nn, optim


def zipf_batch(rng, words, size):
    """``size`` word indices, word r drawn with probability proportional to 1 / (r + 1)."""
    p = 1.0 / np.arange(1, words + 1)
    return rng.choice(words, size=size, p=p / p.sum())


def step_seconds(embedding, optimizer, indices, upstream):
    start = time.perf_counter()
    optimizer.zero_grad()
    (embedding(indices) * upstream).sum().backward()
    optimizer.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=42000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--batch", type=int, default=6144, help="indices per step (1024 pairs x (1 + 5 negatives))")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    start = rng.standard_normal((args.words, args.dim)).astype("float32")
    tables = {}
    for sparse in (False, True):
        tables[sparse] = nn.Embedding(args.words, args.dim, sparse=sparse)
        tables[sparse].weight.data = start.copy()
    optimizers = {sparse: optim.SGD(t.parameters(), lr=0.025) for sparse, t in tables.items()}
    times = {False: [], True: []}
    for _ in range(args.steps):
        indices = zipf_batch(rng, args.words, args.batch)
        upstream = nanoae.tensor(rng.standard_normal((args.batch, args.dim)).astype("float32"))
        for sparse in (False, True):
            times[sparse].append(step_seconds(tables[sparse], optimizers[sparse], indices, upstream))
    difference = np.abs(tables[True].weight.numpy() - tables[False].weight.numpy()).max()
    dense, sparse = statistics.median(times[False]), statistics.median(times[True])
    print(f"Embedding({args.words}, {args.dim}), {args.batch} indices per step, SGD, {args.steps} steps each")
    print(f"  dense gradient   {dense * 1e3:8.2f} ms/step (median)")
    print(f"  sparse gradient  {sparse * 1e3:8.2f} ms/step (median)")
    print(f"  ratio dense / sparse = {dense / sparse:.1f}")
    print(f"  largest difference between the two tables after {args.steps} steps: {difference:.2g}")


if __name__ == "__main__":
    main()
