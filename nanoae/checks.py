"""Checks on the values a caller passes in, shared by every part of nanoae.

Each returns the value when it is good (a sequence comes back as a tuple) and
otherwise raises a ValueError (a TypeError for labels of a non-integer dtype) naming the owner (a class or a function), the
field and the value given, so that the message says what to fix::

    checks.positive_int("DataLoader", "batch_size", 0)
    ValueError: DataLoader: batch_size must be a positive integer, got 0

An int may be a Python int or a NumPy integer; ``bool`` is refused: ``True``
is an int to Python, but ``hidden=(True,)`` is a mistake, not a layer of one unit.
"""
import math
import numbers

from nanoae import backend


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(owner, name, value):
    """``value`` if it is an int >= 1."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return value


def non_negative_int(owner, name, value):
    """``value`` if it is an int >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be an integer >= 0, got {value!r}")
    return value


def sizes(owner, name, value, example="(400,)"):
    """A sequence of positive ints, as a tuple (a config read back from JSON holds lists).

    An empty sequence is allowed (no hidden layer); ``example`` shows the form in the message.
    """
    if isinstance(value, (str, int)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{owner}: {name} must be a tuple of sizes such as {example}, got {value!r}")
    value = tuple(value)
    if not all(_is_int(n) and n >= 1 for n in value):
        raise ValueError(f"{owner}: {name} must hold positive integers, got {value!r}")
    return value


def class_labels(owner, labels, data, data_name="codes"):
    """``labels`` as an integer array of classes 0, 1, ..., one per row of ``data`` and
    in its array module (NumPy or CuPy); ``data_name`` names ``data`` in the message."""
    rows = data.shape[0]
    if not backend.is_array(labels):
        raise ValueError(f"{owner}: labels must be an integer array ({rows},), got {type(labels).__name__}")
    labels = backend.get_array_module(data).asarray(labels)
    if labels.shape != (rows,):
        raise ValueError(f"{owner}: labels must have shape ({rows},) to match {data_name} {data.shape}, "
                         f"got {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{owner}: labels must be integer classes, got dtype {labels.dtype}")
    if len(labels) and int(labels.min()) < 0:
        raise ValueError(f"{owner}: labels must be classes 0, 1, ..., got {int(labels.min())}")
    return labels


def choice(owner, name, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def positive(owner, name, value):
    """``value`` if it is a finite number > 0 (not NaN, not infinity)."""
    if not _is_number(value) or not 0 < value < math.inf:
        raise ValueError(f"{owner}: {name} must be positive and finite, got {value!r}")
    return value


def non_negative(owner, name, value):
    """``value`` if it is a finite number >= 0."""
    if not _is_number(value) or not 0 <= value < math.inf:
        raise ValueError(f"{owner}: {name} must be >= 0 and finite, got {value!r}")
    return value


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
