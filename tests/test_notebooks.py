"""Every chapter notebook runs top to bottom, headless, offline, at its default dataset.

Each notebook keeps the small settings the tests use in its own metadata
(``metadata["nanoae"]["test_parameters"]``: parameter name -> Python
expression); the dataset is left at its default, ``"auto"``, on a machine
made offline with empty data folders: it finds Fashion-MNIST where Debian's
package is installed (as .ci/run does), else the embedded fontdigits. Notebooks are
committed without outputs, and every chapter has at least two graded
exercises whose reference solutions pass.

Chapter 13 is about PyTorch, an optional dependency: where it is not
installed, the tests that import its graders or run it skip, saying so.
"""
import importlib
import importlib.util
import json
import os
import re
import pathlib
from types import SimpleNamespace

import pytest

from nanoae.course.editions import exercise_functions
from nanoae.course.execute import parameters_cell

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
NEED_TORCH = {"13"}   # the chapters that need PyTorch; the others run on nanoae alone
TORCH_MISSING = importlib.util.find_spec("torch") is None


def chapters():
    """Every notebook as a test parameter; one that needs PyTorch skips, saying why, where it is missing."""
    for notebook in NOTEBOOKS:
        marks = []
        if notebook.name[:2] in NEED_TORCH:
            marks.append(pytest.mark.skipif(TORCH_MISSING, reason=f'{notebook.stem} needs PyTorch: '
                                                                  'pip install -e ".[torch]"'))
        yield pytest.param(notebook, id=notebook.stem, marks=marks)


def load_module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute = load_module(ROOT / "notebooks" / "execute.py").execute


def chapter_module_name(notebook):
    """``04-sparse-autoencoder.ipynb`` -> ``ch04_sparse`` (the graders' and the solutions' file)."""
    matches = sorted((ROOT / "nanoae" / "exercises").glob(f"ch{notebook.name[:2]}_*.py"))
    assert len(matches) == 1, f"expected one nanoae/exercises/ch{notebook.name[:2]}_*.py, found {matches}"
    return matches[0].stem


def graders_and_solutions(notebook):
    """The chapter's graders module, and its reference answers: the functions of the notebook's exercise cells."""
    name = chapter_module_name(notebook)
    graders = importlib.import_module(f"nanoae.exercises.{name}")
    return graders, SimpleNamespace(**exercise_functions(notebook))


def grader_names(graders):
    return sorted(n for n in dir(graders) if n.startswith("grade_"))


def test_there_is_one_notebook_per_chapter_numbered_from_00_without_gaps():
    assert len(NOTEBOOKS) >= 14
    assert [nb.name[:2] for nb in NOTEBOOKS] == [f"{n:02d}" for n in range(len(NOTEBOOKS))]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(notebook):
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, cell["source"][:80]


@pytest.mark.parametrize("notebook", list(chapters()))
def test_every_grader_passes_its_reference_solution(notebook):
    graders, solutions = graders_and_solutions(notebook)
    names = grader_names(graders)
    assert len(names) >= 2, f"{graders.__name__} has fewer than two exercises"
    source = notebook.read_text()
    for name in names:
        exercise = name[len("grade_"):]
        assert f"{name}(" in source, f"{notebook.name} never calls {name}"
        grade = getattr(graders, name)(getattr(solutions, exercise))
        assert grade.passed, grade


@pytest.mark.parametrize("notebook", list(chapters()))
def test_every_grader_says_todo_for_an_unwritten_exercise(notebook):
    graders, _ = graders_and_solutions(notebook)

    def unwritten(*args, **kwargs):
        raise NotImplementedError

    for name in grader_names(graders):
        assert getattr(graders, name)(unwritten).status == "TODO"


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """A fresh offline machine for the kernel: no network, an empty data folder and an empty home.

    The kernel inherits the environment: tests/network_block/sitecustomize.py
    makes every connection to another machine fail at once, and no MNIST file
    can be found, so DATASET = "auto" must fall back on what is on disk.
    Matplotlib keeps its usual settings folder, so its font cache is not built
    again for every notebook.
    """
    import matplotlib
    home = tmp_path / "empty-home"
    home.mkdir()
    monkeypatch.setenv("MPLCONFIGDIR", matplotlib.get_configdir())
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "tests" / "network_block"), str(ROOT)]))
    monkeypatch.setenv("NANOAE_DATA", str(tmp_path / "empty-data"))
    monkeypatch.setenv("HOME", str(home))


@pytest.mark.parametrize("notebook", list(chapters()))
def test_notebook_runs_top_to_bottom_offline_at_its_default_dataset(notebook, offline):
    """Only the sizes and epochs are made small (the notebook's test_parameters); DATASET stays at its default."""
    small = json.loads(notebook.read_text())["metadata"]["nanoae"]["test_parameters"]
    assert "DATASET" not in small
    nb = execute(notebook, small)
    outputs = [str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
               for cell in nb.cells for o in cell.get("outputs", [])]
    index, names = parameters_cell(nb)
    if "DATASET" in names:
        assert 'DATASET = "auto"' in nb.cells[index].source, "the default dataset should work anywhere"
        assert any('"auto" ->' in text for text in outputs), "the auto choice should say what it chose"
    shown = [line for text in outputs for line in text.split("\n") if line.startswith(("PASS  ", "FAIL  ", "TODO  "))]
    assert len(shown) >= 2, "the grading cells should each show a grade"
    assert not [line for line in shown if line.startswith(("FAIL", "TODO"))], shown


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_training_cells_show_progress_unless_the_tests_switch_it_off(notebook):
    nb = json.loads(notebook.read_text())
    source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "PROGRESS = True" in source and nb["metadata"]["nanoae"]["test_parameters"].get("PROGRESS") == "False"
    assert "progress=False" not in source
    for call in re.findall(r"(?<![\w.])fit\((?:[^()]|\([^()]*\))*\)", source):   # nanoae.train.fit, not PCA.fit
        assert "progress=PROGRESS" in call, f"{notebook.name}: a fit(...) call without progress=PROGRESS: {call}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_time_a_chapter_takes_is_stated_under_its_title_and_in_the_readme(notebook):
    """notebooks/time_chapters.py measured it at the default settings and wrote it in these three places."""
    nb = json.loads(notebook.read_text())
    minutes = nb["metadata"]["nanoae"].get("minutes")
    title = "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])
    row = next(line for line in (ROOT / "notebooks" / "README.md").read_text().split("\n")
               if line.startswith(f"| {notebook.name[:2]} | `{notebook.name}` |"))
    if minutes is None:  # not timed yet (python notebooks/time_chapters.py NN): nothing may claim a time
        assert "*Time:" not in title and row.endswith("| not measured yet |"), row
        return
    assert f"*Time: about {minutes:g} min on a 2-core laptop" in title
    assert row.endswith(f"| about {minutes:g} min |"), row
