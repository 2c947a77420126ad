"""Time each chapter at its default settings, and write the time where the course states it.

    python notebooks/time_chapters.py           # every chapter, one after the other
    python notebooks/time_chapters.py 06 10     # some of them

Each chapter runs top to bottom in a fresh kernel exactly as a student runs
it: nothing is overridden, so ``DATASET = "auto"`` picks what this machine has.
Run it on a quiet machine (``uptime``); the load average before and after each
chapter is recorded beside its time, so a time taken under load shows as such.

For each chapter it writes

- ``metadata["nanoae"]["minutes"]`` (rounded up to half a minute) and
  ``metadata["nanoae"]["timed"]`` (seconds, dataset, machine, load, date);
- the line ``*Time: about N min ...*`` under the notebook's title;
- the chapter's row of the table in ``notebooks/README.md``.

The instructors' guide and an edition's README read the minutes from the
metadata; ``tests/test_notebooks.py`` checks that the three agree.
"""
import datetime
import math
import os
import pathlib
import re
import sys
import time

from nanoae.course.editions import cell_source, chapter_notebooks, read_notebook, write_notebook
from nanoae.course.execute import execute

HERE = pathlib.Path(__file__).resolve().parent
TIME_LINE = re.compile(r"^\*Time: .*\*$", re.M)


def machine():
    """'2-core AMD EPYC 7B13, 24 GiB' from /proc (Linux), or the core count alone elsewhere."""
    name = ""
    if os.path.exists("/proc/cpuinfo"):
        name = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                     if line.startswith("model name")), "")
    memory = ""
    if os.path.exists("/proc/meminfo"):
        kib = int(open("/proc/meminfo").readline().split()[1])
        memory = f", {round(kib / 2 ** 20)} GiB"
    return f"{os.cpu_count()}-core {name}{memory}".replace("  ", " ")


def dataset_used(nb):
    """The dataset the run used, from the line that DATASET = "auto" prints (or the name given)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") or str(output.get("data", {}).get("text/plain", ""))
            found = re.search(r'"auto"\s*->\s*([\w-]+)', text)
            if found:
                return found.group(1)
    return "the notebook's default"


def time_line(minutes, dataset):
    return (f"*Time: about {minutes:g} min on a 2-core laptop at the default settings "
            f"(measured on {dataset}).*")


def record(path, seconds, dataset, loads):
    """Write the measured time into the notebook at ``path`` (metadata and the line under the title)."""
    minutes = math.ceil(seconds / 30) / 2                            # up to the next half minute
    nb = read_notebook(path)
    nb["metadata"].setdefault("nanoae", {})["minutes"] = minutes
    nb["metadata"]["nanoae"]["timed"] = {
        "seconds": round(seconds, 1), "dataset": dataset, "machine": machine(),
        "load_before_after": [round(x, 2) for x in loads], "date": datetime.date.today().isoformat()}
    title = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    text, line = cell_source(title), time_line(minutes, dataset)
    if TIME_LINE.search(text):
        text = TIME_LINE.sub(line, text)
    else:
        heading, _, rest = text.partition("\n")
        text = f"{heading}\n\n{line}\n{rest}"
    title["source"] = text.splitlines(keepends=True)
    write_notebook(path, nb)
    return minutes


def record_in_readme(path, minutes):
    """Put ``minutes`` in the time column of the chapter's row of notebooks/README.md."""
    readme = HERE / "README.md"
    rows = readme.read_text(encoding="utf-8").split("\n")
    for i, row in enumerate(rows):
        if row.startswith(f"| {path.name[:2]} | `{path.name}` |"):
            rows[i] = row[:row.rstrip(" |").rindex(" | ")] + f" | about {minutes:g} min |"   # the last column
    readme.write_text("\n".join(rows), encoding="utf-8")


def main(numbers):
    paths = [p for p in chapter_notebooks(HERE) if not numbers or p.name[:2] in numbers]
    for path in paths:
        before = os.getloadavg()[0]
        start = time.perf_counter()
        nb = execute(path, {}, timeout=3600)
        seconds = time.perf_counter() - start
        minutes = record(path, seconds, dataset_used(nb), (before, os.getloadavg()[0]))
        record_in_readme(path, minutes)
        print(f"{path.name:<42} {seconds:7.1f} s  -> about {minutes:g} min  "
              f"(load {before:.2f} before, {os.getloadavg()[0]:.2f} after)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
