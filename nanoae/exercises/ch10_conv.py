"""Graders for chapter 10, the convolutional autoencoder.

Notation (PyTorch's layouts): images x (N, C_in, H, W); a convolution's
weight (C_out, C_in, kH, kW); stride s and padding p, the same along both
axes. A convolution in deep learning is a cross-correlation (no kernel flip):

    y[n, o, a, b] = bias[o] + sum_{c, i, j} w[o, c, i, j] * x_pad[n, c, a*s + i, b*s + j]

with x_pad the input with p zeros on every side, and H_out = (H + 2p - kH) // s + 1.
The transposed convolution, weight (C_in, C_out, kH, kW), is the adjoint of
that map (without bias): the gradient of a convolution with respect to its input.

| exercise | what the student writes | checked against |
| --- | --- | --- |
| ``conv_output_size(size, kernel_size, stride, padding)`` | H_out, an int | the formula, on sizes where each usual slip gives another answer |
| ``conv2d_naive(x, weight, bias, stride, padding)`` | the convolution with loops, (N, C_out, H_out, W_out) | a sum over the kH * kW kernel offsets of strided slices (einsum) |
| ``conv_transpose2d_naive(y, weight, stride, padding)`` | the transposed convolution with loops | the transpose of the convolution's matrix, built column by column |

Inputs have both signs, C_in != C_out, H != W and kH != kW, so that a swapped
axis changes the answer; references are exact in float64. When an answer is
wrong, the grader tries the usual mistakes (a flipped kernel, padding or
stride ignored, the bias forgotten, ...) and names the one the answer matches.
"""
from nanoae import backend
from nanoae.exercises import Mismatch, as_numpy, compare, diagnose, grader, passed_within, random_array

TOL = 1e-9      # the references are sums of products in float64: a right answer agrees to ~1e-15
xp = backend.array_module_for("cpu")  # the graders build their inputs and references on the CPU


# --- references ------------------------------------------------------------------------

def _out_size(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1


def _conv2d(x, weight, bias, stride, padding):
    """The reference convolution: one einsum per kernel offset (i, j), over strided slices of x_pad.

    For a fixed offset, the input pixels that meet w[:, :, i, j] are
    x_pad[:, :, i::s, j::s] (H_out x W_out of them): a matrix product over channels.
    """
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out, w_out = _out_size(h, kh, stride, padding), _out_size(w, kw, stride, padding)
    x_pad = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = xp.zeros((n, c_out, h_out, w_out))
    for i in range(kh):
        for j in range(kw):
            window = x_pad[:, :, i:i + stride * (h_out - 1) + 1:stride, j:j + stride * (w_out - 1) + 1:stride]
            out += xp.einsum("nchw,oc->nohw", window, weight[:, :, i, j])
    if bias is not None:
        out += bias.reshape(1, c_out, 1, 1)
    return out


def _conv_transpose2d(y, weight, stride, padding):
    """The reference transposed convolution: A^T y, with A the matrix of x -> conv2d(x, weight).

    ``weight`` (C_in, C_out, kH, kW) is read by the convolution as (C_out', C_in') =
    (C_in, C_out): it maps images of C_out channels and size (H - 1) s - 2p + k to
    images of C_in channels and size H. Column m of A is the convolution of the
    m-th basis image; then (A^T y)_m = <A e_m, y>.
    """
    n, c_in, h, w = y.shape
    _, c_out, kh, kw = weight.shape
    h_x, w_x = (h - 1) * stride - 2 * padding + kh, (w - 1) * stride - 2 * padding + kw
    size = c_out * h_x * w_x
    basis = xp.eye(size).reshape(size, c_out, h_x, w_x)                    # every basis image at once
    columns = _conv2d(basis, weight, None, stride, padding)                # (size, C_in, H, W): A e_m
    matrix = columns.reshape(size, -1).T                                   # A: (C_in*H*W, C_out*h_x*w_x)
    return (y.reshape(n, -1) @ matrix).reshape(n, c_out, h_x, w_x)         # rows of (A^T y)^T


def _check_shape(got, expected_shape, what, known_shapes):
    """A Mismatch for a wrong shape, naming the mistake when the shape is one a known mistake gives."""
    if got.shape == expected_shape:
        return
    for shape, hint in known_shapes:
        if got.shape == shape:
            raise Mismatch(f"{hint} ({what} has shape {got.shape}, expected {expected_shape})")
    raise Mismatch(f"{what} has shape {got.shape}, expected {expected_shape}")


# --- exercise 1: the output size ------------------------------------------------------------

SIZE_CASES = ((28, 3, 1, 0), (28, 3, 2, 1), (7, 3, 2, 1), (28, 5, 1, 2), (10, 4, 3, 1), (9, 2, 2, 0),
              (5, 5, 1, 0), (12, 3, 4, 2))   # (size, kernel_size, stride, padding)


@grader("conv_output_size")
def grade_conv_output_size(conv_output_size):
    got = []
    for size, k, s, p in SIZE_CASES:
        answer = conv_output_size(size, k, s, p)
        try:
            whole = int(answer) == answer and not isinstance(answer, bool)
        except (TypeError, ValueError):
            whole = False
        if not whole:
            if isinstance(answer, float):
                raise Mismatch(f"for size={size}, kernel_size={k}, stride={s}, padding={p} you returned "
                               f"{answer}: divide with // (a window must fit entirely), and return an int")
            raise Mismatch(f"return an int (a number of positions), got {type(answer).__name__} {answer!r}")
        got.append(int(answer))
    got = xp.array(got, dtype=float)

    def every_case(formula):
        return xp.array([formula(*case) for case in SIZE_CASES], dtype=float)

    expected = every_case(_out_size)
    try:
        compare(got, expected, 0, "your output sizes (one per case)")
    except Mismatch as mismatch:
        first_wrong = int((got != expected).argmax())
        size, k, s, p = SIZE_CASES[first_wrong]
        where = (f"for size={size}, kernel_size={k}, stride={s}, padding={p}: yours {int(got[first_wrong])}, "
                 f"expected {int(expected[first_wrong])}")
        diagnose(got, [
            (every_case(lambda h, k, s, p: (h - k) // s + 1), f"the padding is missing: it adds p pixels on "
                                                                f"EACH side, H + 2p ({where})"),
            (every_case(lambda h, k, s, p: (h + p - k) // s + 1), f"the padding counts on one side only: it "
                                                                    f"adds p pixels on each side, H + 2p ({where})"),
            (every_case(lambda h, k, s, p: (h + 2 * p - k) // s), f"the +1 is missing: a window at offset 0 "
                                                                   f"counts too ({where})"),
            (every_case(lambda h, k, s, p: h + 2 * p - k + 1), f"the stride is ignored: the window moves s "
                                                                f"pixels at a time, so divide by s ({where})"),
            (every_case(lambda h, k, s, p: -(-(h + 2 * p - k) // s) + 1), f"you rounded up: a last window "
                                                                           f"that does not fit entirely is "
                                                                           f"dropped, round down with // ({where})"),
            (every_case(lambda h, k, s, p: (h + 2 * p) // s), f"the kernel size is missing: a window needs k "
                                                              f"pixels, (H + 2p - k) // s + 1 ({where})"),
        ], Mismatch(f"a wrong output size {where}; H_out = (H + 2p - k) // s + 1"))
    return f"all {len(SIZE_CASES)} sizes right, including strides that do not divide H + 2p - k"


# --- exercise 2: the convolution with loops ---------------------------------------------------

CONV_CASES = (   # (N, C_in, H, W, C_out, kH, kW, stride, padding, seed)
    (2, 3, 7, 6, 4, 3, 3, 2, 1, 100),
    (1, 2, 5, 6, 3, 3, 2, 1, 0, 110),
    (2, 1, 6, 5, 2, 2, 3, 3, 2, 120),
)


@grader("conv2d_naive")
def grade_conv2d_naive(conv2d_naive):
    worst = 0.0
    for n, c_in, h, w, c_out, kh, kw, s, p, seed in CONV_CASES:
        x = random_array((n, c_in, h, w), seed)
        weight = random_array((c_out, c_in, kh, kw), seed + 1)
        bias = random_array((c_out,), seed + 2)
        what = (f"your output (x {x.shape}, weight {weight.shape}, stride={s}, padding={p})")
        got = as_numpy(conv2d_naive(x.copy(), weight.copy(), bias.copy(), s, p))
        h_out, w_out = _out_size(h, kh, s, p), _out_size(w, kw, s, p)
        _check_shape(got, (n, c_out, h_out, w_out), what, [
            ((n, c_out, _out_size(h, kh, s, 0), _out_size(w, kw, s, 0)),
             "the padding is ignored: pad x with p zeros on every side first"),
            ((n, c_out, _out_size(h, kh, 1, p), _out_size(w, kw, 1, p)),
             "the stride is ignored: the window moves s pixels at a time, y[a, b] starts at x_pad[a*s, b*s]"),
            ((n, c_out, _out_size(h, kw, s, p), _out_size(w, kh, s, p)),
             "kH and kW are swapped: weight is (C_out, C_in, kH, kW), kH runs along H"),
            ((n, c_in, h_out, w_out), "the output needs C_out channels, weight.shape[0]"),
        ])
        expected = _conv2d(x, weight, bias, s, p)
        try:
            worst = max(worst, compare(got, expected, TOL, what))
        except Mismatch as mismatch:
            diagnose(got, [
                (_conv2d(x, weight[:, :, ::-1, ::-1], bias, s, p),
                 "the kernel is flipped: that is the convolution of signal processing; deep learning's "
                 "conv2d is a cross-correlation, y[a, b] = sum w[i, j] x_pad[a*s + i, b*s + j]"),
                (_conv2d(x, weight, None, s, p), "the bias is missing: add bias[o] to every pixel of channel o"),
                (_conv2d(x, weight, 0 * bias, s, p) + bias.sum(),
                 "every channel got the sum of all biases: add only bias[o] to channel o"),
            ] + ([(_conv2d(x, weight.transpose(0, 1, 3, 2), bias, s, p),
                   "the kernel is transposed: w[o, c, i, j] multiplies x_pad[..., a*s + i, b*s + j] (i along H)")]
                 if kh == kw else []), mismatch)
    return passed_within(worst, TOL) + " against a sum over kernel offsets of strided slices"


# --- exercise 3: the transposed convolution with loops ---------------------------------------

TRANSPOSE_CASES = (   # (N, C_in, H, W, C_out, kH, kW, stride, padding, seed)
    (2, 3, 3, 4, 2, 3, 3, 2, 1, 200),
    (1, 2, 4, 3, 3, 2, 3, 1, 0, 210),
    (2, 2, 3, 2, 1, 3, 2, 3, 1, 220),
)


@grader("conv_transpose2d_naive")
def grade_conv_transpose2d_naive(conv_transpose2d_naive):
    worst = 0.0
    for n, c_in, h, w, c_out, kh, kw, s, p, seed in TRANSPOSE_CASES:
        y = random_array((n, c_in, h, w), seed)
        weight = random_array((c_in, c_out, kh, kw), seed + 1)
        what = f"your output (y {y.shape}, weight {weight.shape}, stride={s}, padding={p})"
        got = as_numpy(conv_transpose2d_naive(y.copy(), weight.copy(), s, p))
        h_out, w_out = (h - 1) * s - 2 * p + kh, (w - 1) * s - 2 * p + kw
        _check_shape(got, (n, c_out, h_out, w_out), what, [
            ((n, c_out, (h - 1) * s + kh, (w - 1) * s + kw),
             "the padding is not cropped: the convolution padded its input with p zeros on each side, so "
             "its adjoint drops p rows and columns on each side of the full output"),
            ((n, c_out, h - 1 - 2 * p + kh, w - 1 - 2 * p + kw),
             "the stride is ignored: input pixel (a, b) spreads its kernel from (a*s - p, b*s - p)"),
            ((n, c_in, h_out, w_out), "the output needs C_out channels: weight is (C_in, C_out, kH, kW)"),
        ])
        expected = _conv_transpose2d(y, weight, s, p)
        full = _conv_transpose2d(y, weight, s, 0)                 # before cropping the padding
        try:
            worst = max(worst, compare(got, expected, TOL, what))
        except Mismatch as mismatch:
            diagnose(got, [
                (_conv_transpose2d(y, weight[:, :, ::-1, ::-1], s, p),
                 "the kernel is flipped: input pixel (a, b) adds y[a, b] * w[i, j] at (a*s - p + i, b*s - p + j)"),
                (full[:, :, :h_out, :w_out], "the padding is cropped on one side only: drop p rows and columns "
                                             "at the start AND p at the end"),
                (full[:, :, 2 * p:, 2 * p:] if p else None, "the padding is cropped on one side only: drop p "
                                                            "rows and columns at the start AND p at the end"),
            ], mismatch)
    return (passed_within(worst, TOL) + " against the transpose of the convolution's matrix: yours is "
            "the adjoint of conv2d")
