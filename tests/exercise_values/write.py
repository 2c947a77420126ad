"""Write the graders' stored values from the formulas in this folder.

    python tests/exercise_values/write.py            # every chapter
    python tests/exercise_values/write.py ch06_vae   # one

For each chapter file here (named as its graders in nanoae/exercises/), every
public function is an exercise: it is called for each of the grader's input
cases (``CASES`` in the grader module) and what it returns is stored under
``<exercise>/<case>/<key>`` in nanoae/exercises/values/<chapter>.npz, less the
mistakes that give the same answer as the right one or an earlier mistake on
that case (:func:`distinct`).
tests/test_exercise_values.py checks that the stored file is what this
script would write, so run it after changing a formula or the inputs.
"""
import importlib
import inspect
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from nanoae.exercises.stored import VALUES_DIR  # noqa: E402
from nanoae.serialization import atomic_write  # noqa: E402


def chapters():
    """The chapter names that have a file of formulas here."""
    return sorted(p.stem for p in HERE.glob("ch[0-9][0-9]_*.py"))


def values(chapter):
    """{key: float64 array} of every exercise of ``chapter``, every case."""
    formulas = importlib.import_module(f"exercise_values.{chapter}")
    graders = importlib.import_module(f"nanoae.exercises.{chapter}")
    stored = {}
    for name, function in inspect.getmembers(formulas, inspect.isfunction):
        if name.startswith("_") or function.__module__ != formulas.__name__:
            continue
        for case in range(len(graders.CASES)):
            for key, value in distinct(function(case)).items():
                stored[f"{name}/{case}/{key}"] = value
    return stored


def distinct(answers):
    """``answers`` as float64 arrays, less each mistake that gives the right answer or an earlier mistake's.

    Such a mistake cannot be told apart on this case's inputs (the grader names
    it on a case where it differs), so it is left out of this case's store.
    """
    kept = {}
    for key, value in answers.items():
        value = np.atleast_1d(np.asarray(value, dtype=np.float64))
        if not any(v.shape == value.shape and np.allclose(v, value, rtol=1e-6, atol=0) for v in kept.values()):
            kept[key] = value
    return kept


def write(chapter):
    path = VALUES_DIR / f"{chapter}.npz"
    with atomic_write(path) as f:
        np.savez(f, **values(chapter))
    return path


if __name__ == "__main__":
    for chapter in sys.argv[1:] or chapters():
        print(write(chapter))
