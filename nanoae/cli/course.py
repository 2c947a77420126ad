"""``nanoae course``: hand the course out, grade what comes back, publish it as web pages::

    nanoae course build handout --edition student       the notebooks without the answers
    nanoae course build answers --edition instructor    with the answers and GUIDE.md
    nanoae course grade submissions/*.ipynb             each exercise's grade and the points
    nanoae course render site                           run every chapter, write site/index.html

What an edition holds: :mod:`nanoae.course.build`; the web pages: :mod:`nanoae.course.render`
(needs ``pip install -e ".[course]"``).
"""
import csv
import sys

from nanoae.cli.arguments import HelpFormatter, Parser
from nanoae.course.build import EDITIONS, build_course, grade_notebook


def add_parser(commands):
    course = commands.add_parser("course", help="the course: student and instructor editions, grading, web pages",
                                 formatter_class=HelpFormatter, description=__doc__.split("\n\n")[0])
    actions = course.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    build = actions.add_parser("build", help="write the student or the instructor edition to a new folder",
                               formatter_class=HelpFormatter)
    build.add_argument("out", help="the folder to write (it must not exist, unless --overwrite)")
    build.add_argument("--edition", required=True, choices=EDITIONS,
                       help="student: the exercises left for the student to write; instructor: with the answers "
                            "and the instructors' guide")
    build.add_argument("--overwrite", action="store_const", const=True,
                       help="replace an edition written to OUT before")
    build.set_defaults(run=run_build)

    grade = actions.add_parser("grade", help="grade submitted notebooks (only their exercise cells are run)",
                               formatter_class=HelpFormatter)
    grade.add_argument("notebooks", nargs="+", help="submitted chapter notebooks, named as the course's own")
    grade.add_argument("--csv", action="store_const", const=True,
                       help="print one CSV row per exercise (notebook, exercise, status, points, out of)")
    grade.set_defaults(run=run_grade)

    render = actions.add_parser("render", help="run every chapter and write the course as web pages",
                                formatter_class=HelpFormatter)
    render.add_argument("out", help="the folder to write index.html and the chapter pages to")
    render.add_argument("--dataset", default="auto",
                        help="the dataset every chapter runs on: auto, mnist, fashion-mnist or fontdigits")
    render.add_argument("--edition", default="student", choices=EDITIONS,
                        help="student: the exercises left to write (safe to publish); instructor: with the answers")
    render.add_argument("--chapters", type=chapter_numbers, help="only these chapters, e.g. 0,6,7")
    render.add_argument("--timeout", type=int, default=1800, help="the most seconds one cell may take")
    render.add_argument("--test-settings", action="store_const", const=True,
                        help="each chapter's small test settings on fontdigits: the whole course in minutes")
    render.set_defaults(run=run_render)


def chapter_numbers(text):
    """An argument type: "0,6,7" -> [0, 6, 7]."""
    return [int(n) for n in text.split(",")]


def run_build(args):
    written = build_course(args.out, args.edition, overwrite=args.overwrite)
    notebooks = sum(1 for path in written if path.suffix == ".ipynb")
    print(f"wrote the {args.edition} edition to {args.out}: {notebooks} notebooks, "
          f"{', '.join(p.name for p in written if p.suffix == '.md')}")
    return 0


def run_grade(args):
    rows = [(path, name, grade, points) for path in args.notebooks for name, points, grade in grade_notebook(path)]
    if args.csv:
        out = csv.writer(sys.stdout)
        out.writerow(["notebook", "exercise", "status", "points", "out_of"])
        for path, name, grade, points in rows:
            out.writerow([path, name, grade.status, points if grade.passed else 0, points])
        return 0
    for path in args.notebooks:
        mine = [row for row in rows if row[0] == path]
        earned = sum(points for _, _, grade, points in mine if grade.passed)
        print(f"{path}: {earned:g} of {sum(points for *_, points in mine):g} points")
        for _, name, grade, points in mine:
            print(f"    {points:g} pt  {grade!r}")
    return 0


def run_render(args):
    # The web pages need the course extra (nbconvert, nbclient); every other command must work without
    # it, so it is imported here, when it is asked for, and its absence is a one-line error.
    try:
        from nanoae.course.render import render_course  # noqa: E402
    except ImportError as e:
        raise RuntimeError(str(e)) from None
    overrides = {} if args.test_settings else {"DATASET": repr(args.dataset)}   # a Python expression
    render_course(args.out, edition=args.edition, overrides=overrides, test_settings=bool(args.test_settings),
                  chapters=args.chapters, timeout=args.timeout)
    return 0
