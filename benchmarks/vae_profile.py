"""Where does the time of a VAE training step go: arithmetic, or the engine around it?

``vae_epoch.py`` says how long a step takes; this script says where the time
goes. The same VAE (784-400-20, ReLU, batch 128, float32, Adam 1e-3), from
the same weights, three ways, taking turns in rounds (each turn after
``vae_epoch.hand_over``'s pause):

- nanoae, phase by phase: forward (``model.loss``), backward,
  ``optimizer.step()``. Then, in turns of their own, the time each op spends
  inside its own ``forward`` and ``backward`` methods: that is where the
  arithmetic is. What the phases take beyond it is the engine's bookkeeping:
  making Tensors, recording each op's inputs and checking them in backward,
  ordering the graph, handing gradients on.
- NumPy by hand (``vae_epoch.NumpyVAE``): forward and backward in one
  function, then Adam (the same lean update as nanoae's).
- PyTorch on the CPU, where it is installed: forward, backward, step.

Then the VAE shrunk to 8-4-2 at batch 2, where the arithmetic costs next to
nothing: there, nanoae's step minus NumPy's is the engine's cost per step
when no array is big enough to push the interpreter out of the caches.

The op timers (a clock read before and after each call, about 0.2 µs) run
only in their own turns, whose times per op are averaged; the phases are
timed without them, and their medians over the rounds are printed.

    python benchmarks/vae_profile.py [--steps 50] [--rounds 7] [--no-torch]
"""
import argparse
import collections
import contextlib
import os
import statistics
import time

import numpy as np

import nanoae
from nanoae.autograd import Function
from vae_epoch import NOISE_SEED, NumpyVAE, build_nanoae, hand_over, machine, torch_installed, torch_vae

clock = time.perf_counter


def function_classes(base=Function):
    """Every op class there is: the subclasses of Function, and theirs."""
    for cls in base.__subclasses__():
        yield cls
        yield from function_classes(cls)


@contextlib.contextmanager
def ops_timed(seconds, calls):
    """Inside, each op's own ``forward`` and ``backward`` add their time to
    ``seconds[(op name, "forward" or "backward")]`` and one to ``calls[...]``. A method
    that calls another timed one (``super().forward(...)``) is counted once, by the outer call."""
    depth = [0]

    def timed(method, key):
        def wrapper(self, *args):
            depth[0] += 1
            start = clock()
            try:
                return method(self, *args)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    seconds[key] += clock() - start
                    calls[key] += 1
        return wrapper

    patched = [(cls, name, vars(cls)[name]) for cls in set(function_classes())
               for name in ("forward", "backward") if name in vars(cls)]
    for cls, name, method in patched:
        setattr(cls, name, timed(method, (cls.__name__, name)))
    try:
        yield
    finally:
        for cls, name, method in patched:
            setattr(cls, name, method)


def training_phases(loss_of, optimizer):
    """A step as nanoae and PyTorch users write it, timed phase by phase; ``loss_of(x)`` is the loss tensor."""
    def step(x):
        start = clock()
        optimizer.zero_grad()
        loss = loss_of(x)
        forwarded = clock()
        loss.backward()
        backwarded = clock()
        optimizer.step()
        stepped = clock()
        loss.item()
        return {"forward": forwarded - start, "backward": backwarded - forwarded, "optimizer": stepped - backwarded}
    return step


def nanoae_phases(model, optimizer):
    return training_phases(lambda x: model.loss(nanoae.Tensor(x))[0], optimizer)


def numpy_phases(reference):
    def step(x):
        start = clock()
        _, grads = reference.loss_and_gradients(x)
        differentiated = clock()
        reference.adam(grads)
        return {"forward + backward": differentiated - start, "optimizer": clock() - differentiated}
    return step


def take_turns(contenders, rounds, steps):
    """{name: {phase: median seconds per step}}. ``contenders`` maps a name to
    (step function returning {phase: seconds}, its batches, a context to run in)."""
    per_round = {name: collections.defaultdict(list) for name in contenders}
    for r in range(rounds):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            step, batches, context = contenders[name]
            hand_over(lambda: step(batches[-1]))
            sums = collections.Counter()
            with context():
                for i in range(steps):
                    sums.update(step(batches[i % len(batches)]))
            for phase, seconds in sums.items():
                per_round[name][phase].append(seconds / steps)
    return {name: {phase: statistics.median(values) for phase, values in phases.items()}
            for name, phases in per_round.items()}


def milliseconds(seconds):
    return f"{seconds * 1e3:6.2f} ms"


def short_time(seconds):
    return milliseconds(seconds) if seconds >= 1e-3 else f"{seconds * 1e6:6.1f} µs"


def profile_full_size(args, rng):
    model, optimizer = build_nanoae()
    weights = [p.numpy().copy() for p in model.parameters()]
    batches = [rng.random((args.batch, 784), dtype=np.float32) for _ in range(16)]
    op_seconds, op_calls = collections.Counter(), collections.Counter()
    contenders = {
        "nanoae": (nanoae_phases(model, optimizer), batches, contextlib.nullcontext),
        # the same step in turns of its own, its ops timed (the phases it reports are not used)
        "nanoae, ops timed": (nanoae_phases(model, optimizer), batches, lambda: ops_timed(op_seconds, op_calls)),
        "NumPy by hand": (numpy_phases(NumpyVAE(weights, NOISE_SEED)), batches, contextlib.nullcontext),
    }
    if not args.no_torch and torch_installed():
        import torch
        torch.set_num_threads(os.cpu_count())
        net, torch_optimizer = torch_vae(weights, "cpu")
        contenders["PyTorch CPU"] = (training_phases(net.loss, torch_optimizer), [torch.from_numpy(b) for b in batches],
                                     contextlib.nullcontext)
    medians = take_turns(contenders, args.rounds, args.steps)
    timed_steps = args.rounds * args.steps
    ops = {key: seconds / timed_steps for key, seconds in op_seconds.items()}

    print(f"VAE 784-400-20 (ReLU), Adam, batch {args.batch}, float32; {machine()}")
    print(f"median per step over {args.rounds} rounds of {args.steps} steps:")
    for name in ("nanoae", "NumPy by hand", "PyTorch CPU"):
        if name in medians:
            phases = medians[name]
            cells = "   ".join(f"{phase} {milliseconds(s)}" for phase, s in phases.items())
            print(f"  {name:<14} {cells}   step {milliseconds(sum(phases.values()))}")

    print("nanoae's ops, inside their own forward and backward (mean per step over their turns):")
    by_op = collections.defaultdict(dict)
    for (op, method), seconds in ops.items():
        by_op[op][method] = seconds
    for op, methods in sorted(by_op.items(), key=lambda item: -sum(item[1].values())):
        cells = "   ".join(f"{method} {short_time(methods[method])}" for method in ("forward", "backward")
                           if method in methods)
        print(f"  {op:<16} x{op_calls[op, 'forward'] // timed_steps}   {cells}")
    in_ops = sum(ops.values())
    ours = medians["nanoae"]["forward"] + medians["nanoae"]["backward"]
    print(f"  all ops        {milliseconds(in_ops)} of nanoae's forward + backward, {milliseconds(ours)}: the "
          f"engine's bookkeeping is the other {milliseconds(ours - in_ops).strip()}")
    print(f"  NumPy by hand's forward + backward, the same arithmetic: "
          f"{milliseconds(medians['NumPy by hand']['forward + backward'])}")
    return in_ops, ours


def profile_shrunk(args, rng):
    """nanoae and NumPy on the VAE shrunk to 8-4-2 at batch 2: almost nothing but bookkeeping."""
    model, optimizer = build_nanoae(sizes=(8, 4, 2))
    reference = NumpyVAE([p.numpy().copy() for p in model.parameters()], NOISE_SEED)
    batches = [rng.random((2, 8), dtype=np.float32) for _ in range(16)]
    contenders = {"nanoae": (nanoae_phases(model, optimizer), batches, contextlib.nullcontext),
                  "NumPy by hand": (numpy_phases(reference), batches, contextlib.nullcontext)}
    medians = take_turns(contenders, args.rounds, args.steps * 10)
    steps = {name: sum(phases.values()) for name, phases in medians.items()}
    print("the VAE shrunk to 8-4-2, batch 2, where arithmetic costs next to nothing (median per step):")
    print(f"  nanoae {steps['nanoae'] * 1e6:.0f} µs, NumPy by hand {steps['NumPy by hand'] * 1e6:.0f} µs: the "
          f"engine's own cost is about {(steps['nanoae'] - steps['NumPy by hand']) * 1e6:.0f} µs per step")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50, help="steps per turn")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    profile_full_size(args, rng)
    profile_shrunk(args, rng)


if __name__ == "__main__":
    main()
