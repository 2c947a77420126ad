"""How long does an epoch of the reference VAE take with nanoae, next to hand-written NumPy?

The pytorch/examples VAE configuration (784-400-20, ReLU, Adam lr 1e-3,
batch 128, summed BCE-with-logits + KL per image, float32), trained two ways
in the same run:

- nanoae: ``nanoae.models.VAE`` and ``nanoae.optim.Adam``, exactly as a user
  writes it (zero_grad, loss, backward, step);
- plain NumPy: the same forward pass, every gradient derived by hand, and an
  equally lean Adam: the floor that any engine running on NumPy can approach.

Both start from the same weights and see the same batches and the same draws
of eps (nanoae's generator and the reference's are seeded alike). First both
must give the same gradients on one batch and the same losses for a few
steps (to float32 precision); then they are timed in
chunks of ``--steps`` steps, taking turns, so that a machine that slows down
for a while slows both. An epoch is 60,000 images (469 steps at batch 128);
the script reports steps per epoch x median time per step for each, and the
ratio nanoae / NumPy of those medians; beside it, the ratio taken round by
round (its median and range), which shows how much the machine moved it.
``--full`` times whole epochs instead, alternately. Each turn starts after a
pause and one untimed step (``hand_over``): without them, the threads that
the library before it leaves spinning slow it down.

Chunks are 100 steps long by default. Before each turn began with that
pause, shorter ones were unfair to PyTorch: with chunks of 20 steps it
measured 20 to 30% slower than in whole epochs, as the threads that the
others left spinning took its cores.

Where PyTorch is installed (``pip install -e ".[torch]"``), a third takes
turns with them on the CPU: the same network from the same weights in
PyTorch with ``torch.optim.Adam``, written as a PyTorch user would, with one
thread per core (``--no-torch`` leaves it out). It must first give
nanoae's gradients on one batch (with the same eps).

``--gpu`` adds two more, on the GPU, taking turns with the CPU ones:

- nanoae on CuPy: the same model moved with ``model.to("gpu")``, the
  batches already on the GPU;
- PyTorch on CUDA, where it is installed: the same network from the same
  weights with ``torch.optim.Adam``, written as a PyTorch user would.

Both must first give nanoae-on-NumPy's gradients on one batch (with the same
eps). Every step reads its loss back (``.item()``), as a training loop that
logs losses does, and the device is synchronized before the clock is read.

Where the C library is glibc, ``import nanoae`` has it keep freed memory in
the process (``nanoae.backend.keep_freed_memory``), for all three of them;
``--default-malloc`` leaves glibc as it is. By default glibc hands big freed
arrays back to the system and takes them again page by page, and how often
it does so depends on the order of earlier allocations: measured here, that
alone moved the ratio between 0.7 and 1.3 from one run to the next.

    python benchmarks/vae_epoch.py [--batch 128] [--steps 100] [--rounds 7] [--full] [--gpu] [--default-malloc]
"""
import argparse
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

if "--default-malloc" in sys.argv:
    os.environ["NANOAE_DEFAULT_MALLOC"] = "1"   # read by ``import nanoae``, so set before it
import nanoae  # noqa: E402
from nanoae import optim  # noqa: E402
from nanoae.models import VAE, VAEConfig  # noqa: E402

EPOCH_IMAGES = 60_000
NOISE_SEED = 1  # seeds nanoae's generator and the reference's alike, after the weights are drawn


def build_nanoae(device="cpu", sizes=(784, 400, 20)):
    """The VAE (input, hidden, latent sizes: the reference's by default) and its Adam, from seed 0."""
    nanoae.manual_seed(0)
    input_dim, hidden, latent_dim = sizes
    model = VAE(VAEConfig(input_dim=input_dim, hidden=(hidden,), latent_dim=latent_dim, activation="relu", beta=1.0))
    model.to(device)  # before the optimizer, whose buffers are made where the parameters are
    return model, optim.Adam(model.parameters(), lr=1e-3)


def nanoae_step(model, optimizer, x):
    optimizer.zero_grad()
    total, _ = model.loss(nanoae.Tensor(x))
    total.backward()
    optimizer.step()
    return total.item()


class NumpyVAE:
    """The same VAE with hand-derived gradients and a hand-written Adam.

    Parameters in nanoae's order: encoder W1 b1, heads W_mu b_mu W_lv b_lv,
    decoder W3 b3 W4 b4 (each W of shape (out, in)).
    """

    def __init__(self, weights, noise_seed, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = [w.copy() for w in weights]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.rng = np.random.default_rng(noise_seed)
        self.lr, self.betas, self.eps = lr, betas, eps

    def loss_and_gradients(self, x):
        """The loss recon + kl (per image) and its gradient for every parameter."""
        W1, b1, Wmu, bmu, Wlv, blv, W3, b3, W4, b4 = self.params
        B = len(x)
        noise = self.rng.standard_normal((B, Wmu.shape[0]), dtype=x.dtype)   # eps ~ N(0, I)
        # forward
        a1 = x @ W1.T + b1                          # (B, 400)
        h1 = np.maximum(a1, 0)
        mu = h1 @ Wmu.T + bmu                       # (B, 20)
        log_var = h1 @ Wlv.T + blv                  # (B, 20)
        std = np.exp(0.5 * log_var)
        z = mu + std * noise
        a3 = z @ W3.T + b3                          # (B, 400)
        h3 = np.maximum(a3, 0)
        logits = h3 @ W4.T + b4                     # (B, 784)
        recon = (np.maximum(logits, 0) + np.log1p(np.exp(-np.abs(logits))) - x * logits).sum() / B
        kl = -0.5 * (1 + log_var - mu * mu - std * std).sum() / B
        # backward: d(recon + kl)/d(everything)
        g4 = (1 / (1 + np.exp(-logits)) - x) / B   # d/dlogits = (sigmoid - x) / B
        g3 = (g4 @ W4) * (a3 > 0)                   # (B, 400)
        gz = g3 @ W3                                # (B, 20)
        gmu = gz + mu / B                           # dkl/dmu = mu / B
        glv = gz * noise * std * 0.5 + (std * std - 1) * (0.5 / B)  # dz/dlv = eps std / 2
        g1 = (gmu @ Wmu + glv @ Wlv) * (a1 > 0)     # (B, 400)
        grads = [g1.T @ x, g1.sum(axis=0), gmu.T @ h1, gmu.sum(axis=0), glv.T @ h1, glv.sum(axis=0),
                 g3.T @ z, g3.sum(axis=0), g4.T @ h3, g4.sum(axis=0)]
        return float(recon + kl), grads

    def step(self, x):
        loss, grads = self.loss_and_gradients(x)
        self.adam(grads)
        return loss

    def adam(self, grads):
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            adam_update(p, g, m, v, self.t, self.lr, self.betas, self.eps)


def adam_update(p, g, m, v, t, lr, betas, eps):
    """Adam's step t on one parameter, in place, as nanoae.optim.Adam does it on the CPU (the bias
    corrections moved onto lr and eps, one temporary array). Both references use it."""
    beta1, beta2 = betas
    c = (1 - beta2 ** t) ** 0.5
    scratch = g * (1 - beta1)
    m *= beta1
    m += scratch
    np.multiply(g, g, out=scratch)
    scratch *= 1 - beta2
    v *= beta2
    v += scratch
    np.sqrt(v, out=scratch)
    scratch += eps * c
    np.divide(m, scratch, out=scratch)
    scratch *= lr * c / (1 - beta1 ** t)
    p -= scratch


def check_same_computation(model, optimizer, reference, batches, steps=5):
    """Both give the same gradients on the first batch and the same losses for ``steps`` steps."""
    ours = [nanoae_step(model, optimizer, batches[0])]
    loss, grads = reference.loss_and_gradients(batches[0])
    reference.adam(grads)
    for (name, p), g in zip(model.named_parameters(), grads):
        assert np.allclose(p.grad.numpy(), g, rtol=1e-3, atol=1e-5 * np.abs(g).max()), f"{name}: gradients differ"
    theirs = [loss] + [reference.step(x) for x in batches[1:steps]]
    ours += [nanoae_step(model, optimizer, x) for x in batches[1:steps]]
    assert np.allclose(ours, theirs, rtol=1e-5), f"nanoae and NumPy disagree: {ours} vs {theirs}"
    return ours, theirs


def gradients_on_one_batch(model, x, eps):
    """nanoae's gradients (as NumPy arrays) of the loss on batch ``x`` with the given ``eps``."""
    model.zero_grad()
    total, _ = model.loss(nanoae.Tensor(x), eps=nanoae.Tensor(eps))
    total.backward()
    return [p.grad.numpy() for p in model.parameters()]


def assert_same_gradients(name, grads, expected):
    for i, (g, e) in enumerate(zip(grads, expected)):
        assert np.allclose(g, e, rtol=1e-3, atol=1e-5 * np.abs(e).max()), f"{name}: gradient {i} differs"


def torch_vae(weights, device="cuda"):
    """The same VAE in PyTorch on ``device``, from nanoae's weights (each Linear's W is (out, in) in both)."""
    import torch

    class TorchVAE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc_mu, self.fc_lv = (torch.nn.Linear(784, 400), torch.nn.Linear(400, 20),
                                                torch.nn.Linear(400, 20))
            self.fc3, self.fc4 = torch.nn.Linear(20, 400), torch.nn.Linear(400, 784)

        def loss(self, x, eps=None):
            h = torch.relu(self.fc1(x))
            mu, log_var = self.fc_mu(h), self.fc_lv(h)
            eps = torch.randn_like(mu) if eps is None else eps
            z = mu + torch.exp(0.5 * log_var) * eps
            logits = self.fc4(torch.relu(self.fc3(z)))
            recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = -0.5 * torch.sum(1 + log_var - mu * mu - log_var.exp())
            return (recon + kl) / len(x)

    model = TorchVAE().to(device)
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):  # the same order: fc1, mu, log_var, fc3, fc4
            p.copy_(torch.from_numpy(w))
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def gpu_contenders(weights, batches, expected, x, eps):
    """{name: (step function, its batches, synchronize)} for nanoae on CuPy and PyTorch on CUDA."""
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    print(f"GPU: {props['name'].decode()}; CuPy {cupy.__version__}")
    contenders = {}
    model, optimizer = build_nanoae("gpu")
    assert_same_gradients("nanoae on CuPy", gradients_on_one_batch(model, cupy.asarray(x), cupy.asarray(eps)),
                          expected)
    model.zero_grad()
    contenders["nanoae CuPy"] = (lambda b: nanoae_step(model, optimizer, b),
                                 [cupy.asarray(b) for b in batches], cupy.cuda.Device().synchronize)
    try:
        import torch
        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    if not cuda:
        print("PyTorch with CUDA is not installed here: no PyTorch column")
        return contenders
    print(f"PyTorch {torch.__version__}")
    contenders["PyTorch CUDA"] = torch_contender(weights, batches, expected, x, eps, "cuda")
    return contenders


def torch_contender(weights, batches, expected, x, eps, device):
    """(step function, batches, synchronize) for PyTorch on ``device``, checked against nanoae's gradients."""
    import torch
    net, torch_optimizer = torch_vae(weights, device)
    loss = net.loss(torch.from_numpy(x).to(device), torch.from_numpy(eps).to(device))
    loss.backward()
    assert_same_gradients(f"PyTorch {device}", [p.grad.cpu().numpy() for p in net.parameters()], expected)
    torch_optimizer.zero_grad()

    def torch_step(b):
        torch_optimizer.zero_grad()
        loss = net.loss(b)
        loss.backward()
        torch_optimizer.step()
        return loss.item()

    synchronize = torch.cuda.synchronize if device == "cuda" else None
    return torch_step, [torch.from_numpy(b).to(device) for b in batches], synchronize


def torch_installed():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


HANDOVER_PAUSE = 0.1   # seconds between two contenders' turns: see hand_over


def hand_over(call, synchronize=None):
    """Before a contender's timed turn: a pause, then one untimed ``call()`` of its work.

    After their work, OpenBLAS (behind NumPy, and so nanoae) and OpenMP (behind
    PyTorch) keep their worker threads spinning for a while in case more work
    comes. On a 2-core machine those spinning threads take the cores from
    whoever runs next: measured here, a PyTorch conv layer took 2.4-2.8 ms right
    after nanoae's and 1.0-1.1 ms after a pause of 50 ms or more; nanoae's took
    3.2-4.7 ms right after PyTorch's and 1.6-1.8 ms after a pause. So the pause
    lets the previous contender's threads fall asleep, and the untimed call
    wakes this one's own, as they are during a training run of one library.
    """
    time.sleep(HANDOVER_PAUSE)
    call()
    if synchronize:
        synchronize()


def round_ratios(ours, theirs):
    """Our time over theirs in each round, sorted: two turns of one round are taken seconds apart,
    so a machine that slows down for a minute slows both, and their ratio moves less than the times."""
    return sorted(a / b for a, b in zip(ours, theirs))


def timed(step, batches, count, synchronize=None):
    """Seconds for ``count`` steps over ``batches`` (cycled); ``synchronize`` waits for a GPU."""
    if synchronize:
        synchronize()
    start = time.perf_counter()
    for i in range(count):
        step(batches[i % len(batches)])
    if synchronize:
        synchronize()
    return time.perf_counter() - start


def malloc_setting():
    """How malloc was left by ``import nanoae`` (``nanoae.backend.keep_freed_memory``), for the report."""
    if os.environ.get("NANOAE_DEFAULT_MALLOC"):
        return "default malloc"
    return "malloc keeps freed memory" if nanoae.backend.keep_freed_memory() else "default malloc (not glibc)"


def machine():
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        names = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (f"{cpu}, {os.cpu_count()} CPUs; Python {platform.python_version()}, NumPy {np.__version__}, "
            f"nanoae {nanoae.__version__}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100, help="steps per timed chunk")
    parser.add_argument("--rounds", type=int, default=7, help="chunks (or epochs, with --full) of each")
    parser.add_argument("--full", action="store_true", help="time whole epochs, alternately")
    parser.add_argument("--gpu", action="store_true", help="also time nanoae on CuPy and PyTorch on CUDA")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch on the CPU out")
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc's malloc as it is (noisier: see the docstring)")
    args = parser.parse_args()
    malloc = malloc_setting()

    steps_per_epoch = math.ceil(EPOCH_IMAGES / args.batch)
    rng = np.random.default_rng(0)
    # Random pixels in [0, 1]: the time per step does not depend on what the images show.
    batches = [rng.random((args.batch, 784), dtype=np.float32) for _ in range(min(32, steps_per_epoch))]
    last = EPOCH_IMAGES - (steps_per_epoch - 1) * args.batch  # the last batch may be smaller
    epoch = [batches[i % len(batches)] for i in range(steps_per_epoch - 1)] + [batches[0][:last]]

    model, optimizer = build_nanoae()
    weights = [p.numpy().copy() for p in model.parameters()]
    contenders = {}
    if args.gpu and not nanoae.backend.cupy_available():
        parser.error("--gpu needs CuPy and a CUDA GPU")
    eps = rng.standard_normal((args.batch, 20), dtype=np.float32)
    expected = gradients_on_one_batch(model, batches[0], eps)  # every other contender must give these
    model.zero_grad()
    if not args.no_torch and torch_installed():
        import torch
        torch.set_num_threads(os.cpu_count())
        print(f"PyTorch {torch.__version__} on the CPU, {torch.get_num_threads()} threads")
        contenders["PyTorch CPU"] = torch_contender(weights, batches, expected, batches[0], eps, "cpu")
    if args.gpu:  # checked against nanoae on NumPy before any of them takes a step
        contenders.update(gpu_contenders(weights, batches, expected, batches[0], eps))
    nanoae.manual_seed(NOISE_SEED)
    reference = NumpyVAE(weights, NOISE_SEED)
    ours, theirs = check_same_computation(model, optimizer, reference, batches)

    def nanoae_fn(x):
        return nanoae_step(model, optimizer, x)

    print(f"VAE 784-400-20 (ReLU), Adam 1e-3, batch {args.batch}, float32; {machine()}; {malloc}")
    print(f"same gradients, and same losses for {len(ours)} steps: nanoae {ours[-1]:.4f}, "
          f"NumPy {theirs[-1]:.4f} at the last")
    runs = {"nanoae": (nanoae_fn, batches, epoch, None), "NumPy": (reference.step, batches, epoch, None)}
    for name, (fn, device_batches, sync) in contenders.items():
        device_epoch = [device_batches[i % len(device_batches)] for i in range(steps_per_epoch - 1)]
        runs[name] = (fn, device_batches, device_epoch + [device_batches[0][:last]], sync)
        timed(fn, device_batches, 10, sync)  # warm up: CUDA kernels are compiled on first use
    times = {name: [] for name in runs}
    for r in range(args.rounds):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))  # none always goes first
        for name in order:
            fn, device_batches, device_epoch, sync = runs[name]
            hand_over(lambda: fn(device_batches[-1]), sync)
            if args.full:
                times[name].append(timed(fn, device_epoch, len(device_epoch), sync))
            else:
                times[name].append(timed(fn, device_batches, args.steps, sync) / args.steps)
    if args.full:
        print(f"{args.rounds} whole epochs of {EPOCH_IMAGES} images ({steps_per_epoch} steps) each:")
        epoch_s = {name: statistics.median(t) for name, t in times.items()}
    else:
        print(f"{args.rounds} chunks of {args.steps} steps each; an epoch is {steps_per_epoch} steps:")
        epoch_s = {name: statistics.median(t) * steps_per_epoch for name, t in times.items()}
    for name, seconds in epoch_s.items():
        print(f"  {name:<14}{seconds:8.2f} s/epoch  ({seconds / steps_per_epoch * 1000:6.2f} ms/step, median)")

    def paired(other):
        """The ratio round by round (see round_ratios): its median and range."""
        ratios = round_ratios(times["nanoae"], times[other])
        return f"  (round by round: median {statistics.median(ratios):.3f}, {ratios[0]:.3f} to {ratios[-1]:.3f})"

    print(f"  ratio nanoae / NumPy = {epoch_s['nanoae'] / epoch_s['NumPy']:.3f}{paired('NumPy')}")
    if "PyTorch CPU" in epoch_s:
        print(f"  ratio nanoae / PyTorch CPU = {epoch_s['nanoae'] / epoch_s['PyTorch CPU']:.3f}{paired('PyTorch CPU')}")
    if "nanoae CuPy" in epoch_s:
        print(f"  speed-up of nanoae on the GPU: nanoae NumPy / nanoae CuPy = "
              f"{epoch_s['nanoae'] / epoch_s['nanoae CuPy']:.2f}")
    if "PyTorch CUDA" in epoch_s:
        print(f"  ratio nanoae CuPy / PyTorch CUDA = {epoch_s['nanoae CuPy'] / epoch_s['PyTorch CUDA']:.2f}")


if __name__ == "__main__":
    main()
