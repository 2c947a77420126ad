"""The `nanoae` command line."""
import subprocess
import sys

import pytest

from nanoae import cli
from nanoae.gradcheck_cases import CASES, Case
from nanoae.tensor import Function


class SquareWithWrongBackward(Function):
    """y = x^2, with a planted wrong derivative 3x instead of 2x."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0] * 3


def test_gradcheck_command_prints_a_row_per_op_and_passes(capsys):
    assert cli.main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    for case in CASES:
        assert case.name in out
    assert out.count(" ok (") == len(CASES)
    assert "all passed" in out


def test_gradcheck_command_reports_a_broken_op(capsys, monkeypatch):
    broken = Case("planted: x * x with a wrong derivative", lambda x: SquareWithWrongBackward()(x),
                  [((3,), "real")])
    monkeypatch.setattr(cli, "CASES", [broken])
    assert cli.main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "1 failed" in out


def test_gradcheck_command_filters_with_only(capsys):
    assert cli.main(["gradcheck", "--only", "tanh"]) == 0
    out = capsys.readouterr().out
    assert "tanh" in out and "sigmoid" not in out


def test_bad_arguments_give_a_usage_error_not_a_traceback():
    result = subprocess.run([sys.executable, "-m", "nanoae", "gradcheck", "--backend", "tpu"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(cli.backend.cupy_available(), reason="CuPy is available here")
def test_gradcheck_on_cupy_without_a_gpu_says_what_is_missing(capsys):
    assert cli.main(["gradcheck", "--backend", "cupy"]) == 2
    assert "CuPy" in capsys.readouterr().err


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "nanoae", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "gradcheck" in result.stdout
