"""The graders' reference values: numbers for fixed inputs, not the formulas that made them.

A grader must not hold the answer in a form a student can read and copy. So
where an exercise needs a reference value (a KL, a z, a score), the grader
builds its inputs from a fixed seed, and compares the student's answer with
the value stored for those inputs in ``values/<chapter>.npz``. The same file
holds the answers that the common mistakes give on those inputs, so a wrong
answer can be named ("the factor 1/2 is missing") without the grader knowing
how to compute either.

The values are written by the instructors' scripts in the repository
(``tests/exercise_values/``), from the formulas, and the test suite checks
that the stored file matches them and that every stored mistake has a hint.

Keys in the file: ``<exercise>/<case>/expected`` and
``<exercise>/<case>/mistake/<name>``; ``case`` counts the grader's input
cases from 0. The file is read without pickle.
"""
from pathlib import Path

from nanoae import backend
from nanoae.exercises.grading import Mismatch, compare, diagnose

VALUES_DIR = Path(__file__).resolve().parent / "values"


class StoredValues:
    """The stored reference values of one chapter's exercises, read on first use."""

    def __init__(self, chapter):
        self.chapter = chapter
        self.path = VALUES_DIR / f"{chapter}.npz"
        self._arrays = None

    def arrays(self):
        """Every stored array, by key."""
        if self._arrays is None:
            if not self.path.is_file():
                raise FileNotFoundError(f"{self.path}: the graders' stored values are missing; "
                                        f"reinstall nanoae (pip install -e .)")
            with backend.array_module_for("cpu").load(self.path, allow_pickle=False) as archive:
                self._arrays = {key: archive[key] for key in archive.files}
        return self._arrays

    def expected(self, exercise, case):
        """The right answer for input case ``case`` of ``exercise``."""
        return self.arrays()[f"{exercise}/{case}/expected"]

    def mistakes(self, exercise, case):
        """{mistake name: the answer that mistake gives} for input case ``case`` of ``exercise``."""
        prefix = f"{exercise}/{case}/mistake/"
        return {key[len(prefix):]: value for key, value in self.arrays().items() if key.startswith(prefix)}

    def check(self, got, exercise, case, hints, tol, what="your answer"):
        """Compare ``got`` with the stored answer; return the relative error, or raise a Mismatch.

        On a mismatch, ``got`` is compared with each stored mistake, and the
        Mismatch says ``hints[name]`` for the first one it equals.
        """
        try:
            return compare(got, self.expected(exercise, case), tol, what)
        except Mismatch as mismatch:
            diagnose(got, [(value, hints[name]) for name, value in self.mistakes(exercise, case).items()],
                     mismatch)
