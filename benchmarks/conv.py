"""How fast is a convolution layer in nanoae, next to a plain-NumPy im2col written here, and PyTorch?

One layer's forward and backward (the output, then the gradients with respect
to the input, the weight and the bias for a random upstream gradient),
float32, for the layers of a small MNIST autoencoder:

- encoder: conv 1 -> 16 channels on 28x28 (k=3, stride 1, padding 1),
  conv 16 -> 32 on 14x14 (k=3, stride 2, padding 1, giving 7x7);
- decoder: transposed conv 32 -> 16 from 7x7 to 14x14 and 16 -> 1 from
  14x14 to 28x28 (k=3, stride 2, padding 1, output_padding 1).

Two ways, or three where PyTorch is installed, in the same run:

- nanoae: ``F.conv2d`` / ``F.conv_transpose2d`` and ``nanoae.grad``, as a user writes it;
- plain NumPy: im2col as a textbook writes it, one row per output pixel
  (``sliding_window_view`` and a copy), one matrix product forward, two
  backward, col2im with one strided slice per kernel offset; no graph and no
  checks. A transposed convolution is the conv's input gradient, and its
  gradients are a conv forward and a weight gradient, so the same functions
  compute it. (nanoae lays its columns out the other way round, channels
  first, one column per output pixel, and so does one matrix product for the
  whole batch on contiguous blocks; which layout is faster depends on the
  layer's sizes.)
- PyTorch (if ``import torch`` works): ``torch.nn.functional.conv2d`` /
  ``conv_transpose2d`` (what ``torch.nn.Conv2d`` / ``ConvTranspose2d`` call)
  and ``torch.autograd.grad`` on the CPU, with the same arrays (shared, not
  copied) and ``torch.set_num_threads(2)``, the number of cores the figures in
  the README were taken on.

First all must agree on every output and gradient (to float32 precision);
then they are timed in rounds of ``--repeat`` calls, taking turns, so that a
machine that slows down for a while slows both. Each turn starts after a pause
and one untimed call (``vae_epoch.hand_over``): the threads that NumPy's
OpenBLAS and PyTorch's OpenMP leave spinning after their work would otherwise
slow down whoever comes next, by up to 2.5 times here. The script prints the median
time per forward+backward and the ratios nanoae / NumPy and nanoae / PyTorch
for each layer, and their geometric means over the layers. Beside each ratio
of medians it gives the median of the ratios taken round by round: the two
turns of a round are a fraction of a second apart, so when the machine slows
down for a few seconds (it does, here) that one moves less.

``--gpu`` times the layers on the GPU instead: nanoae on CuPy against
PyTorch on CUDA (where PyTorch sees a GPU), each first checked against the
plain-NumPy reference on the CPU; the device is synchronized before the clock
is read, and nanoae / PyTorch CUDA is the ratio printed.

    python benchmarks/conv.py [--batch 64] [--rounds 15] [--repeat 5] [--quick] [--no-torch] [--gpu]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if "--default-malloc" in sys.argv:
    os.environ["NANOAE_DEFAULT_MALLOC"] = "1"   # read by ``import nanoae``, so set before it
import nanoae  # noqa: E402
from nanoae import Tensor, functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The same machine line, malloc report, pause between contenders and round-by-round ratios as the VAE benchmark.
from vae_epoch import hand_over, machine, malloc_setting, round_ratios  # noqa: E402

# name, kind, (C_in, C_out), H, k, stride, padding, output_padding
LAYERS = [
    ("conv 1->16, 28x28, s1", "conv", (1, 16), 28, 3, 1, 1, 0),
    ("conv 16->32, 14x14, s2", "conv", (16, 32), 14, 3, 2, 1, 0),
    ("convT 32->16, 7x7, s2", "transpose", (32, 16), 7, 3, 2, 1, 1),
    ("convT 16->1, 14x14, s2", "transpose", (16, 1), 14, 3, 2, 1, 1),
]


# --- the plain-NumPy reference -----------------------------------------------------------------

def np_im2col(x, k, s, p):
    """x (N, C, H, W) -> rows (N Ho Wo, C k k), one row per output pixel, and (Ho, Wo)."""
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
    windows = sliding_window_view(xpad, (k, k), axis=(2, 3))[:, :, ::s, ::s]   # (N, C, Ho, Wo, k, k) view
    n, c, ho, wo = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k), (ho, wo)


def np_col2im(rows, shape, k, s, p, out_size):
    """The adjoint of np_im2col: rows (N Ho Wo, C k k) added back onto their windows -> (N, C, H, W)."""
    n, c, h, w = shape
    ho, wo = out_size
    cols = rows.reshape(n, ho, wo, c, k, k)
    xpad = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=rows.dtype)
    for i in range(k):
        for j in range(k):
            window = (slice(None), slice(None), slice(i, i + s * (ho - 1) + 1, s), slice(j, j + s * (wo - 1) + 1, s))
            xpad[window] += cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return xpad[:, :, p:p + h, p:p + w]


def np_conv_forward(x, w, b, s, p):
    """y = conv2d(x, w) + b; also returns the rows, kept for the backward pass."""
    c_out, k = w.shape[0], w.shape[2]
    rows, (ho, wo) = np_im2col(x, k, s, p)
    y = rows @ w.reshape(c_out, -1).T + b                                    # (N Ho Wo, C_out)
    return y.reshape(len(x), ho, wo, c_out).transpose(0, 3, 1, 2), rows


def np_conv_backward(gy, rows, x_shape, w, s, p):
    """(gx, gw, gb) of conv2d from the upstream gradient gy (N, C_out, Ho, Wo)."""
    c_out, k = w.shape[0], w.shape[2]
    g = gy.transpose(0, 2, 3, 1).reshape(-1, c_out)                          # (N Ho Wo, C_out)
    gw = (g.T @ rows).reshape(w.shape)
    gx = np_col2im(g @ w.reshape(c_out, -1), x_shape, k, s, p, gy.shape[2:])
    return gx, gw, g.sum(axis=0)


def np_conv(x, w, b, gy, s, p):
    y, rows = np_conv_forward(x, w, b, s, p)
    return (y,) + np_conv_backward(gy, rows, x.shape, w, s, p)


def np_conv_transpose(x, w, b, gy, s, p, op):
    """y = conv_transpose2d(x, w) + b and its gradients (gx, gw, gb) for the upstream gradient gy.

    With w (C_in, C_out, k, k) read as the weight of a conv2d from C_out to C_in
    channels, y is that conv's input gradient for "upstream gradient" x (col2im
    of x W), gx is that conv applied to gy, and gw correlates x with gy's windows.
    """
    n, c_in, h, wd = x.shape
    c_out, k = w.shape[1], w.shape[2]
    out = ((h - 1) * s - 2 * p + k + op, (wd - 1) * s - 2 * p + k + op)
    g = x.transpose(0, 2, 3, 1).reshape(-1, c_in)                            # (N H W, C_in)
    y = np_col2im(g @ w.reshape(c_in, -1), (n, c_out) + out, k, s, p, (h, wd)) + b.reshape(-1, 1, 1)
    gx, rows = np_conv_forward(gy, w, np.zeros(c_in, dtype=x.dtype), s, p)  # conv2d(gy, w)
    gw = (g.T @ rows).reshape(w.shape)                                        # x correlated with gy
    return y, gx, gw, gy.sum(axis=(0, 2, 3))


# --- nanoae --------------------------------------------------------------------------------

def nanoae_layer(kind, x, w, b, gy, s, p, op):
    """y and the gradients (gx, gw, gb) as arrays, on the device of the inputs (NumPy or CuPy arrays)."""
    x, w, b = (Tensor(a, requires_grad=True) for a in (x, w, b))
    if kind == "conv":
        y = F.conv2d(x, w, b, stride=s, padding=p)
    else:
        y = F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op)
    gx, gw, gb = nanoae.grad(y, [x, w, b], grad_output=Tensor(gy))
    return y.data, gx.data, gw.data, gb.data


def torch_layer(torch, kind, x, w, b, gy, s, p, op):
    """The same with PyTorch, for torch tensors on the CPU (sharing the NumPy arrays) or on the GPU."""
    x, w, b = (t.detach().requires_grad_() for t in (x, w, b))
    if kind == "conv":
        y = torch.nn.functional.conv2d(x, w, b, stride=s, padding=p)
    else:
        y = torch.nn.functional.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op)
    gx, gw, gb = torch.autograd.grad(y, [x, w, b], grad_outputs=gy)
    return y.detach(), gx, gw, gb


def import_torch(threads):
    """torch, set to use ``threads`` threads, or None where it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def contenders(torch, gpu):
    """{label: (move, layer, synchronize)}: how each contender takes the NumPy inputs to its device,
    computes a layer there, and waits for its device (None on the CPU). nanoae comes first: the
    ratios are its time over each of the others'."""
    def torch_run(move, synchronize):
        return move, lambda *args: torch_layer(torch, *args), synchronize

    if not gpu:
        runs = {"nanoae": (np.asarray, nanoae_layer, None), "NumPy": (np.asarray, reference_layer, None)}
        if torch is not None:
            runs["PyTorch"] = torch_run(torch.from_numpy, None)
        return runs
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    print(f"on the GPU: {props['name'].decode()}; CuPy {cupy.__version__}")
    runs = {"nanoae CuPy": (cupy.asarray, nanoae_layer, cupy.cuda.Device().synchronize)}
    if torch is not None and torch.cuda.is_available():
        runs["PyTorch CUDA"] = torch_run(lambda a: torch.from_numpy(a).cuda(), torch.cuda.synchronize)
    else:
        print("PyTorch with CUDA is not installed here: nanoae on CuPy is only checked, not compared")
    return runs


def on_the_cpu(array):
    """A NumPy array from a NumPy or CuPy array or a torch tensor (wherever it is)."""
    return array.detach().cpu().numpy() if hasattr(array, "detach") else nanoae.backend.to_numpy(array)


def reference_layer(kind, x, w, b, gy, s, p, op):
    return np_conv(x, w, b, gy, s, p) if kind == "conv" else np_conv_transpose(x, w, b, gy, s, p, op)


def make_inputs(kind, channels, h, k, s, p, op, batch, rng):
    c_in, c_out = channels
    w_shape = (c_out, c_in, k, k) if kind == "conv" else (c_in, c_out, k, k)
    h_out = (h + 2 * p - k) // s + 1 if kind == "conv" else (h - 1) * s - 2 * p + k + op
    x = rng.standard_normal((batch, c_in, h, h), dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32) / np.sqrt(c_in * k * k).astype(np.float32)
    b = rng.standard_normal(c_out, dtype=np.float32)
    gy = rng.standard_normal((batch, c_out, h_out, h_out), dtype=np.float32)
    return x, w, b, gy


def check_agreement(name, ours, theirs, reference):
    """Output, gx, gw and gb agree to float32 precision (relative to the largest entry of each)."""
    for label, a, e in zip(("output", "input gradient", "weight gradient", "bias gradient"), ours, theirs):
        a, e = on_the_cpu(a), on_the_cpu(e)
        assert a.shape == e.shape, f"{name}: {label} has shape {a.shape}, {reference} {e.shape}"
        error = np.abs(a - e).max() / np.abs(e).max()
        assert error < 1e-5, f"{name}: {label} differs from {reference} (relative error {error:.1e})"


def timed(fn, repeat, synchronize=None):
    """Seconds per call of ``fn``, over ``repeat`` calls; ``synchronize`` waits for a GPU."""
    if synchronize:
        synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    if synchronize:
        synchronize()
    return (time.perf_counter() - start) / repeat


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds of each, taking turns")
    parser.add_argument("--repeat", type=int, default=5, help="forward+backward calls per round")
    parser.add_argument("--quick", action="store_true", help="a smoke run: batch 8, 3 rounds of 1 call")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is installed")
    parser.add_argument("--default-malloc", action="store_true", help="leave glibc's malloc as it is")
    parser.add_argument("--gpu", action="store_true", help="nanoae on CuPy against PyTorch on CUDA")
    args = parser.parse_args()
    if args.quick:
        args.batch, args.rounds, args.repeat = 8, 3, 1
    if args.gpu and not nanoae.backend.cupy_available():
        parser.error("--gpu needs CuPy and a CUDA GPU")
    malloc = malloc_setting()
    torch = None if args.no_torch else import_torch(args.threads)
    runs = contenders(torch, args.gpu)
    ours, *others = runs
    versus = ", ".join(others)
    if "PyTorch" in others:   # on the CPU; PyTorch CUDA's threads do not matter
        versus += f" (PyTorch {torch.__version__}, {args.threads} threads)"
    elif "PyTorch CUDA" in others:
        versus += f" (PyTorch {torch.__version__})"
    print(f"conv layer forward+backward, batch {args.batch}, float32; {machine()}; {malloc}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; {ours} against {versus}")
    rng = np.random.default_rng(0)
    ratios = {label: [] for label in others}
    by_round = {label: [] for label in others}   # the median of the ratios taken round by round
    for name, kind, channels, h, k, s, p, op in LAYERS:
        inputs = make_inputs(kind, channels, h, k, s, p, op, args.batch, rng)
        expected = reference_layer(kind, *inputs, s, p, op)   # plain NumPy on the CPU
        calls = {}
        for label, (move, layer, synchronize) in runs.items():
            moved = [move(a) for a in inputs]
            calls[label] = (lambda layer=layer, moved=moved: layer(kind, *moved, s, p, op)), synchronize
            if layer is not reference_layer:
                check_agreement(name, calls[label][0](), expected, "plain NumPy")
        times = {label: [] for label in runs}
        for r in range(args.rounds):
            order = list(runs)[r % len(runs):] + list(runs)[:r % len(runs)]  # each goes first in turn
            for label in order:
                call, synchronize = calls[label]
                hand_over(call, synchronize)   # a pause and one untimed call: see vae_epoch.hand_over
                times[label].append(timed(call, args.repeat, synchronize))
        median = {label: statistics.median(t) for label, t in times.items()}
        line = f"{name:<24} agree; median of {args.rounds} rounds:"
        line += "".join(f" {label} {t * 1000:6.2f} ms," for label, t in median.items())
        for label in others:
            ratios[label].append(median[ours] / median[label])
            by_round[label].append(statistics.median(round_ratios(times[ours], times[label])))
            line += f" {ours} / {label} = {ratios[label][-1]:.3f} (round by round {by_round[label][-1]:.3f});"
        print(line)
    for label, values in ratios.items():
        print(f"all layers: ratio {ours} / {label} = {statistics.geometric_mean(values):.3f} (geometric mean; "
              f"of the round-by-round ratios {statistics.geometric_mean(by_round[label]):.3f}), "
              f"the largest {max(values):.3f} ({max(by_round[label]):.3f})")


if __name__ == "__main__":
    main()
