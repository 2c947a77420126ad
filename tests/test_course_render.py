"""The readable edition: every chapter built into a web page, and the pages seen in a real browser.

The course is built once for this file, at test settings (each notebook's
small settings, on the embedded fontdigits: about a minute and a half on two
cores). The tests then read the HTML it wrote, and open the index and one
chapter in headless Chromium, which must load and decode every image.

Two small made-up notebooks check what the real chapters cannot show
exactly: that a page holds as many figures as its notebook drew, that an
override reaches only the chapters that have the parameter, and that a build
which fails leaves no index behind.

The browser tests need Debian's Chromium and its driver
(``apt-get install chromium chromium-driver``; CI installs them) and skip,
saying so, where they are missing. Chapter 13 needs PyTorch and is left out
of the build where it is not installed.
"""
import base64
import html.parser
import importlib.util
import os
import pathlib
import re
import shutil

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from nanoae.course.editions import (BEGIN, cell_source, is_exercise_cell, read_notebook, solution_lines,
                                    student_notebook)
from nanoae.course.render import chapter_pages, format_seconds, render_course

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TORCH_MISSING = importlib.util.find_spec("torch") is None
NEED_TORCH = {"13"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BROWSER_CHAPTER = "06"   # the chapter opened in Chromium: the VAE, with many figures


class Links(html.parser.HTMLParser):
    """Collects every link (href) and every image (src) of an HTML page, in order."""

    def __init__(self, text):
        super().__init__()
        self.hrefs, self.images = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))


def text_of(page):
    """The text a reader sees in a piece of HTML, without its tags."""
    parser = html.parser.HTMLParser()
    pieces = []
    parser.handle_data = pieces.append
    parser.feed(page)
    return "".join(pieces)


def read_page(path):
    return Links(path.read_text(encoding="utf-8"))


def image_bytes(src, folder):
    """The bytes an <img src> points at: a data: URI's content, or a file beside the page."""
    if src.startswith("data:"):
        header, _, data = src.partition(",")
        assert header.endswith(";base64"), header
        return base64.b64decode(data)
    path = folder / src
    assert path.is_file(), f"the image {src} is not beside the page"
    return path.read_bytes()


# --- the real course, built once ----------------------------------------------------

# The chapters built here: every chapter already runs top to bottom in tests/test_notebooks.py, so the
# course is built from a few that between them have every kind of page (no dataset, figures, a
# PyTorch-free last chapter), which keeps the suite inside its time on 2 cores.
BUILT = ("00", "01", "06", "14")


def built_chapter_numbers():
    numbers = [path.name[:2] for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")) if path.name[:2] in BUILT]
    return [n for n in numbers if not (n in NEED_TORCH and TORCH_MISSING)]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course at test settings: its folder, and its chapters as the index lists them."""
    folder = tmp_path_factory.mktemp("course")
    numbers = built_chapter_numbers()
    render_course(folder, test_settings=True, chapters=numbers, progress=False)
    return folder, chapter_pages(NOTEBOOKS, numbers)


def test_index_links_every_chapter_in_order(course):
    folder, chapters = course
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert Links(index).hrefs == [chapter.page for chapter in chapters]
    for chapter in chapters:
        assert (folder / chapter.page).is_file()
        assert chapter.title.split(" · ")[1] in index   # "06 · The variational autoencoder"
    assert "test settings" in index


def test_index_gives_each_chapter_its_summary_and_its_time(course):
    folder, chapters = course
    index = (folder / "index.html").read_text(encoding="utf-8")
    rows = index.split("<tr>")[2:]   # [0] is before the table, [1] its header
    assert len(rows) == len(chapters)
    for row, chapter in zip(rows, chapters):
        assert chapter.page in row
        assert re.sub(r"[`*]", "", chapter.summary) in text_of(row)   # Markdown `code` and *emphasis* as tags
        assert re.search(r'<td class="time">[0-9]+ (s|min [0-9]{2} s|h [0-9]{2} min)</td>', row), row[-80:]


def page_params():
    for path in sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb") if p.name[:2] in BUILT):
        marks = [pytest.mark.skipif(TORCH_MISSING, reason=f'{path.stem} needs PyTorch: pip install -e ".[torch]"')] \
            if path.name[:2] in NEED_TORCH else []
        yield pytest.param(path.stem + ".html", id=path.stem, marks=marks)


@pytest.mark.parametrize("page", list(page_params()))
def test_every_chapter_page_holds_its_figures_as_png(course, page):
    folder, _ = course
    images = read_page(folder / page).images
    assert images, f"{page} shows no figure"
    for src in images:
        assert image_bytes(src, folder).startswith(PNG_SIGNATURE), src[:60]


def answer_lines(notebook):
    """The lines of a notebook's answers that its student edition does not hold anyway.

    A short answer line can also stand elsewhere in the notebook (in a worked
    example, say); such a line gives nothing away and is left out.
    """
    nb = read_notebook(notebook)
    student_text = "\n".join(cell_source(cell) for cell in student_notebook(nb)["cells"])
    return [line for cell in nb["cells"] if is_exercise_cell(cell)
            for line in solution_lines(cell_source(cell)) if line not in student_text]


def test_the_student_edition_shows_no_answer(course):
    folder, chapters = course
    hidden = 0
    for chapter in chapters:
        text = text_of((folder / chapter.page).read_text(encoding="utf-8"))
        assert BEGIN not in text
        answers = answer_lines(chapter.notebook)
        if answers:   # the stub is found in the highlighted code, so the search below can find code too
            assert "raise NotImplementedError()" in text
        shown = [line for line in answers if line in text]
        assert not shown, f"{chapter.page} shows answers: {shown[:3]}"
        hidden += len(answers)
    assert hidden > 0, "no chapter has an answer between the markers: this test checks nothing"


def test_each_chapter_page_links_to_the_index_and_its_neighbours(course):
    folder, chapters = course
    for k, chapter in enumerate(chapters):
        hrefs = set(read_page(folder / chapter.page).hrefs)
        assert "index.html" in hrefs
        if k > 0:
            assert chapters[k - 1].page in hrefs
        if k + 1 < len(chapters):
            assert chapters[k + 1].page in hrefs


# --- small made-up courses --------------------------------------------------------

def write_notebook(folder, name, title, parameters, code):
    nb = nbformat.v4.new_notebook()
    parameters_cell = nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nIt is a made-up chapter. It has two sentences."),
                parameters_cell, nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, folder / name)


DRAW_FIGURES = """\
import matplotlib.pyplot as plt
for k in range(FIGURES):
    plt.figure(figsize=(2, 2))
    plt.plot([0, k])
    plt.show()
"""


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    """Two made-up chapters: the first draws FIGURES figures (set to 3), the second prints."""
    notebooks = tmp_path_factory.mktemp("notebooks")
    write_notebook(notebooks, "00-drawing.ipynb", "00 · Drawing", "FIGURES = 1", DRAW_FIGURES)
    write_notebook(notebooks, "01-printing.ipynb", "01 · Printing", "WORDS = 2", "print('word ' * WORDS)")
    out = tmp_path_factory.mktemp("small-course")
    render_course(out, notebooks, overrides={"FIGURES": "3"}, progress=False)
    return out


def test_a_page_holds_exactly_the_figures_its_notebook_drew(small_course):
    assert len(read_page(small_course / "00-drawing.html").images) == 3   # FIGURES = 3, not the notebook's 1
    assert read_page(small_course / "01-printing.html").images == []


def test_navigation_links_contents_previous_and_next(small_course):
    assert read_page(small_course / "00-drawing.html").hrefs[:2] == ["index.html", "01-printing.html"]
    assert read_page(small_course / "01-printing.html").hrefs[:2] == ["index.html", "00-drawing.html"]


def test_a_chapter_missing_from_the_readme_is_summed_up_by_its_first_sentence(small_course):
    index = (small_course / "index.html").read_text(encoding="utf-8")
    assert index.count("It is a made-up chapter.") == 2 and "two sentences" not in index


def test_a_misspelt_parameter_is_refused_before_anything_runs(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="DATASETT"):
        render_course(tmp_path / "out", NOTEBOOKS, overrides={"DATASETT": '"fashion-mnist"'}, progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_failed_build_leaves_no_index(tmp_path):
    notebooks, out = tmp_path / "notebooks", tmp_path / "out"
    notebooks.mkdir()
    out.mkdir()
    write_notebook(notebooks, "00-working.ipynb", "00 · Working", "X = 1", "print(X)")
    write_notebook(notebooks, "01-broken.ipynb", "01 · Broken", "X = 1", "raise RuntimeError('planted')")
    (out / "index.html").write_text("an index from an earlier build")
    with pytest.raises(CellExecutionError, match="planted"):
        render_course(out, notebooks, progress=False)
    assert sorted(path.name for path in out.iterdir()) == ["00-working.html"]


def test_format_seconds_reads_as_a_person_says_it():
    assert [format_seconds(s) for s in (8.4, 125, 3720)] == ["8 s", "2 min 05 s", "1 h 02 min"]


# --- in a real browser ---------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium driven by selenium through Debian's chromedriver."""
    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver_path):
        pytest.skip("needs Chromium and its driver: sudo apt-get install -y chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason='needs selenium: pip install -e ".[dev]"')
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def keep_screenshot(path):
    """Also copy a screenshot to $NANOAE_SCREENSHOTS, where it is set, for a person to look at."""
    folder = os.environ.get("NANOAE_SCREENSHOTS")
    if folder:
        pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder)


def images_in_browser(driver):
    """[(src start, loaded, natural width)] for every <img> of the page the browser shows."""
    return driver.execute_script(
        "return Array.from(document.images).map(i => [i.src.slice(0, 30), i.complete, i.naturalWidth]);")


def test_the_index_renders_in_chromium(course, chromium, tmp_path):
    folder, chapters = course
    chromium.get((folder / "index.html").as_uri())
    assert chromium.find_element("tag name", "h1").text.startswith("nanoae")
    links = chromium.find_elements("css selector", "td a")
    assert [link.text for link in links] == [chapter.title for chapter in chapters]
    assert all(link.is_displayed() and link.size["height"] > 0 for link in links)
    assert all(width > 0 for _, _, width in images_in_browser(chromium))
    shot = tmp_path / "course-index.png"
    assert chromium.save_screenshot(str(shot))
    keep_screenshot(shot)


def test_a_chapter_renders_with_its_images_in_chromium(course, chromium, tmp_path):
    folder, chapters = course
    chapter = next(c for c in chapters if c.number == BROWSER_CHAPTER)
    chromium.get((folder / chapter.page).as_uri())
    heading = chromium.find_element("tag name", "h1")
    assert heading.is_displayed() and chapter.title in heading.text
    images = images_in_browser(chromium)
    assert len(images) == len(read_page(folder / chapter.page).images) > 0
    broken = [src for src, loaded, width in images if not (loaded and width > 0)]
    assert not broken, f"images that did not load or decode: {broken}"
    top, figure = tmp_path / f"course-{chapter.number}-top.png", tmp_path / f"course-{chapter.number}-figure.png"
    assert chromium.save_screenshot(str(top))
    chromium.execute_script("document.images[0].scrollIntoView({block: 'center'});")
    assert chromium.save_screenshot(str(figure))
    for shot in (top, figure):
        keep_screenshot(shot)
