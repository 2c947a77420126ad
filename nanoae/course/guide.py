"""What the course says about itself: each chapter's facts, the README of an edition, the instructors' guide.

Every fact comes from its one source:

- a chapter's title is its notebook's first heading;
- its time is ``metadata["nanoae"]["minutes"]`` of the notebook, measured at
  the default settings on a 2-core laptop (the notebook's first cell says the
  same, and a test checks that they agree);
- its exercises are its exercise cells, their points the nbgrader metadata of
  the grading cells;
- what each exercise checks is the table in the docstring of its graders'
  module (``nanoae/exercises/chNN_*.py``).
"""
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from nanoae.course.editions import cell_source, defined_names, holds_an_exercise, read_notebook


@dataclass
class Exercise:
    name: str           # the function the student writes
    points: float       # from the grading cell's nbgrader metadata
    writes: str = ""    # what the student writes, from the graders' table
    checked_by: str = ""


@dataclass
class Chapter:
    number: str
    title: str
    notebook: str
    minutes: float | None
    graders: str                                  # the module of its graders
    exercises: list = field(default_factory=list)

    @property
    def points(self):
        return sum(e.points for e in self.exercises)


def chapter_facts(path):
    """The :class:`Chapter` of notebook ``path``."""
    nb = read_notebook(path)
    heading = next((line.lstrip("#").strip() for cell in nb["cells"] if cell["cell_type"] == "markdown"
                   for line in cell_source(cell).split("\n") if line.startswith("# ")), Path(path).stem)
    title = re.sub(r"^\d\d · ", "", heading)                 # "06 · The variational autoencoder"
    code = "\n".join(cell_source(cell) for cell in nb["cells"] if cell["cell_type"] == "code")
    imported = re.search(r"from nanoae\.exercises import (ch\d\d_\w+)", code)   # the chapter's graders
    graders = imported.group(1) if imported else ""
    chapter = Chapter(Path(path).name[:2], title, Path(path).name, nb["metadata"].get("nanoae", {}).get("minutes"),
                      graders)
    table = grader_table(graders) if graders else {}
    cells = nb["cells"]
    for index, cell in enumerate(cells):
        if not holds_an_exercise(cell):
            continue
        for name in defined_names(cell_source(cell)):
            grading = [c for c in cells[index + 1:] if f"grade_{name}(" in cell_source(c)]
            if grading:                                          # a helper beside the exercise has no grader
                points = grading[0].get("metadata", {}).get("nbgrader", {}).get("points", 0)
                chapter.exercises.append(Exercise(name, points, *table.get(name, ("", ""))))
    return chapter


def grader_table(module_name):
    """{exercise: (what the student writes, checked by)} from the table in the graders' module docstring."""
    doc = importlib.import_module(f"nanoae.exercises.{module_name}").__doc__ or ""
    rows = {}
    for line in doc.split("\n"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.match(r"``(\w+)\(", cells[0]) if len(cells) == 3 else None
        if match:
            rows[match.group(1)] = (cells[1].replace("``", "`"), cells[2].replace("``", "`"))
    return rows


def minutes_text(minutes):
    return f"about {minutes:g} min" if minutes is not None else "not measured yet"


def chapters_table(chapters):
    lines = ["| chapter | time at the defaults (2-core laptop) | exercises | points |", "| --- | --- | --- | --- |"]
    for c in chapters:
        names = ", ".join(f"`{e.name}`" for e in c.exercises)
        lines.append(f"| {c.number} · {c.title} (`notebooks/{c.notebook}`) | {minutes_text(c.minutes)} | "
                     f"{names} | {c.points:g} |")
    return "\n".join(lines)


def course_readme(edition, paths):
    """README.md of an edition: how to start, and the chapters."""
    chapters = [chapter_facts(p) for p in paths]
    total = sum(c.minutes or 0 for c in chapters)
    return f"""# nanoae: autoencoders from scratch ({edition} edition)

One notebook per chapter, in `notebooks/`. Each builds one idea on the nanoae
engine, trains it, shows what it learned, and ends with graded exercises: you
write a function where the cell says `# YOUR CODE HERE`, and the cell after it
grades it (PASS, FAIL with what went wrong, or TODO).

## Starting

1. Install nanoae with the notebook tools: `pip install "nanoae[notebooks]"`, or
   `pip install -e ".[notebooks]"` in a copy of its repository.
2. `jupyter lab notebooks/` and run a chapter from the top.

The first cell of each notebook holds its settings. `DATASET = "auto"` uses
MNIST where it is on disk or can be downloaded, else Fashion-MNIST where it is
on disk, else the embedded digits, which need nothing; it prints which.

## Chapters

Times are for the whole notebook at its default settings on a 2-core laptop
(about {total:.0f} minutes for all of them).

{chapters_table(chapters)}
"""


def instructor_guide(paths):
    """GUIDE.md of the instructor edition."""
    chapters = [chapter_facts(p) for p in paths]
    parts = [f"""# Instructor's guide

The notebooks of this edition hold the answers, between nbgrader's markers
`### BEGIN SOLUTION` and `### END SOLUTION`. The student edition
(`nanoae course build DIR --edition student`) has the same notebooks with each
answer replaced by `# YOUR CODE HERE` / `raise NotImplementedError()`, no
outputs, and nothing that says where answers are.

## How the exercises are graded

Each exercise is a function; the cell after it calls its grader, which runs
the function on fixed inputs of both signs and prints one line. A grader holds
no reference formula: it checks a backward with `gradcheck` against the
student's own forward, checks properties every right answer has, or compares
with values stored for its fixed inputs. It names the common mistakes, and an
exercise cannot be passed by calling the library function it asks for.

Three ways to grade:

1. **Read the lines.** A notebook run top to bottom shows PASS, FAIL or TODO
   under each exercise.
2. **`nanoae course grade submissions/*.ipynb`** runs only the exercise cells of
   each submitted notebook (and its imports: no data, no training, seconds per
   notebook) and prints each grade and the points, as a table or as CSV with
   `--csv`. It runs the students' code: do it in an account that holds nothing else.
3. **nbgrader.** The notebooks carry nbgrader's cell metadata (solution cells,
   test cells with points). `nbgrader generate_assignment` makes the same
   student version; under `nbgrader autograde` a grader that does not pass
   raises AssertionError, which nbgrader counts as a failed test cell.

## Chapters

{chapters_table(chapters)}
"""]
    for c in chapters:
        if not c.exercises:
            continue
        rows = "\n".join(f"| `{e.name}` | {e.points:g} | {e.writes} | {e.checked_by} |" for e in c.exercises)
        parts.append(f"""### {c.number} · {c.title}

Graders: `nanoae/exercises/{c.graders}.py`. Time: {minutes_text(c.minutes)}.

| exercise | points | what the student writes | how the grader checks it |
| --- | --- | --- | --- |
{rows}
""")
    return "\n".join(parts)
