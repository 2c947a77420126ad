"""Run a chapter notebook top to bottom, headless, with some parameters changed.

Every notebook starts with a cell tagged ``parameters`` (dataset, epochs,
sizes, device). This script inserts a cell right after it that sets new
values, runs every cell in a fresh kernel, and can save the executed
notebook and each figure it drew::

    python notebooks/execute.py notebooks/06-variational-autoencoder.ipynb \\
        DATASET='"fashion-mnist"' EPOCHS=20 --out runs/06.ipynb --figures runs/06

Values are Python expressions (so strings need their quotes). The test suite
uses :func:`execute` the same way, on the embedded dataset with small settings.
"""
import argparse
import ast
import base64
import pathlib

import nbformat
from nbclient import NotebookClient


def parameters_cell(nb):
    """The index of the cell tagged ``parameters`` and the names it assigns."""
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            names = {t.id for node in tree.body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name)}
            return i, names
    raise ValueError("the notebook has no cell tagged 'parameters'")


def execute(path, overrides=None, out=None, figures=None, timeout=1800):
    """Execute notebook ``path`` with ``overrides`` ({name: Python expression}); return it.

    Only names the parameters cell assigns may be overridden, so a misspelt
    name is an error rather than a silently ignored setting.
    """
    path = pathlib.Path(path)
    nb = nbformat.read(path, as_version=4)
    overrides = overrides or {}
    index, names = parameters_cell(nb)
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"{path.name}: no parameter named {', '.join(sorted(unknown))}; "
                         f"its parameters are {', '.join(sorted(names))}")
    if overrides:
        source = "# Parameters set by execute.py\n" + "\n".join(f"{k} = {v}" for k, v in overrides.items())
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    if out:
        pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    if figures:
        save_figures(nb, figures)
    return nb


def save_figures(nb, folder):
    """Write every PNG the notebook displayed to ``folder``, named by cell and order."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, cell in enumerate(nb.cells):
        pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        for k, png in enumerate(pngs):
            (folder / f"cell{i:02d}_{k}.png").write_bytes(base64.b64decode(png))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook")
    parser.add_argument("overrides", nargs="*", metavar="NAME=VALUE", help="parameters to change")
    parser.add_argument("--out", help="save the executed notebook here")
    parser.add_argument("--figures", help="save its figures as PNG files in this folder")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.overrides)
    execute(args.notebook, overrides, args.out, args.figures)


if __name__ == "__main__":
    main()
