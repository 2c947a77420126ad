"""Hand the course out: write an edition to a folder, and grade the notebooks that come back.

    nanoae course build handout --edition student
    nanoae course build answers --edition instructor
    nanoae course grade submissions/*.ipynb
"""
import importlib
import shutil
from pathlib import Path

from nanoae.course.editions import (NOTEBOOKS, NotebookError, chapter_notebooks, exercise_functions, read_notebook,
                                    student_notebook, write_notebook)
from nanoae.course.guide import chapter_facts, course_readme, instructor_guide
from nanoae.serialization import atomic_write

EDITIONS = ("student", "instructor")
MARKER = ".nanoae-course"   # names the edition; only a folder that has it may be overwritten


def build_course(out, edition, notebooks_dir=NOTEBOOKS, overwrite=False):
    """Write the ``edition`` ("student" or "instructor") of the course into folder ``out``; return its files.

    ``out`` must not exist, or with ``overwrite`` must be an edition written
    before (it holds the marker file): an edition is written whole, so a
    student edition never keeps a file of an instructor one, and no other
    folder is ever deleted.
    """
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}; the editions are {', '.join(EDITIONS)}")
    out = Path(out)
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"{out} already exists; choose a new folder, or pass --overwrite to replace "
                                  f"an edition written there before")
        if not (out / MARKER).is_file():
            raise FileExistsError(f"{out} exists and is not a course edition (it has no {MARKER} file): "
                                  f"not replacing it")
        shutil.rmtree(out)
    paths = chapter_notebooks(notebooks_dir)
    (out / "notebooks").mkdir(parents=True)
    written = []
    for path in paths:
        nb = read_notebook(path)
        if edition == "student":
            nb = student_notebook(nb, path.name)
        write_notebook(out / "notebooks" / path.name, nb)
        written.append(out / "notebooks" / path.name)
    pages = {"README.md": course_readme(edition, paths), MARKER: f"{edition}\n"}
    if edition == "instructor":
        pages["GUIDE.md"] = instructor_guide(paths)
    for name, text in pages.items():
        with atomic_write(out / name, "w") as f:
            f.write(text)
        written.append(out / name)
    return written


def grade_notebook(path, notebooks_dir=NOTEBOOKS):
    """[(exercise, points it is worth, Grade)] for a submitted notebook, running only its exercise cells.

    The points come from the course's own notebook of that chapter (a
    submission's metadata could have been edited), found by its file name.
    """
    path = Path(path)
    source = Path(notebooks_dir) / path.name
    if not source.is_file():
        matches = sorted(Path(notebooks_dir).glob(f"{path.name[:2]}-*.ipynb"))
        if len(matches) != 1:
            raise NotebookError(f"{path}: cannot tell which chapter this is; name it as the course's notebook "
                                f"(e.g. 06-variational-autoencoder.ipynb)")
        source = matches[0]
    chapter = chapter_facts(source)
    graders = importlib.import_module(f"nanoae.exercises.{chapter.graders}")
    try:
        functions = exercise_functions(path)
    except SyntaxError as e:
        raise NotebookError(f"{path}: the exercise cells do not parse ({e.msg}, line {e.lineno})") from None
    except Exception as e:  # a cell's own top-level code failed: say which notebook, go on to no other
        raise NotebookError(f"{path}: running its exercise cells failed: {type(e).__name__}: {e}") from None
    results = []
    for exercise in chapter.exercises:
        student_fn = functions.get(exercise.name)
        if student_fn is None:
            raise NotebookError(f"{path}: no function {exercise.name!r} in its exercise cells")
        results.append((exercise.name, exercise.points, getattr(graders, f"grade_{exercise.name}")(student_fn)))
    return results
