"""The house in order: import loops, floors and sizes, read from the source.

These tests do not import the package. They parse every file under ``nanoae/``
with :mod:`ast` and check three things a reader relies on:

1. No import loops, except the one the engine needs: ``nanoae.autograd``
   imports ``nanoae.ops`` at its bottom, because Tensor's operators call the
   ops, while every op imports Function and Tensor from ``nanoae.autograd``.
2. Arrows point down: a module imports modules on its own floor or below
   (the table ``FLOORS`` below), never above, not even inside a function.
3. Files and functions stay short enough to read in one sitting.

The import graph is built by a function that takes any folder and package
name, so the loop finder is itself tested on small packages written in a
temporary folder, with and without a planted loop.
"""
import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE_ROOT = Path(__file__).parents[1]  # the folder that holds nanoae/
PACKAGE = "nanoae"

# The house, bottom to top: engine -> layers -> models -> training -> command
# line. The chapter tools (nanoae.analysis: PCA, metrics, hashing, retrieval,
# latent tools, probes) stand beside the models, on the same floor.
FLOOR_NAMES = {
    0: "ground: the array backend and argument checks",
    1: "engine: Tensor, Function, backward and the ops",
    2: "engine tools: tensor creation, functional, gradcheck, save and load",
    3: "layers and data",
    4: "optimizers",
    5: "models, and the chapter tools beside them",
    6: "run folders: checkpoints, figures, naming and locks",
    7: "training loop",
    8: "command line, exercises and the course around the notebooks",
}

# Each room's floor. "nanoae.ops.*" stands for the package nanoae.ops and every
# module in it; a name without ".*" is that one module.
FLOORS = {
    "nanoae.backend": 0,
    "nanoae.checks": 0,

    "nanoae.autograd": 1,
    "nanoae.ops.*": 1,

    "nanoae.creation": 2,
    "nanoae.functional": 2,
    "nanoae.gradcheck": 2,
    "nanoae.gradcheck_cases": 2,
    "nanoae.serialization": 2,
    "nanoae.safetensors": 2,

    "nanoae.nn.*": 3,
    "nanoae.data.*": 3,
    "nanoae.text.*": 3,

    "nanoae.optim": 4,

    "nanoae.models.*": 5,
    "nanoae.analysis.*": 5,

    "nanoae.checkpoint": 6,
    "nanoae.plot": 6,
    "nanoae.runs": 6,
    "nanoae.export": 6,
    "nanoae.interop.*": 6,

    "nanoae.train": 7,
    "nanoae.train_skipgram": 7,

    "nanoae.cli.*": 8,
    "nanoae.__main__": 8,
    "nanoae.exercises.*": 8,
    "nanoae.course.*": 8,
}

# The package face, nanoae/__init__.py, re-exports the engine for
# `import nanoae`, so its own imports are not checked. A room that imports the
# face imports everything the face re-exports, so it counts as importing from
# the highest floor the face imports from.
PACKAGE_FACE = "nanoae"

MAX_MODULE_LINES = 400
LONG_MODULES = {
    "nanoae/autograd.py": "the whole autograd engine: Tensor, Function and backward belong in one sitting",
}

MAX_FUNCTION_LINES = 60
# "file::Class.method" -> the reason it may be longer than MAX_FUNCTION_LINES.
LONG_FUNCTIONS = {}


# --- reading the source ----------------------------------------------------------

@dataclass(frozen=True)
class Import:
    """One import statement inside the package: who imports whom, and where."""
    importer: str  # module name, e.g. "nanoae.models.vae"
    imported: str  # module name, e.g. "nanoae.nn"
    path: str      # the importer's file, e.g. "nanoae/models/vae.py"
    line: int

    def where(self):
        return f"{self.path}:{self.line}"


def find_modules(root, package):
    """Map every module name of `package` (a folder under `root`) to its file.

    nanoae/models/vae.py is "nanoae.models.vae"; a package's __init__.py is
    the package itself, so nanoae/nn/__init__.py is "nanoae.nn".
    """
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def existing_module(name, modules):
    """The module that `import name` runs: `name`, or the nearest package above it."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def package_of(module, modules):
    """The package a relative import starts from (a package's own __init__ starts from itself)."""
    if modules[module].name == "__init__.py":
        return module
    return module.rpartition(".")[0]


def absolute_base(node, module, modules):
    """The absolute module name before `import` in `from ... import`, resolving dots."""
    if node.level == 0:
        return node.module
    base = package_of(module, modules)
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    if node.module:
        base = f"{base}.{node.module}" if base else node.module
    return base


def imported_modules(node, module, modules):
    """The package modules that one import statement reaches.

    `from nanoae import nn` reaches the module nanoae.nn; `from nanoae import
    Tensor` reaches nanoae itself, since Tensor is a name and not a module.
    """
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = absolute_base(node, module, modules)
        names = []
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            names.append(submodule if submodule in modules else base)
    found = [existing_module(name, modules) for name in names]
    return [name for name in found if name is not None]


def import_graph(root, package):
    """Every import between modules of `package`, including those inside functions.

    Imports of modules outside the package (numpy, math, ...) are left out.
    So is a module "importing" itself, as a package face does with
    `from nanoae import Tensor` after defining it.
    """
    modules = find_modules(root, package)
    imports = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            # One edge per module, however many names the statement takes from it.
            for imported in sorted(set(imported_modules(node, module, modules))):
                if imported != module:
                    imports.append(Import(module, imported, relative_path(path, root), node.lineno))
    return imports


def reachable_from(start, imports):
    """Every module that `start` reaches by following one or more imports."""
    reached = set()
    to_visit = [start]
    while to_visit:
        module = to_visit.pop()
        for edge in imports:
            if edge.importer == module and edge.imported not in reached:
                reached.add(edge.imported)
                to_visit.append(edge.imported)
    return reached


def find_import_loops(imports):
    """The import loops, each a sorted list of the modules in it.

    Two modules are in the same loop when each reaches the other (the graph's
    strongly connected components). This plain way asks, for every module,
    which modules it reaches; for a package of a hundred files that is quick.
    """
    modules = sorted({edge.importer for edge in imports} | {edge.imported for edge in imports})
    reaches = {module: reachable_from(module, imports) for module in modules}
    loops = []
    already_in_a_loop = set()
    for module in modules:
        if module in already_in_a_loop or module not in reaches[module]:
            continue
        loop = sorted(other for other in reaches[module] if module in reaches[other])
        already_in_a_loop.update(loop)
        loops.append(loop)
    return loops


def shortest_way_round(loop, imports):
    """The fewest imports that lead from a module of `loop` back to itself.

    A loop of many modules may hold several ways round; the shortest one is
    the quickest to read and often the import to take out.
    """
    ways = [shortest_way_back(module, imports) for module in loop]
    return min(ways, key=len)


def shortest_way_back(start, imports):
    """The fewest imports from `start` back to `start`, found breadth first, as a list of Import."""
    came_by = {}  # module -> the import by which the search first reached it
    frontier = [start]
    while frontier:
        next_frontier = []
        for module in frontier:
            for edge in imports:
                if edge.importer != module:
                    continue
                if edge.imported == start:
                    return way_to(module, start, came_by) + [edge]
                if edge.imported not in came_by:
                    came_by[edge.imported] = edge
                    next_frontier.append(edge.imported)
        frontier = next_frontier
    return []


def way_to(module, start, came_by):
    """The imports that led the search from `start` to `module`, in order."""
    way = []
    while module != start:
        edge = came_by[module]
        way.insert(0, edge)
        module = edge.importer
    return way


def floor_of(module):
    """The floor of a module in FLOORS, or None where the table has no place for it."""
    for room, floor in FLOORS.items():
        if room.endswith(".*"):
            package = room[:-2]
            if module == package or module.startswith(package + "."):
                return floor
        elif module == room:
            return floor
    return None


def functions_with_names(node, prefix=""):
    """Yield (name, node) for every function under `node`; methods as "Class.method"."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = prefix + child.name
            if not isinstance(child, ast.ClassDef):
                yield name, child
            yield from functions_with_names(child, name + ".")
        else:
            yield from functions_with_names(child, prefix)


def highest_floor_of_the_face(imports):
    """The highest floor that the package face imports from."""
    floors = [floor_of(edge.imported) for edge in imports if edge.importer == PACKAGE_FACE]
    return max(floor for floor in floors if floor is not None)


def relative_path(path, root=SOURCE_ROOT):
    """A file's path as a reader writes it: "nanoae/models/vae.py"."""
    return path.relative_to(root).as_posix()


@pytest.fixture(scope="module")
def nanoae_imports():
    return import_graph(SOURCE_ROOT, PACKAGE)


# --- 1. import loops -------------------------------------------------------------

def is_autograd_importing_the_ops(edge):
    """The one import allowed to close a loop: autograd.py importing the ops at its bottom."""
    return edge.importer == "nanoae.autograd" and (
        edge.imported == "nanoae.ops" or edge.imported.startswith("nanoae.ops."))


def test_the_only_import_loop_is_autograd_and_ops(nanoae_imports):
    # Take out the one allowed import; any loop that is left is a real one.
    imports = [edge for edge in nanoae_imports if not is_autograd_importing_the_ops(edge)]
    loops = find_import_loops(imports)
    if loops:
        report = []
        for loop in loops:
            report.append(f"Import loop among {len(loop)} modules: " + ", ".join(loop))
            report.append("The shortest way round it:")
            for edge in shortest_way_round(loop, imports):
                report.append(f"    {edge.where()}: {edge.importer} imports {edge.imported}")
        report.append("A loop means neither room can be read or tested without the other. "
                      "Move the shared piece down to a lower room instead of importing "
                      "inside a function to dodge the loop.")
        pytest.fail("\n".join(report), pytrace=False)


def write_package(root, files):
    """Write a small package under `root` from {"pkg/a.py": "source", ...}."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


def test_loop_finder_finds_a_loop_closed_inside_a_function(tmp_path):
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "import pkg.b\n",
        "pkg/b.py": "def late():\n    from pkg import a\n    return a\n",
        "pkg/c.py": "from pkg.a import something\n",
    })
    imports = import_graph(tmp_path, "pkg")
    loops = find_import_loops(imports)
    assert loops == [["pkg.a", "pkg.b"]]
    way_round = shortest_way_round(loops[0], imports)
    assert [(edge.importer, edge.imported, edge.where()) for edge in way_round] == [
        ("pkg.a", "pkg.b", "pkg/a.py:1"), ("pkg.b", "pkg.a", "pkg/b.py:2")]


def test_loop_finder_finds_no_loop_where_imports_only_go_one_way(tmp_path):
    write_package(tmp_path, {
        "pkg/__init__.py": "from pkg import a\n",
        "pkg/a.py": "import pkg.b\n",
        "pkg/b.py": "def late():\n    from pkg import c\n    return c\n",
        "pkg/c.py": "import math\n",
    })
    assert find_import_loops(import_graph(tmp_path, "pkg")) == []


def test_import_graph_resolves_each_form_of_import(tmp_path):
    write_package(tmp_path, {
        "pkg/__init__.py": "from pkg.sub import deep\n",
        "pkg/a.py": ("import numpy\n"                 # outside the package: left out
                     "from pkg import b\n"            # b is a module: pkg.b
                     "from pkg import NAME\n"         # NAME is a name: pkg itself
                     "import pkg.sub.deep as d\n"     # pkg.sub.deep only, not pkg.sub
                     "from pkg.sub.deep import f\n"),
        "pkg/b.py": ("from . import a\n"              # "." is pkg, the package b.py is in
                     "from .sub import deep\n"),
        "pkg/sub/__init__.py": "from . import deep\n",  # in an __init__, "." is that package
        "pkg/sub/deep.py": ("from .. import b\n"      # ".." is the package above
                            "from ..a import f\n"),
    })
    edges = {(edge.importer, edge.imported) for edge in import_graph(tmp_path, "pkg")}
    assert edges == {
        ("pkg", "pkg.sub.deep"),
        ("pkg.a", "pkg.b"), ("pkg.a", "pkg"), ("pkg.a", "pkg.sub.deep"),
        ("pkg.b", "pkg.a"), ("pkg.b", "pkg.sub.deep"),
        ("pkg.sub", "pkg.sub.deep"),
        ("pkg.sub.deep", "pkg.b"), ("pkg.sub.deep", "pkg.a"),
    }


# --- 2. floors: arrows point down -------------------------------------------------

def test_every_module_has_a_floor():
    missing = [module for module in find_modules(SOURCE_ROOT, PACKAGE)
               if module != PACKAGE_FACE and floor_of(module) is None]
    if missing:
        pytest.fail("These modules have no floor in FLOORS at the top of tests/test_structure.py:\n"
                    + "\n".join(f"    {module}" for module in missing)
                    + "\nGive each new room its place in the house.", pytrace=False)


def test_every_import_points_down_or_sideways(nanoae_imports):
    face_floor = highest_floor_of_the_face(nanoae_imports)
    upward = []
    for edge in nanoae_imports:
        if edge.importer == PACKAGE_FACE:
            continue
        low = floor_of(edge.importer)
        high = face_floor if edge.imported == PACKAGE_FACE else floor_of(edge.imported)
        if low is None or high is None:
            continue  # test_every_module_has_a_floor names these
        if high > low:
            target = f"floor {high}, {FLOOR_NAMES[high]}"
            if edge.imported == PACKAGE_FACE:
                target = f"the package face, which re-exports up to {target}"
            upward.append(f"    {edge.where()}: {edge.importer} (floor {low}, {FLOOR_NAMES[low]}) "
                          f"imports {edge.imported} ({target})")
    if upward:
        pytest.fail("These imports point up, from a lower floor to a higher one:\n"
                    + "\n".join(upward)
                    + "\nA lower room must not import a higher one, not even inside a function: "
                    "move the shared piece down.", pytrace=False)


# --- 3. sizes ----------------------------------------------------------------------

def test_no_module_is_longer_than_400_lines():
    too_long = []
    for path in find_modules(SOURCE_ROOT, PACKAGE).values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES and relative_path(path) not in LONG_MODULES:
            too_long.append(f"    {relative_path(path)}: {lines} lines")
    if too_long:
        pytest.fail(f"These modules are longer than {MAX_MODULE_LINES} lines:\n"
                    + "\n".join(too_long)
                    + "\nSplit each into rooms with one purpose, or, if it must read in one "
                    "sitting, add it to LONG_MODULES with the reason.", pytrace=False)


def test_no_function_is_longer_than_60_lines():
    too_long = []
    for path in find_modules(SOURCE_ROOT, PACKAGE).values():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node in functions_with_names(tree):
            lines = node.end_lineno - node.lineno + 1  # from the def line, docstring included
            key = f"{relative_path(path)}::{name}"
            if lines > MAX_FUNCTION_LINES and key not in LONG_FUNCTIONS:
                too_long.append(f"    {relative_path(path)}:{node.lineno}: {name} is {lines} lines")
    if too_long:
        pytest.fail(f"These functions are longer than {MAX_FUNCTION_LINES} lines:\n"
                    + "\n".join(too_long)
                    + "\nSplit each into smaller steps with names, or add "
                    "'file::name' to LONG_FUNCTIONS with the reason.", pytrace=False)


# --- 4. optional dependencies ---------------------------------------------------

# PyTorch is optional (pip install -e ".[torch]"): only the bridge to it and the chapter about
# it may import it, so that nanoae itself runs and is tested without it.
MAY_IMPORT_TORCH = ("nanoae.interop", "nanoae.exercises.ch13_pytorch")


def top_level_imports_of(path):
    """The first names of every module ``path`` imports: ``import torch.nn`` -> "torch"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_bridge_to_pytorch_and_its_chapter_import_torch():
    importers = [module for module, path in find_modules(SOURCE_ROOT, PACKAGE).items()
                 if "torch" in top_level_imports_of(path)
                 and not any(module == allowed or module.startswith(allowed + ".") for allowed in MAY_IMPORT_TORCH)]
    assert not importers, (f"these modules import torch, which is optional: {importers}; "
                           f"only {', '.join(MAY_IMPORT_TORCH)} may (move the code there)")
