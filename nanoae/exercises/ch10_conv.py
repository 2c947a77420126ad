"""Graders for chapter 10, the convolutional autoencoder.

Layouts are PyTorch's: images (N, C, H, W); a convolution's weight
(C_out, C_in, kH, kW), a transposed convolution's weight (C_in, C_out, kH, kW);
stride s and padding p, the same along both axes. A convolution in deep
learning is a cross-correlation (no kernel flip), and the transposed
convolution is its adjoint (without bias).

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``conv_output_size(size, kernel_size, stride, padding)`` | H_out, an int | the sizes stored for nine settings, where each usual slip gives another answer |
| ``conv2d_naive(x, weight, bias, stride, padding)`` | the convolution with loops, (N, C_out, H_out, W_out) | the shape and the values stored for these inputs |
| ``conv_transpose2d_naive(y, weight, stride, padding)`` | the transposed convolution with loops | the shape and the values stored for these inputs (the adjoint of the convolution's matrix) |

Each exercise rules out the library code that would do it:
``conv2d_output_size``, ``F.conv2d`` (and the ``Conv2d`` op, ``im2col``),
``F.conv_transpose2d`` (and the ``ConvTranspose2d`` op, ``col2im``, and so a
conv2d's backward). Inputs have both signs, C_in != C_out, H != W and
kH != kW, so that a swapped axis changes the answer. When an answer is wrong,
the grader names the usual mistake it matches (a flipped kernel, padding or
stride ignored, the bias forgotten, ...).
"""
from nanoae import backend, functional as F
from nanoae.exercises import Mismatch, StoredValues, as_numpy, diagnose, grader, passed_within, random_array
from nanoae.ops import conv as conv_ops

TOL = 1e-9      # the stored values are sums of products in float64: a right answer agrees to ~1e-15
STORED = StoredValues("ch10_conv")
xp = backend.array_module_for("cpu")  # the graders build their inputs on the CPU

# Case c checks the output sizes of SIZES[c], the convolution CONVOLUTIONS[c] and the transposed
# convolution TRANSPOSED[c]. The settings of each case tell every usual mistake from the right answer.
SIZES = (   # (size, kernel_size, stride, padding)
    ((28, 3, 1, 0), (28, 3, 2, 1), (7, 3, 2, 1)),
    ((28, 5, 1, 2), (10, 4, 3, 1), (9, 2, 2, 0)),
    ((5, 5, 1, 0), (12, 3, 4, 2), (14, 3, 2, 1)),
)
CONVOLUTIONS = (   # (N, C_in, H, W, C_out, kH, kW, stride, padding, seed)
    (2, 3, 7, 6, 4, 3, 3, 2, 1, 100),
    (1, 2, 5, 6, 3, 3, 2, 1, 0, 110),
    (2, 1, 6, 5, 2, 2, 3, 3, 2, 120),
)
TRANSPOSED = (   # (N, C_in, H, W, C_out, kH, kW, stride, padding, seed)
    (2, 3, 3, 4, 2, 3, 3, 2, 1, 200),
    (1, 2, 4, 3, 3, 2, 3, 1, 0, 210),
    (2, 2, 3, 2, 1, 3, 2, 3, 1, 220),
)
CASES = tuple(zip(SIZES, CONVOLUTIONS, TRANSPOSED))

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch10_conv.py).
# The *_shape entries are the mistakes that show in the output's shape alone.
MISTAKES = {
    "conv_output_size": {
        "no_padding": "the padding is missing: it adds p pixels on EACH side, H + 2p",
        "padding_one_side": "the padding counts on one side only: it adds p pixels on each side, H + 2p",
        "no_plus_one": "the +1 is missing: a window at offset 0 counts too",
        "no_stride": "the stride is ignored: the window moves s pixels at a time, so divide by s",
        "rounded_up": "you rounded up: a last window that does not fit entirely is dropped, round down with //",
        "no_kernel": "the kernel size is missing: a window needs k pixels",
    },
    "conv2d_naive": {
        "flipped": "the kernel is flipped: that is the convolution of signal processing; deep learning's "
                   "conv2d is a cross-correlation, with no flip",
        "no_bias": "the bias is missing: add bias[o] to every pixel of channel o",
        "bias_sum": "every channel got the sum of all biases: add only bias[o] to channel o",
        "transposed": "the kernel is transposed: its index i runs along H (rows), j along W (columns)",
    },
    "conv2d_naive_shape": {
        "no_padding": "the padding is ignored: pad x with p zeros on every side first",
        "no_stride": "the stride is ignored: the window moves s pixels at a time, y[a, b] starts at "
                     "x_pad[a*s, b*s]",
        "kernel_axes_swapped": "kH and kW are swapped: weight is (C_out, C_in, kH, kW), kH runs along H",
        "input_channels": "the output needs C_out channels, weight.shape[0]",
    },
    "conv_transpose2d_naive": {
        "flipped": "the kernel is flipped: each input pixel stamps weight[c] as it is, with no flip",
        "cropped_at_the_end": "the padding is cropped on one side only: drop p rows and columns at the start "
                              "AND p at the end",
        "cropped_at_the_start": "the padding is cropped on one side only: drop p rows and columns at the "
                                "start AND p at the end",
    },
    "conv_transpose2d_naive_shape": {
        "not_cropped": "the padding is not cropped: the convolution padded its input with p zeros on each "
                       "side, so its adjoint drops p rows and columns on each side of the full output",
        "no_stride": "the stride is ignored: input pixel (a, b) spreads its kernel from (a*s - p, b*s - p)",
        "input_channels": "the output needs C_out channels: weight is (C_in, C_out, kH, kW)",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def output_size_inputs(case):
    """The (size, kernel_size, stride, padding) settings of case ``case``."""
    return SIZES[case]


def conv2d_inputs(case):
    """(x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,), stride, padding)."""
    n, c_in, h, w, c_out, kh, kw, stride, padding, seed = CONVOLUTIONS[case]
    return (random_array((n, c_in, h, w), seed), random_array((c_out, c_in, kh, kw), seed + 1),
            random_array((c_out,), seed + 2), stride, padding)


def conv_transpose2d_inputs(case):
    """(y (N, C_in, H, W), weight (C_in, C_out, kH, kW), stride, padding)."""
    n, c_in, h, w, c_out, kh, kw, stride, padding, seed = TRANSPOSED[case]
    return random_array((n, c_in, h, w), seed), random_array((c_in, c_out, kh, kw), seed + 1), stride, padding


def check_shape(got, exercise, case, what):
    """A Mismatch if ``got`` has not the stored shape, naming the mistake whose stored shape it has."""
    def as_shape(stored):
        return tuple(int(n) for n in stored)
    expected = as_shape(STORED.expected(f"{exercise}_shape", case))
    if got.shape == expected:
        return
    for name, shape in STORED.mistakes(f"{exercise}_shape", case).items():
        if got.shape == as_shape(shape):
            raise Mismatch(f"{MISTAKES[f'{exercise}_shape'][name]} ({what} has shape {got.shape}, "
                           f"expected {expected})")
    raise Mismatch(f"{what} has shape {got.shape}, expected {expected}")


# --- exercise 1: the output size ------------------------------------------------------------

def whole_number(answer, setting):
    """``answer`` as an int, or a Mismatch saying why it is not one."""
    try:
        whole = int(answer) == answer and not isinstance(answer, bool)
    except (TypeError, ValueError):
        whole = False
    if not whole:
        size, k, s, p = setting
        if isinstance(answer, float):
            raise Mismatch(f"for size={size}, kernel_size={k}, stride={s}, padding={p} you returned "
                           f"{answer}: divide with // (a window must fit entirely), and return an int")
        raise Mismatch(f"return an int (a number of positions), got {type(answer).__name__} {answer!r}")
    return int(answer)


@grader("conv_output_size", forbidden=(conv_ops.conv2d_output_size,))
def grade_conv_output_size(conv_output_size):
    count = 0
    for case in range(len(CASES)):
        settings = output_size_inputs(case)
        got = xp.array([whole_number(conv_output_size(*setting), setting) for setting in settings], dtype=float)
        expected = STORED.expected("conv_output_size", case)
        if (got != expected).any():
            first_wrong = int((got != expected).argmax())
            size, k, s, p = settings[first_wrong]
            where = (f"for size={size}, kernel_size={k}, stride={s}, padding={p}: yours {int(got[first_wrong])}, "
                     f"expected {int(expected[first_wrong])}")
            hints = MISTAKES["conv_output_size"]
            diagnose(got, [(wrong, hints[name]) for name, wrong in STORED.mistakes("conv_output_size", case).items()],
                     Mismatch(f"a wrong output size {where}"))
        count += len(settings)
    return f"all {count} sizes right, including strides that do not divide H + 2p - k"


# --- exercise 2: the convolution with loops ---------------------------------------------------

@grader("conv2d_naive", forbidden=(F.conv2d, conv_ops.Conv2d.forward, conv_ops.im2col))
def grade_conv2d_naive(conv2d_naive):
    worst = 0.0
    for case in range(len(CASES)):
        x, weight, bias, stride, padding = conv2d_inputs(case)
        what = f"your output (x {x.shape}, weight {weight.shape}, stride={stride}, padding={padding})"
        got = as_numpy(conv2d_naive(x.copy(), weight.copy(), bias.copy(), stride, padding))
        check_shape(got, "conv2d_naive", case, what)
        worst = max(worst, STORED.check(got, "conv2d_naive", case, MISTAKES["conv2d_naive"], TOL, what))
    return passed_within(worst, TOL) + " against the values stored for these inputs"


# --- exercise 3: the transposed convolution with loops ---------------------------------------

@grader("conv_transpose2d_naive", forbidden=(F.conv_transpose2d, conv_ops.ConvTranspose2d.forward, conv_ops.col2im))
def grade_conv_transpose2d_naive(conv_transpose2d_naive):
    worst = 0.0
    for case in range(len(CASES)):
        y, weight, stride, padding = conv_transpose2d_inputs(case)
        what = f"your output (y {y.shape}, weight {weight.shape}, stride={stride}, padding={padding})"
        got = as_numpy(conv_transpose2d_naive(y.copy(), weight.copy(), stride, padding))
        check_shape(got, "conv_transpose2d_naive", case, what)
        worst = max(worst, STORED.check(got, "conv_transpose2d_naive", case, MISTAKES["conv_transpose2d_naive"],
                                        TOL, what))
    return (passed_within(worst, TOL) + " against the values stored for these inputs: yours is the adjoint "
            "of conv2d")
