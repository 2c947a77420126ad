"""What every grader does (nanoae/exercises/grading.py): it rules out the library call that does the
exercise however it is reached, shows the line of the student's code that crashed, and raises only
under nbgrader's autograder."""
import numpy as np
import pytest

import nanoae
from nanoae import functional as F
from nanoae.exercises import Mismatch, grader, where_in_your_code
from nanoae.functional import gaussian_kl as imported_under_its_name


@grader("kl", forbidden=(F.gaussian_kl,))
def grade_kl(kl):
    mu = nanoae.Tensor(np.random.default_rng(0).standard_normal((3, 2)))
    value = kl(mu, mu * 0).item()
    if not value > 0:
        raise Mismatch(f"the KL of a shifted Gaussian is positive, got {value}")
    return "positive"


def test_a_grader_passes_an_answer_of_the_students_own():
    assert grade_kl(lambda mu, log_var: (0.5 * mu * mu).sum() / len(mu)).passed


@pytest.mark.parametrize("how", ["module attribute", "imported name", "inside a helper"])
def test_a_grader_fails_the_forbidden_library_call_however_it_is_reached(how):
    def helper(mu, log_var):
        return imported_under_its_name(mu, log_var)
    student = {"module attribute": lambda mu, log_var: F.gaussian_kl(mu, log_var),
               "imported name": lambda mu, log_var: imported_under_its_name(mu, log_var),
               "inside a helper": lambda mu, log_var: helper(mu, log_var) * 1.0}[how]
    grade = grade_kl(student)
    assert grade.status == "FAIL" and "calls nanoae.functional.gaussian_kl" in grade.detail, grade


def test_the_watch_is_removed_after_the_students_function_returns():
    import sys
    before = sys.getprofile()
    grade_kl(lambda mu, log_var: F.gaussian_kl(mu, log_var))
    assert sys.getprofile() is before


def test_a_crash_in_the_students_code_names_the_exception_and_the_line():
    def student(mu, log_var):
        total = mu.sum()
        return total / undefined_name  # noqa: F821  (the planted bug)
    grade = grade_kl(student)
    assert grade.status == "FAIL"
    assert "NameError" in grade.detail and "return total / undefined_name" in grade.detail, grade
    assert "at line" in grade.detail


def test_a_crash_inside_nanoae_is_reported_at_the_students_line_that_called_it():
    def student(mu, log_var):
        bad = mu @ nanoae.Tensor(np.ones((5, 5)))     # (3, 2) @ (5, 5): a shape error raised inside the engine
        return bad.sum()
    grade = grade_kl(student)
    assert grade.status == "FAIL" and "bad = mu @ nanoae.Tensor" in grade.detail, grade


def test_a_numpy_function_on_a_tensor_fails_with_the_hint():
    grade = grade_kl(lambda mu, log_var: np.sum(mu * mu))
    assert grade.status == "FAIL" and "x.exp()" in grade.detail and "np.sum" in grade.detail, grade


def test_where_in_your_code_is_empty_when_only_library_frames_are_left():
    try:
        np.zeros(2).reshape(3)
    except ValueError as e:
        assert "line" in where_in_your_code(e.__traceback__)   # this test's own frame is "your code"
    assert where_in_your_code(None) == ""


def test_under_nbgrader_a_grade_that_does_not_pass_raises(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert grade_kl(lambda mu, log_var: (0.5 * mu * mu).sum()).passed
    with pytest.raises(AssertionError, match="FAIL  kl"):
        grade_kl(lambda mu, log_var: -(mu * mu).sum())

    def unwritten(mu, log_var):
        raise NotImplementedError
    with pytest.raises(AssertionError, match="TODO  kl"):
        grade_kl(unwritten)


def test_outside_nbgrader_a_failing_grade_is_returned_not_raised(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert grade_kl(lambda mu, log_var: -(mu * mu).sum()).status == "FAIL"


def test_a_forbidden_call_is_named_even_when_the_students_function_then_crashes():
    def student(mu, log_var):
        F.gaussian_kl(mu, log_var)
        return 1 / 0
    grade = grade_kl(student)
    assert grade.status == "FAIL" and "calls nanoae.functional.gaussian_kl" in grade.detail, grade
