"""The student and the instructor editions of the course, from the one set of notebooks.

The repository's notebooks hold the answers. Each exercise cell marks its
answer the way nbgrader marks a solution region, so an instructor who uses
nbgrader can take the notebooks as they are::

    def gaussian_kl(mu, log_var):
        \"\"\"The VAE's KL term for a batch. ...\"\"\"
        ### BEGIN SOLUTION
        per_dim = 0.5 * (mu * mu + log_var.exp() - 1 - log_var)
        return per_dim.sum() / len(mu)
        ### END SOLUTION

and the cell after it grades the function (``exercises.grade_gaussian_kl(gaussian_kl)``).
Both cells carry nbgrader's metadata: the exercise cell is a solution cell,
the grading cell a test cell worth some points.

- The **student edition** replaces every marked region with nbgrader's stub
  (``# YOUR CODE HERE`` / ``raise NotImplementedError()``) and clears outputs.
- The **instructor edition** keeps the answers; ``build.py`` adds a guide.

Notebooks are JSON; this module reads and writes them with :mod:`json`, so
building an edition needs nothing beyond the base install.
"""
import ast
import copy
import json
from pathlib import Path

from nanoae.serialization import atomic_write

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"   # the repository's notebooks
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")      # nbgrader's default code stub


class NotebookError(ValueError):
    """A notebook that cannot be made into an edition: the message names the file and the cell."""


def chapter_notebooks(notebooks_dir=NOTEBOOKS):
    """The chapter notebooks (``00-...ipynb`` and on) of ``notebooks_dir``, in order."""
    notebooks_dir = Path(notebooks_dir)
    paths = sorted(notebooks_dir.glob("[0-9][0-9]-*.ipynb"))
    if not paths:
        raise NotebookError(f"{notebooks_dir}: no chapter notebooks (NN-name.ipynb) here; give the "
                            f"repository's notebooks/ folder")
    return paths


def read_notebook(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_notebook(path, nb):
    """Write ``nb`` as Jupyter writes it (one-space indent, UTF-8), atomically."""
    with atomic_write(path, "w", newline="\n") as f:
        f.write(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def cell_source(cell):
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def is_exercise_cell(cell):
    """A code cell with a marked answer."""
    return cell["cell_type"] == "code" and BEGIN in cell_source(cell)


def without_solutions(source, where="a cell"):
    """``source`` with each region between the markers replaced by the stub, at the marker's indent."""
    lines, out, inside = source.split("\n"), [], False
    for number, line in enumerate(lines, 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise NotebookError(f"{where}, line {number}: {BEGIN} inside another solution region")
            inside, indent = True, line[:len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in STUB)
        elif marker == END:
            if not inside:
                raise NotebookError(f"{where}, line {number}: {END} without a {BEGIN} before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise NotebookError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def solution_lines(source):
    """The lines of the answers in ``source`` (between the markers), stripped, without blank ones."""
    found, inside = [], False
    for line in source.split("\n"):
        if line.strip() in (BEGIN, END):
            inside = line.strip() == BEGIN
        elif inside and line.strip():
            found.append(line.strip())
    return found


def student_notebook(nb, name="the notebook"):
    """A copy of notebook ``nb`` with every answer replaced by the stub and every output cleared."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = without_solutions(cell_source(cell), f"{name}, cell {index}")
        cell["source"] = source.splitlines(keepends=True)
        cell["outputs"], cell["execution_count"] = [], None
    return nb


def exercise_functions(path):
    """{name: function or class} of the exercise cells of notebook ``path``, run as they stand.

    The notebook's import statements are run first (those of every cell, and
    nothing else: no data is loaded, no model trained), then the exercise
    cells. Used to grade a notebook without executing it, and by the tests to
    show that the repository's answers pass their graders.
    """
    nb = read_notebook(path)
    namespace = {"__name__": f"exercises of {Path(path).name}"}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and not is_magic(cell_source(cell)):
            imports = [node for node in ast.parse(cell_source(cell)).body
                       if isinstance(node, (ast.Import, ast.ImportFrom))]
            exec(compile(ast.Module(imports, type_ignores=[]), str(path), "exec"), namespace)
    names = []
    for index, cell in enumerate(nb["cells"]):
        if holds_an_exercise(cell):
            exec(compile(cell_source(cell), f"{path} (cell {index})", "exec"), namespace)
            names += defined_names(cell_source(cell))
    return {name: namespace[name] for name in names}


def defined_names(source):
    """The functions and classes (an op is a class) that ``source`` defines at its top level."""
    return [node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def holds_an_exercise(cell):
    """An exercise cell of either edition: the answer marked, or (student edition) nbgrader's solution flag."""
    return is_exercise_cell(cell) or is_student_exercise(cell)


def is_magic(source):
    """Whether a cell uses IPython's own syntax (%magic, !shell), which plain Python cannot parse."""
    return any(line.lstrip().startswith(("%", "!")) for line in source.split("\n"))


def is_student_exercise(cell):
    """An exercise cell of the student edition: nbgrader's solution flag is kept when the answer is removed."""
    return cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution", False)
