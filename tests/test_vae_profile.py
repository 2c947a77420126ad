"""benchmarks/vae_profile.py: its op timer counts each op once and leaves the ops as they were,
and a short run prints where the step's time goes."""
import collections
import os
import re
import subprocess
import sys

import numpy

from nanoae import Tensor
from nanoae.autograd import Function

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import vae_profile  # noqa: E402  (a script of benchmarks/, importable once that folder is on the path)


class Double(Function):
    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return 2 * gy


class DoubleThenAddOne(Double):   # calls the timed forward of its parent: counted once, as itself
    def forward(self, x):
        return super().forward(x) + 1


def test_ops_timed_counts_each_call_once_under_its_own_name_and_restores_the_methods():
    originals = (Double.forward, Double.backward, DoubleThenAddOne.forward)
    seconds, calls = collections.Counter(), collections.Counter()
    x = Tensor(numpy.array([-1.5, 2.0]), requires_grad=True)
    with vae_profile.ops_timed(seconds, calls):
        y = DoubleThenAddOne()(Double()(x))
        y.backward(Tensor(numpy.array([0.5, -3.0])))
    assert numpy.allclose(y.data, [-5.0, 9.0]) and numpy.allclose(x.grad.data, [2.0, -12.0])
    assert calls["Double", "forward"] == 1 and calls["DoubleThenAddOne", "forward"] == 1
    assert calls["Double", "backward"] == 2    # DoubleThenAddOne inherits it: the method's owner is named
    assert set(calls) == set(seconds) and all(s > 0 for s in seconds.values())
    assert (Double.forward, Double.backward, DoubleThenAddOne.forward) == originals


def test_a_short_run_names_the_ops_of_a_vae_step_and_the_engines_share():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=ROOT)
    run = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "vae_profile.py"),
                          "--steps", "2", "--rounds", "1", "--no-torch"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert re.search(r"Linear +x5 +forward +[\d.]+ (ms|µs) +backward", run.stdout), run.stdout
    assert re.search(r"BCEWithLogits +x1 ", run.stdout), run.stdout
    assert re.search(r"Relu +x2 ", run.stdout), run.stdout
    assert re.search(r"the engine's bookkeeping is the other", run.stdout), run.stdout
    assert re.search(r"nanoae \d+ µs, NumPy by hand \d+ µs", run.stdout), run.stdout
