"""What the exercise-grader tests assert about a FAIL (imported by tests/test_exercises_ch*.py)."""


def assert_fails_naming(grade, *words):
    """``grade`` is a FAIL whose message contains each of ``words`` (the mistake, the error)."""
    assert grade.status == "FAIL", grade
    for word in words:
        assert word in grade.detail, grade
