"""Run a chapter notebook top to bottom, headless, with some parameters changed.

Every chapter notebook starts with a cell tagged ``parameters`` (dataset,
epochs, sizes, device). :func:`execute` inserts a cell right after it that
sets new values, then runs every cell in a fresh Jupyter kernel, as a student
would by choosing "Run All". The kernel is a separate process, so a chapter
cannot leave state behind in the program that runs it.

Values are Python expressions, as they would be typed into the cell (so a
string needs its quotes: ``{"DATASET": '"fashion-mnist"'}``).

Running a kernel needs nbclient, nbformat and ipykernel, which are not part of
nanoae's base install; they come with the ``course`` extra.
"""
import ast
import base64
import pathlib

try:
    import nbformat
    from nbclient import NotebookClient
except ImportError as missing:
    raise ImportError(f'running the notebooks needs {missing.name}: pip install -e ".[course]"') from None


def parameters_cell(nb):
    """The index of the cell tagged ``parameters`` and the names it assigns."""
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            names = {t.id for node in tree.body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name)}
            return i, names
    raise ValueError("the notebook has no cell tagged 'parameters'")


def settings_for_tests(nb):
    """The small settings the test suite runs this notebook with ({name: expression}).

    They live in the notebook's own metadata (``metadata["nanoae"]["test_parameters"]``),
    next to the parameters they shrink; the embedded dataset is not among them,
    because every chapter uses the same one (see ``TEST_DATASET``).
    """
    return dict(nb.metadata.get("nanoae", {}).get("test_parameters", {}))


# The dataset every chapter runs on at test settings: drawn by nanoae itself,
# so it needs neither a download nor files on disk.
TEST_DATASET = '"fontdigits"'


def execute(path, overrides=None, out=None, figures=None, timeout=1800):
    """Execute notebook ``path`` with ``overrides`` ({name: Python expression}); return it.

    ``out`` saves the executed notebook, ``figures`` a PNG file per figure;
    ``timeout`` is the most seconds one cell may take.
    """
    path = pathlib.Path(path)
    nb = run_notebook(nbformat.read(path, as_version=4), path.parent, overrides, timeout, path.name)
    if out:
        pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    if figures:
        save_figures(nb, figures)
    return nb


def run_notebook(nb, folder, overrides=None, timeout=1800, name="the notebook"):
    """Execute notebook ``nb`` (read, or made in memory) in a kernel started in ``folder``; return it.

    Only names the parameters cell assigns may be overridden, so a misspelt
    name is an error rather than a silently ignored setting.
    """
    overrides = overrides or {}
    index, names = parameters_cell(nb)
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"{name}: no parameter named {', '.join(sorted(unknown))}; "
                         f"its parameters are {', '.join(sorted(names))}")
    if overrides:
        source = "# Parameters set by execute.py\n" + "\n".join(f"{k} = {v}" for k, v in overrides.items())
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    # The kernel starts in the notebook's folder, as it does in JupyterLab.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def cell_figures(cell):
    """The PNG images (base64 text) that one cell displayed, in order."""
    return [output["data"]["image/png"] for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})]


def save_figures(nb, folder):
    """Write every PNG the notebook displayed to ``folder``, named by cell and order."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, cell in enumerate(nb.cells):
        for k, png in enumerate(cell_figures(cell)):
            (folder / f"cell{i:02d}_{k}.png").write_bytes(base64.b64decode(png))
