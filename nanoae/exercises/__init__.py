"""Graders for the chapter exercises.

Each chapter notebook ends with exercises: the student writes a function in
a marked cell (a backward, a loss, the KL, ...) and the next cell grades it::

    from nanoae.exercises import ch04_sparse as exercises
    exercises.grade_sparsity_kl(sparsity_kl)

A grader calls the student's function on fixed inputs of both signs and
checks the answer without holding the answer itself: a backward is checked
by :func:`nanoae.gradcheck` against the student's own forward, a property
that any right answer has is checked directly, and where a reference value
is needed it is a number stored for those inputs (``stored.py``), not a
formula. It returns a :class:`Grade`, which shows as one line::

    PASS  sparsity_kl: max relative error 3.1e-12 (allowed 1e-06)
    FAIL  sparsity_kl: the factor rho / rho_hat has its sign flipped (your answer at index (3,): ...)
    TODO  sparsity_kl: not written yet (the function raises NotImplementedError)

A grader never raises (except under nbgrader's autograder, which needs a
failing test cell to raise), so a notebook with unfinished exercises still
runs to the end. When an answer is wrong, the grader names the common
mistake it matches.

| file | what is inside |
| --- | --- |
| ``grading.py`` | ``Grade``, the ``grader`` decorator (forbidden library calls, the student's line in a crash), comparisons |
| ``stored.py`` | ``StoredValues``: the reference values for fixed inputs, and the answers the common mistakes give |
| ``values/`` | one ``.npz`` of stored values per chapter |
| ``ch00_backprop.py`` ... ``ch16_sae.py`` | one file of graders per chapter notebook |
"""
from nanoae.exercises.grading import (Grade, Mismatch, as_numpy, check_gradients, compare, diagnose, grader,
                                      matches, passed_within, random_array, scalar_answer, watched,
                                      where_in_your_code)
from nanoae.exercises.stored import StoredValues

__all__ = ["Grade", "Mismatch", "StoredValues", "as_numpy", "check_gradients", "compare", "diagnose", "grader",
           "matches", "passed_within", "random_array", "scalar_answer", "watched", "where_in_your_code"]
