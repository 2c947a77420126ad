"""The README's Python examples run and do what they say."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_first_autoencoder_lowers_its_loss(capsys):
    namespace = {}
    for block in python_blocks():
        exec(block, namespace)
    losses = [float(line.split()[-1]) for line in capsys.readouterr().out.splitlines() if "loss" in line]
    assert len(losses) == 4
    assert losses[-1] < 0.2 * losses[0], losses
