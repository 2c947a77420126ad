"""The graders' stored values are what the formulas in tests/exercise_values/ give, and every
stored mistake has a hint in its grader module (so a wrong answer is always named).

If a test here fails after a formula or the inputs changed, rewrite the stored
values: python tests/exercise_values/write.py CHAPTER
"""
import importlib
import importlib.util

import numpy as np
import pytest

from exercise_values import write
from nanoae.exercises.stored import StoredValues

TORCH_MISSING = importlib.util.find_spec("torch") is None


def chapters():
    """Every chapter with stored values; chapter 13's graders import PyTorch, so it skips where PyTorch is missing."""
    for chapter in write.chapters():
        marks = [pytest.mark.skipif(TORCH_MISSING, reason='needs PyTorch: pip install -e ".[torch]"')] \
            if chapter.startswith("ch13") else []
        yield pytest.param(chapter, id=chapter, marks=marks)


@pytest.mark.parametrize("chapter", list(chapters()))
def test_stored_values_are_what_the_formulas_give(chapter):
    stored = StoredValues(chapter).arrays()
    fresh = write.values(chapter)
    assert sorted(stored) == sorted(fresh), f"run: python tests/exercise_values/write.py {chapter}"
    for key, value in fresh.items():
        np.testing.assert_allclose(stored[key], value, rtol=1e-12, atol=1e-300, err_msg=key)


@pytest.mark.parametrize("chapter", list(chapters()))
def test_every_stored_mistake_has_a_hint_and_every_hint_a_stored_mistake(chapter):
    graders = importlib.import_module(f"nanoae.exercises.{chapter}")
    stored = {(key.split("/")[0], key.split("/")[-1]) for key in StoredValues(chapter).arrays() if "/mistake/" in key}
    hinted = {(exercise, name) for exercise, hints in graders.MISTAKES.items() for name in hints}
    assert stored <= hinted, f"stored mistakes without a hint in {chapter}.MISTAKES: {sorted(stored - hinted)}"
    stored_exercises = {exercise for exercise, _ in stored}
    unused = {(e, n) for e, n in hinted - stored if e in stored_exercises}
    assert not unused, f"hints in {chapter}.MISTAKES with no stored answer: {sorted(unused)}"


@pytest.mark.parametrize("chapter", list(chapters()))
def test_no_two_stored_answers_of_a_case_are_equal(chapter):
    """A mistake that gives the right answer on the grader's inputs could never be named; two equal
    mistakes would always be named as the first."""
    arrays = StoredValues(chapter).arrays()
    cases = {}
    for key, value in arrays.items():
        cases.setdefault(key.split("/mistake/")[0].rsplit("/expected", 1)[0], []).append((key, value))
    for case, answers in cases.items():
        for i, (key_a, a) in enumerate(answers):
            for key_b, b in answers[i + 1:]:
                same = a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=0)
                assert not same, f"{key_a} and {key_b} are equal on the grader's inputs"
