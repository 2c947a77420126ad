"""Graders for the chapter exercises.

Each chapter notebook ends with exercises: the student writes a function in
a marked cell (a backward, a loss, the KL, ...) and the next cell grades it::

    from nanoae.exercises import ch04_sparse as exercises
    exercises.grade_sparsity_kl(sparsity_kl)

A grader calls the student's function on random inputs of both signs,
compares its answer with an independent reference (a closed form, finite
differences through :func:`nanoae.gradcheck`, or nanoae's own autograd) and
returns a :class:`Grade`, which shows as one line::

    PASS  sparsity_kl: max relative error 3.1e-12 (allowed 1e-06)
    FAIL  sparsity_kl: your answer at index (3,): yours 0.41, expected -0.12 (relative error 1, allowed 1e-06)
    TODO  sparsity_kl: not written yet (the function raises NotImplementedError)

A grader never raises, so a notebook with unfinished exercises still runs to
the end. Reference solutions are in ``notebooks/solutions/``, one file per
chapter with the same function names; ``tests/test_exercises_ch*.py`` show that
every grader passes them and fails planted wrong answers.

| file | chapter |
| --- | --- |
| ``ch00_backprop.py`` ... ``ch13_pytorch.py`` | one file of graders per chapter notebook |
"""
import functools

from nanoae import backend
from nanoae.gradcheck import GradcheckError, gradcheck
from nanoae.autograd import Tensor


class Mismatch(Exception):
    """The student's answer differs from the reference; the message says where and by how much."""


class Grade:
    """The outcome of one exercise: ``status`` is ``"PASS"``, ``"FAIL"`` or ``"TODO"``."""

    def __init__(self, exercise, status, detail):
        self.exercise, self.status, self.detail = exercise, status, detail

    @property
    def passed(self):
        return self.status == "PASS"

    def __repr__(self):
        return f"{self.status}  {self.exercise}: {self.detail}"


def grader(exercise):
    """Turn ``check(student_fn) -> detail`` into a grader that returns a :class:`Grade`.

    ``check`` returns a short description of what matched, or raises
    :class:`Mismatch`. Any other exception raised by the student's code is a
    FAIL that names the exception; NotImplementedError means not written yet.
    """
    def decorate(check):
        @functools.wraps(check)
        def grade(*args, **kwargs):
            try:
                return Grade(exercise, "PASS", check(*args, **kwargs))
            except NotImplementedError:
                return Grade(exercise, "TODO", "not written yet (the function raises NotImplementedError)")
            except Mismatch as e:
                return Grade(exercise, "FAIL", str(e))
            except Exception as e:  # the student's code crashed: say how, don't stop the notebook
                return Grade(exercise, "FAIL", f"your function raised {type(e).__name__}: {e}")
        return grade
    return decorate


def as_numpy(value):
    """A NumPy float64 array from a Tensor, a NumPy or CuPy array, or a number."""
    if isinstance(value, Tensor):
        value = value.data
    return backend.to_numpy(value).astype("float64")


def compare(got, expected, tol=1e-6, what="your answer"):
    """Return the largest relative error between ``got`` and ``expected``, or raise Mismatch.

    The relative error of two numbers is |a - b| / max(1e-8, |a| + |b|): about
    1e-16 when they agree to float64 precision, 1 when they have opposite signs.
    """
    got, expected = as_numpy(got), as_numpy(expected)
    if got.shape != expected.shape:
        raise Mismatch(f"{what} has shape {got.shape}, expected {expected.shape}")
    if got.size == 0:
        return 0.0
    shape = got.shape
    got, expected = got.reshape(-1), expected.reshape(-1)  # 0-d arrays too: arithmetic on them gives scalars
    error = abs(got - expected) / (abs(got) + abs(expected)).clip(min=1e-8)
    error[~(abs(got) < float("inf"))] = float("inf")  # nan or inf in the answer never passes
    worst = int(error.argmax())
    if error.flat[worst] > tol:
        index = _unravel(worst, shape)
        raise Mismatch(f"{what} at index {index}: yours {got[worst]:.6g}, expected "
                       f"{expected[worst]:.6g} (relative error {error[worst]:.2g}, "
                       f"allowed {tol:g})")
    return float(error.max())


def diagnose(got, mistakes, mismatch):
    """Re-raise ``mismatch``, naming the first planted mistake that ``got`` equals (to 1e-6).

    ``mistakes`` is a list of (wrong answer, what the student probably did);
    a wrong answer may be None (a mistake that cannot be built for these
    shapes), and one with a different number of elements cannot match.
    """
    got = as_numpy(got)
    for wrong, hint in mistakes:
        if wrong is not None and as_numpy(wrong).size == got.size \
                and matches(got, as_numpy(wrong).reshape(got.shape)):
            raise Mismatch(f"{hint} ({mismatch})") from None
    raise mismatch


def matches(got, wrong):
    """Whether answer ``got`` equals the mistaken answer ``wrong`` (same shape, values to 1e-6)."""
    got, wrong = as_numpy(got), as_numpy(wrong)
    if wrong.shape != got.shape:
        return False
    return float(abs(got - wrong).max()) <= 1e-6 * max(1e-12, float(abs(wrong).max()))


def scalar_answer(out, hint=""):
    """The student's one-number answer as a (1,) float64 array; it must be a Tensor of one element."""
    if not isinstance(out, Tensor):
        raise Mismatch(f"return a Tensor built with nanoae operations (so that training can backpropagate "
                       f"through it), got {type(out).__name__}")
    got = as_numpy(out)
    if got.size != 1:
        raise Mismatch(f"return one number for the batch (a scalar Tensor), got shape {got.shape}{hint}")
    return got.reshape(1)


def _unravel(flat, shape):
    """The multi-index of element ``flat`` of an array of ``shape`` (row-major order)."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))


def passed_within(error, tol):
    """The detail line of a PASS from a relative error."""
    return f"max relative error {error:.2g} (allowed {tol:g})"


def check_gradients(fn, inputs, names):
    """Run :func:`nanoae.gradcheck` on ``fn(*inputs)``; a GradcheckError becomes a Mismatch."""
    try:
        gradcheck(fn, inputs, names=names)
    except GradcheckError as e:
        raise Mismatch(str(e)) from None
    return "backward matches finite differences (random upstream gradient, float64)"


def random_array(shape, seed, low=None, high=None):
    """Float64 test inputs from a generator of the grader's own (the student's random state is untouched).

    Standard normal (both signs) by default, uniform in [low, high) when given.
    """
    rng = backend.new_generator(seed)
    if low is not None:
        return rng.uniform(low, high, size=shape)
    return rng.standard_normal(shape)
