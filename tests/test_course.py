"""nanoae course build and grade: the student edition holds no answer and no word of where answers
are; the instructor edition's answers pass their own graders; a submitted notebook is graded from
its exercise cells alone."""
import importlib.util
import json
import pathlib

import pytest

from nanoae.cli import main
from nanoae.course.build import MARKER, build_course, grade_notebook
from nanoae.course.editions import (BEGIN, END, NotebookError, cell_source, chapter_notebooks, is_exercise_cell,
                                    read_notebook, solution_lines, without_solutions)
from nanoae.course.guide import chapter_facts

NOTEBOOKS = chapter_notebooks()
TORCH_MISSING = importlib.util.find_spec("torch") is None


def needs(notebook):
    """Chapter 13's imports need PyTorch; skip it, saying so, where PyTorch is missing."""
    if notebook.name.startswith("13") and TORCH_MISSING:
        pytest.skip('chapter 13 needs PyTorch: pip install -e ".[torch]"')


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    build_course(root / "student", "student")
    build_course(root / "instructor", "instructor")
    return root


def source_outside_answers(notebook):
    """Everything the chapter itself shows: the notebook's text with the answers taken out."""
    return "\n".join(
        without_solutions(cell_source(c)) for c in read_notebook(notebook)["cells"])


# --- the student edition ------------------------------------------------------------------------

def test_no_student_file_holds_an_answer_or_says_where_answers_are(editions):
    files = [p for p in (editions / "student").rglob("*") if p.is_file()]
    assert len([p for p in files if p.suffix == ".ipynb"]) == len(NOTEBOOKS)
    shown_by_chapters = "\n".join(source_outside_answers(nb) for nb in NOTEBOOKS)
    answers = {line for nb in NOTEBOOKS for cell in read_notebook(nb)["cells"] if is_exercise_cell(cell)
               for line in solution_lines(cell_source(cell)) if len(line) >= 12 and line not in shown_by_chapters}
    assert answers, "the notebooks should hold answers to look for"
    for path in files:
        text = path.read_text(encoding="utf-8")
        for banned in (BEGIN, END, "notebooks/solutions", "solutions/", "instructors' answers", "answers are in"):
            assert banned not in text, f"{path.name} contains {banned!r}"
        leaked = [line for line in answers if line in text]
        assert not leaked, f"{path.name} holds answer lines: {leaked[:3]}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_student_exercise_is_graded_todo(editions, notebook):
    needs(notebook)
    results = grade_notebook(editions / "student" / "notebooks" / notebook.name)
    assert len(results) >= 2, f"{notebook.name}: fewer than two exercises found"
    assert all(grade.status == "TODO" for _, _, grade in results), results


def test_a_student_notebook_has_no_outputs_and_the_stub_where_the_answer_was(editions):
    nb = read_notebook(editions / "student" / "notebooks" / NOTEBOOKS[6].name)
    exercise_cells = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert exercise_cells and all("# YOUR CODE HERE" in cell_source(c) and "raise NotImplementedError()"
                                  in cell_source(c) for c in exercise_cells)
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


# --- the instructor edition ---------------------------------------------------------------------

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_instructor_editions_answers_pass_their_own_graders(editions, notebook):
    needs(notebook)
    copy = editions / "instructor" / "notebooks" / notebook.name
    assert copy.read_bytes() == notebook.read_bytes()
    results = grade_notebook(copy)
    assert len(results) >= 2, f"{notebook.name}: fewer than two exercises found"
    assert all(grade.passed for _, _, grade in results), results


def test_the_guide_lists_every_exercise_with_its_points_and_what_it_checks(editions):
    guide = (editions / "instructor" / "GUIDE.md").read_text()
    for notebook in NOTEBOOKS:
        chapter = chapter_facts(notebook)
        for exercise in chapter.exercises:
            row = next((line for line in guide.split("\n") if line.startswith(f"| `{exercise.name}` |")), None)
            assert row, f"GUIDE.md has no row for {exercise.name} of chapter {chapter.number}"
            assert f"| {exercise.points:g} |" in row and exercise.checked_by, row
    assert (editions / "instructor" / MARKER).read_text() == "instructor\n"
    assert not (editions / "student" / "GUIDE.md").exists()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_cell_is_an_nbgrader_solution_cell_followed_by_a_test_cell_with_points(notebook):
    cells = read_notebook(notebook)["cells"]
    exercises = [i for i, c in enumerate(cells) if is_exercise_cell(c)]
    assert len(exercises) >= 2
    for i in exercises:
        meta = cells[i]["metadata"].get("nbgrader", {})
        assert meta.get("solution") is True and meta.get("grade_id"), (notebook.name, i)
        grading = cells[i + 1]
        test_meta = grading["metadata"].get("nbgrader", {})
        assert cell_source(grading).startswith("exercises.grade_"), (notebook.name, i + 1)
        assert test_meta.get("grade") is True and test_meta.get("locked") and test_meta.get("points", 0) > 0


# --- building and grading, from the command line ------------------------------------------------

def test_an_edition_is_never_written_over_a_folder_that_is_not_one(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["course", "build", str(tmp_path), "--edition", "student", "--overwrite"]) == 1
    assert "not a course edition" in capsys.readouterr().err and (tmp_path / "keep.txt").exists()
    assert main(["course", "build", str(tmp_path / "new"), "--edition", "student"]) == 0
    assert main(["course", "build", str(tmp_path / "new"), "--edition", "student"]) == 1
    assert main(["course", "build", str(tmp_path / "new"), "--edition", "instructor", "--overwrite"]) == 0
    assert (tmp_path / "new" / "GUIDE.md").exists()


def test_course_grade_gives_points_only_for_passing_exercises(tmp_path, capsys):
    nb = read_notebook(NOTEBOOKS[6])
    for cell in nb["cells"]:
        if is_exercise_cell(cell) and "def reparameterize" in cell_source(cell):
            cell["source"] = cell_source(cell).replace("return mu + std * eps", "return mu + std")  # a planted mistake
    submitted = tmp_path / NOTEBOOKS[6].name
    submitted.write_text(json.dumps(nb))
    assert main(["course", "grade", str(submitted), "--csv"]) == 0
    rows = capsys.readouterr().out.strip().split("\n")
    by_exercise = {row.split(",")[1]: row.split(",")[2:] for row in rows[1:]}
    assert by_exercise["reparameterize"][0] == "FAIL" and by_exercise["reparameterize"][1] == "0"
    assert by_exercise["gaussian_kl"][0] == "PASS" and by_exercise["gaussian_kl"][1] != "0"


def test_unbalanced_markers_are_an_error_that_names_the_cell():
    with pytest.raises(NotebookError, match="never closed"):
        without_solutions(f"def f():\n    {BEGIN}\n    return 1\n", "ch, cell 3")
    with pytest.raises(NotebookError, match="cell 3, line 2"):
        without_solutions(f"def f():\n    {END}\n", "ch, cell 3")
    assert without_solutions(f"def f():\n    {BEGIN}\n    return 1\n    {END}\n") == \
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"


def test_a_submission_that_is_not_a_chapter_is_refused(tmp_path):
    other = tmp_path / "homework.ipynb"
    other.write_text(json.dumps({"cells": [], "metadata": {}}))
    with pytest.raises(NotebookError, match="cannot tell which chapter"):
        grade_notebook(other)


def test_course_render_from_the_command_line_writes_the_chapters_asked_for(tmp_path, capsys):
    pytest.importorskip("nbconvert", reason='rendering needs the course extra: pip install -e ".[course]"')
    assert main(["course", "render", str(tmp_path / "site"), "--test-settings", "--chapters", "1"]) == 0
    index = (tmp_path / "site" / "index.html").read_text()
    assert NOTEBOOKS[1].stem + ".html" in index and NOTEBOOKS[0].stem not in index
    assert "TODO" in (tmp_path / "site" / f"{NOTEBOOKS[1].stem}.html").read_text()   # the student edition


def test_a_submission_whose_exercise_cell_crashes_when_run_is_refused_naming_it(tmp_path):
    nb = read_notebook(NOTEBOOKS[6])
    cell = next(c for c in nb["cells"] if is_exercise_cell(c))
    cell["source"] = cell_source(cell) + "\nprint(1 / 0)\n"          # top-level code of the student's that fails
    submitted = tmp_path / NOTEBOOKS[6].name
    submitted.write_text(json.dumps(nb))
    with pytest.raises(NotebookError, match="running its exercise cells failed: ZeroDivisionError"):
        grade_notebook(submitted)
