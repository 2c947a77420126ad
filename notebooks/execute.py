"""Run a chapter notebook top to bottom, headless, with some parameters changed.

Every notebook starts with a cell tagged ``parameters`` (dataset, epochs,
sizes, device). This script inserts a cell right after it that sets new
values, runs every cell in a fresh kernel, and can save the executed
notebook and each figure it drew::

    python notebooks/execute.py notebooks/06-variational-autoencoder.ipynb \\
        DATASET='"fashion-mnist"' EPOCHS=20 --out runs/06.ipynb --figures runs/06

Values are Python expressions (so strings need their quotes). The work is done
by :mod:`nanoae.course.execute`, which the test suite and ``nanoae course
render`` (every chapter, as a web page) use too.
"""
import argparse

from nanoae.course.execute import execute


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
