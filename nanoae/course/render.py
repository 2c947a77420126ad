"""The readable edition: every chapter executed and published as a static web site.

The notebooks are committed without outputs, so that their diffs stay
readable; a student browsing them sees no figure. :func:`render_course` runs
every chapter top to bottom (on the dataset and settings you choose) and
writes one HTML page per chapter, with every output and figure, plus an
``index.html``: a table of contents with each chapter's title, its one-line
summary and the time it took to run. Open the index in any browser; no server
and no Python are needed to read the course.

The pages show an edition of the course (see ``editions.py``): by default the
student edition, so that a course handed out as web pages gives no answer
away; the instructor edition shows each answer and its grader's PASS.

Why nbconvert and not Jupyter Book: nbconvert is the Jupyter project's own
converter, kept by the same people as the notebook format, and it turns one
notebook into one page with a single class (``HTMLExporter``). Jupyter Book
1 stacks Sphinx, MyST-NB and a theme (dozens of packages) on top of the same
conversion, and Jupyter Book 2 is a Node.js program; for fourteen pages and
a table of contents, the table is a few lines of our own.

Each page is self-contained: nbconvert puts every figure into the page as a
``data:`` URI, so a page can be copied, mailed or served on its own and never
shows a broken image. The pages load MathJax from its CDN to typeset the
formulas; offline, a formula shows as its LaTeX source.
"""
import datetime
import html
import json
import pathlib
import re
import time
from dataclasses import dataclass

try:
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.filters import markdown2html
except ImportError as missing:
    raise ImportError(f'rendering the course needs {missing.name}: pip install -e ".[course]"') from None

from nanoae.course.build import EDITIONS
from nanoae.course.editions import NOTEBOOKS, chapter_notebooks, read_notebook, student_notebook
from nanoae.course.execute import TEST_DATASET, parameters_cell, run_notebook, settings_for_tests
from nanoae.course.guide import chapter_facts
from nanoae.serialization import atomic_write

COURSE_TITLE = "nanoae · autoencoders from scratch"

# Set in every chapter that has the parameter, unless overridden: a progress
# bar is of no use on a page that is read after the run.
READING_SETTINGS = {"PROGRESS": "False"}

# nbconvert's JupyterLab page, with our navigation above and below the
# notebook. require.js is left out: it only serves widgets and old
# JavaScript outputs, which no chapter has, and it would come from a CDN.
CHAPTER_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block extra_css -%}
<style>
/* lined up with the text of the cells, which starts after the prompts (In [1]:) */
.course-navigation {
  margin: 1em 0 1em calc(var(--jp-cell-prompt-width, 64px) + 22px);
  font-family: var(--jp-ui-font-family);
}
.course-navigation a { color: var(--jp-content-link-color, #1976d2); text-decoration: underline; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}{{ super() }}{{ resources.course_navigation }}{%- endblock body_header -%}
{%- block body_footer -%}{{ resources.course_navigation }}{{ super() }}{%- endblock body_footer -%}
"""


@dataclass
class ChapterPage:
    """One chapter as the table of contents shows it."""
    number: str            # "06"
    notebook: pathlib.Path
    title: str             # "06 · The variational autoencoder"
    summary: str           # one line, Markdown
    seconds: float | None = None  # how long it took to execute, once it has run

    @property
    def page(self):
        """The chapter's file name in the course folder, beside index.html."""
        return self.notebook.stem + ".html"


# --- reading the chapters ---------------------------------------------------------

def first_sentence(nb):
    """The first sentence after the title: the summary of a chapter the README's table lacks.

    A paragraph wholly in italics is a note (such as the chapter's time), not the prose, and is skipped.
    """
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            paragraphs = [p.strip() for p in source.split("\n\n")]
            paragraphs = [p for p in paragraphs
                          if p and not p.startswith("#") and not re.fullmatch(r"\*[^*].*\*", p, re.S)]
            if paragraphs:
                return re.split(r"(?<=[.!?])\s", " ".join(paragraphs[0].split()), maxsplit=1)[0]
    return ""


def readme_summaries(notebooks_dir):
    """{notebook file name: its one-line summary} from the table in the notebooks' README.

    The README sums up each chapter in one row (``| 06 | `06-....ipynb` | what
    you build | ...``); the index says the same thing rather than a second
    wording. The summary is the cell right after the file name.
    """
    readme = pathlib.Path(notebooks_dir) / "README.md"
    if not readme.exists():
        return {}
    summaries = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for i, cell in enumerate(cells[:-1]):
            if re.fullmatch(r"`[0-9][0-9]-[^`]+\.ipynb`", cell):
                summaries[cell.strip("`")] = cells[i + 1]
    return summaries


def chapter_pages(notebooks_dir=NOTEBOOKS, chapters=None):
    """The chapters of ``notebooks_dir`` in order, or only those numbered in ``chapters``."""
    paths = chapter_notebooks(notebooks_dir)
    if chapters is not None:
        wanted = {f"{int(number):02d}" for number in chapters}
        missing = wanted - {path.name[:2] for path in paths}
        if missing:
            raise ValueError(f"no chapter {', '.join(sorted(missing))} in {notebooks_dir}")
        paths = [path for path in paths if path.name[:2] in wanted]
    summaries = readme_summaries(notebooks_dir)
    pages = []
    for path in paths:
        facts = chapter_facts(path)
        summary = summaries.get(path.name) or first_sentence(read_notebook(path))
        pages.append(ChapterPage(facts.number, path, f"{facts.number} · {facts.title}", summary))
    return pages


def edition_notebook(path, edition):
    """Notebook ``path`` as the ``edition`` shows it: the student's without the answers."""
    nb = read_notebook(path)
    if edition == "student":
        nb = student_notebook(nb, path.name)
    return nbformat.reads(json.dumps(nb), as_version=4)


def chapter_settings(nb, overrides, test_settings):
    """The parameters to set in one chapter: the reading settings, its test settings if asked,
    then the overrides. A setting the chapter has no parameter for is left out (not every
    chapter reads images: chapter 14 has no DATASET)."""
    _, names = parameters_cell(nb)
    settings = dict(READING_SETTINGS)
    if test_settings:
        settings["DATASET"] = TEST_DATASET
        settings.update(settings_for_tests(nb))
    settings.update(overrides)
    return {name: value for name, value in settings.items() if name in names}


def check_override_names(chapters, overrides):
    """Refuse, before hours of running, a parameter that no chosen chapter has (a misspelling)."""
    known = set()
    for chapter in chapters:
        known |= parameters_cell(nbformat.read(chapter.notebook, as_version=4))[1]
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"no chapter has a parameter named {', '.join(sorted(unknown))}; "
                         f"the parameters are {', '.join(sorted(known))}")


# --- writing the pages --------------------------------------------------------------

def navigation(chapter, previous, following):
    """The links at the top and bottom of a chapter page: contents, previous, next."""
    links = ['<a href="index.html">Contents</a>']
    if previous:
        links.append(f'<a rel="prev" href="{previous.page}">&larr; {html.escape(previous.title)}</a>')
    if following:
        links.append(f'<a rel="next" href="{following.page}">{html.escape(following.title)} &rarr;</a>')
    return '<nav class="course-navigation">' + " &middot; ".join(links) + "</nav>"


def chapter_page(nb, chapter, previous, following):
    """One executed notebook as a complete HTML page (text), figures inside it."""
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"chapter.html.j2": CHAPTER_TEMPLATE})],
                            template_file="chapter.html.j2")
    nb.metadata["title"] = chapter.title  # the page's <title>
    resources = {"course_navigation": navigation(chapter, previous, following)}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def format_seconds(seconds):
    """A duration as a reader says it: "8 s", "2 min 05 s", "1 h 02 min"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def describe_settings(edition, overrides, test_settings):
    """One sentence saying which edition this is and what the chapters ran with."""
    said = {"student": "The student edition (each exercise as you get it: no answer, its grader says TODO), ",
            "instructor": "The instructor edition (each exercise with its answer), "}[edition]
    if test_settings:
        said += "executed at test settings (each notebook's small settings, on the embedded fontdigits)"
    else:
        said += "executed at each notebook's default settings"
    if overrides:
        said += ", with " + ", ".join(f"{name} = {value}" for name, value in overrides.items())
    return said


INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.5em; border-bottom: 1px solid #ddd; }
td.time { white-space: nowrap; text-align: right; }
td p { margin: 0; }
"""


def index_page(chapters, settings, built):
    """The table of contents (HTML text): title (with its number), summary and time of each chapter."""
    rows = []
    for chapter in chapters:
        rows.append(f'<tr><td><a href="{chapter.page}">{html.escape(chapter.title)}</a></td>'
                    f"<td>{markdown2html(chapter.summary)}</td>"
                    f'<td class="time">{format_seconds(chapter.seconds)}</td></tr>')
    total = format_seconds(sum(chapter.seconds for chapter in chapters))
    title = html.escape(COURSE_TITLE)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{INDEX_STYLE}</style></head>
<body>
<h1>{title}</h1>
<p>Every chapter of the course, executed top to bottom with its outputs and figures.
{html.escape(settings)}, on {built:%Y-%m-%d}, in {total} in all.
The time beside each chapter is how long it took to run here.</p>
<table>
<thead><tr><th>chapter</th><th>what you build and check</th><th>time</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""


def write_text(path, text):
    """Write ``text`` as UTF-8 to ``path`` atomically: a reader never finds half a page."""
    with atomic_write(path, "wb") as f:
        f.write(text.encode("utf-8"))


# --- the whole course -----------------------------------------------------------

def render_course(out_dir, notebooks_dir=NOTEBOOKS, edition="student", overrides=None, test_settings=False,
                  chapters=None, progress=True, timeout=1800):
    """Execute the chapters and write the course to ``out_dir``; return the path of its index.html.

    ``edition`` is "student" (each exercise as the student gets it: no answer,
    its grader says TODO) or "instructor" (the answers, graded PASS).
    ``overrides`` ({name: Python expression}, e.g. ``{"DATASET": '"fashion-mnist"'}``)
    is set in every chapter that has the parameter. ``test_settings`` runs
    each chapter at the small settings of its metadata, on fontdigits, in
    seconds. ``chapters`` (numbers such as ``[6, 7]``) renders only those; the
    index then lists only them. ``timeout`` is the most seconds one cell may take.

    The index is written last, and any index of an earlier build is removed
    first, so a build that stops half way (a failing chapter, Ctrl-C) leaves
    the pages it finished but no index claiming a complete course.
    """
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}; the editions are {', '.join(EDITIONS)}")
    out_dir = pathlib.Path(out_dir)
    overrides = dict(overrides or {})
    chosen = chapter_pages(notebooks_dir, chapters)
    check_override_names(chosen, overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.unlink(missing_ok=True)
    for k, chapter in enumerate(chosen):
        # One line when a chapter is done (the kernel writes its own lines to stderr meanwhile).
        said = f"[{k + 1:2d}/{len(chosen)}] {chapter.notebook.stem:<36}"
        nb = edition_notebook(chapter.notebook, edition)
        start = time.perf_counter()
        try:
            run_notebook(nb, chapter.notebook.parent, chapter_settings(nb, overrides, test_settings), timeout,
                         chapter.notebook.name)
        except BaseException:
            if progress:
                print(f"{said} failed after {format_seconds(time.perf_counter() - start)}", flush=True)
            raise
        chapter.seconds = time.perf_counter() - start
        previous = chosen[k - 1] if k > 0 else None
        following = chosen[k + 1] if k + 1 < len(chosen) else None
        write_text(out_dir / chapter.page, chapter_page(nb, chapter, previous, following))
        if progress:
            print(f"{said} {format_seconds(chapter.seconds):>10}  -> {out_dir / chapter.page}", flush=True)
    said = describe_settings(edition, overrides, test_settings)
    write_text(index, index_page(chosen, said, datetime.date.today()))
    if progress:
        print(f"the course: {index}")
    return index
