"""``python -m nanoae`` and the ``nanoae`` command: the command line of :mod:`nanoae.cli`.

Importing the package takes a second or two (NumPy, matplotlib); a Ctrl-C in
that second is answered like one during a command, in one line with exit code
130, which is why the command line is imported inside :func:`run`.
"""
import sys


def run():
    try:
        from nanoae.cli import main
    except KeyboardInterrupt:
        print("nanoae: interrupted", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
