"""What every command's parser shares: argument types that check their values, one-line
errors, and "(default: ...)" in --help."""
import argparse
import math


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: ...)" to an option's help, unless the help already says it or there is none."""

    def _get_help_string(self, action):
        if "default" in (action.help or "") or action.default is None or action.default is False \
                or action.default == argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, pointing to --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def dest(flag):
    """The attribute argparse stores an option under: "--noise-type" -> "noise_type"."""
    return flag.lstrip("-").replace("-", "_")


def options_given(args, flags):
    """The flags among ``flags`` that were given on the command line (their value is not None)."""
    return [flag for flag in flags if getattr(args, dest(flag), None) is not None]


def positive(kind, at_most=None):
    """An argument type: a finite number of ``kind`` above 0 (and at most ``at_most``, if given)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n' if kind is int else ''} {kind.__name__}") \
                from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"{text!r} is more than {at_most}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def non_negative_int(text):
    """An argument type: an integer >= 0 (a seed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def fraction(text):
    """An argument type: a number in (0, 1)."""
    value = positive(float)(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be below 1")
    return value


def layer_sizes(text):
    """'400' -> (400,); '512,256' -> (512, 256); '' -> () (no hidden layer)."""
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of layer sizes") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be positive")
    return sizes


def class_list(text):
    """'3' -> [3]; '3,5' -> [3, 5]: class labels."""
    try:
        classes = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of class labels") from None
    if not classes or classes[0] < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: class labels are integers 0, 1, 2, ...")
    return classes


def add_device(parser, default="cpu", help="gpu needs CuPy"):
    parser.add_argument("--device", choices=("cpu", "gpu"), default=default, help=help)
