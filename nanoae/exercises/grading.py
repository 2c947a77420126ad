"""How a grader works: the Grade it returns, the comparisons, and what it watches.

A grader is a function ``check(student_fn)`` turned by :func:`grader` into
one that never raises and returns a :class:`Grade` (PASS, FAIL or TODO).
While it runs the student's function it

- notes any call to the library function the exercise asks the student to
  write (``F.gaussian_kl`` for the KL exercise): calling it is a FAIL that
  says so, because it would pass without any of the student's own work;
- turns a crash in the student's code into a FAIL that shows the line of the
  student's cell where it happened.

Under nbgrader's autograder (it sets ``NBGRADER_EXECUTION``) a grade other
than PASS raises AssertionError, which is how nbgrader sees a failed test
cell; in a notebook run by a student the grade is only shown.
"""
import functools
import os
import sys
import sysconfig
import traceback
from pathlib import Path

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


def grader(exercise, forbidden=()):
    """Turn ``check(student_fn, ...) -> detail`` into a grader that returns a :class:`Grade`.

    ``check`` returns a short description of what matched, or raises
    :class:`Mismatch`. Any other exception raised by the student's code is a
    FAIL that names the exception and the line of the student's code it came
    from; NotImplementedError means not written yet. ``forbidden`` lists the
    library functions that do what the exercise asks: a student function that
    calls one of them FAILs, saying which.
    """
    def decorate(check):
        @functools.wraps(check)
        def grade(student_fn, *args, **kwargs):
            try:
                result = Grade(exercise, "PASS", check(watched(student_fn, forbidden), *args, **kwargs))
            except NotImplementedError:
                result = Grade(exercise, "TODO", "not written yet (the function raises NotImplementedError)")
            except Mismatch as e:
                result = Grade(exercise, "FAIL", str(e))
            except Exception as e:  # the student's code crashed: say how and where, don't stop the notebook
                result = Grade(exercise, "FAIL", f"your function raised {type(e).__name__}: {e}"
                                                 f"{where_in_your_code(e.__traceback__)}")
            if os.environ.get("NBGRADER_EXECUTION") and not result.passed:
                raise AssertionError(repr(result))  # nbgrader counts a test cell that raises as failed
            return result
        return grade
    return decorate


def watched(student_fn, forbidden):
    """``student_fn``, run so that a call to any of the ``forbidden`` functions is noticed.

    Python's profiler hook (:func:`sys.setprofile`) sees every Python function
    call while the student's function runs; a call whose code object is a
    forbidden function's is one the exercise rules out, however the student
    reached it (``F.gaussian_kl``, ``from nanoae.functional import gaussian_kl``,
    a helper of their own that calls it).
    """
    if not forbidden:
        return student_fn
    names = {fn.__code__: f"{fn.__module__}.{fn.__qualname__}" for fn in forbidden}

    @functools.wraps(student_fn)
    def run(*args, **kwargs):
        called = []

        def notice(frame, event, arg):
            if event == "call" and frame.f_code in names:
                called.append(names[frame.f_code])
        previous = sys.getprofile()
        sys.setprofile(notice)
        try:
            return student_fn(*args, **kwargs)
        finally:
            sys.setprofile(previous)
            if called:  # said even when the student's function then crashed: the call is the first thing to fix
                    raise Mismatch(f"your function calls {called[0]}, which does this exercise for you: write it "
                               f"yourself, with the operations the exercise names")
    return run


_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_INSTALLED_DIRS = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")})


def where_in_your_code(tb):
    """" at line N of your cell: <the line>" for the deepest frame of ``tb`` in the student's code, or "".

    The student's code is whatever is neither nanoae nor an installed package
    (NumPy, the standard library): in a notebook, the cells.
    """
    for frame in reversed(traceback.extract_tb(tb)):
        path = str(Path(frame.filename).resolve()) if not frame.filename.startswith("<") else frame.filename
        if path.startswith(_PACKAGE_DIR) or path.startswith(_INSTALLED_DIRS):
            continue
        line = f": {frame.line.strip()}" if frame.line else ""
        return f" (at line {frame.lineno} of your cell{line})"
    return ""


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
