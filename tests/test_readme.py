"""The README's Python examples run and do what they say."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_examples_run_and_lower_their_losses(capsys):
    namespace = {}
    for block in python_blocks():
        exec(block, namespace)
    lines = capsys.readouterr().out.splitlines()
    losses = [float(line.split()[-1]) for line in lines if "loss" in line]
    assert len(losses) == 4
    assert losses[-1] < 0.2 * losses[0], losses
    # The training example prints the VAE's test negative ELBO: below 784 ln 2 = 543.4 nats,
    # what a decoder that says 0.5 for every pixel would score.
    elbo = [float(line) for line in lines if "loss" not in line]
    assert len(elbo) == 1 and 0 < elbo[0] < 784 * 0.6931, lines
