"""The values the chapter 10 graders compare against, from the formulas (instructors' side).

Each public function takes a case number, builds the grader's own inputs for
it, and returns {"expected": the right answer, "mistake/<name>": the answer of
that common mistake}; ``python tests/exercise_values/write.py ch10_conv``
stores them in nanoae/exercises/values/ch10_conv.npz.

The reference convolution is a different algorithm from the loops a student
writes: one matrix product over channels per kernel offset (i, j), on strided
slices of the padded input. The reference transposed convolution is built from
its definition as the adjoint: the matrix A of x -> conv2d(x), column by
column, then A^T y. The ``*_shape`` functions store the output shapes, of the
right answer and of the mistakes that show in the shape alone.
"""
import numpy as np

from nanoae.exercises import ch10_conv as graders


def _out_size(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1


def _transposed_size(size, kernel_size, stride, padding):
    return (size - 1) * stride - 2 * padding + kernel_size


def _conv2d(x, weight, bias, stride, padding):
    """y[n, o, a, b] = bias[o] + sum_{c,i,j} w[o, c, i, j] x_pad[n, c, a*s + i, b*s + j], one einsum per (i, j).

    For a fixed offset (i, j), the input pixels that meet w[:, :, i, j] are
    x_pad[:, :, i::s, j::s] (H_out x W_out of them): a matrix product over channels.
    """
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out, w_out = _out_size(h, kh, stride, padding), _out_size(w, kw, stride, padding)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, c_out, h_out, w_out))
    for i in range(kh):
        for j in range(kw):
            window = x_pad[:, :, i:i + stride * (h_out - 1) + 1:stride, j:j + stride * (w_out - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", window, weight[:, :, i, j])
    if bias is not None:
        out += bias.reshape(1, c_out, 1, 1)
    return out


def _conv_transpose2d(y, weight, stride, padding):
    """A^T y, with A the matrix of x -> conv2d(x, weight) (no bias).

    ``weight`` (C_in, C_out, kH, kW) is read by the convolution as (C_out', C_in') =
    (C_in, C_out): it maps images of C_out channels and size (H - 1) s - 2p + k to
    images of C_in channels and size H. Column m of A is the convolution of the
    m-th basis image; then (A^T y)_m = <A e_m, y>.
    """
    n, _, h, w = y.shape
    _, c_out, kh, kw = weight.shape
    h_x, w_x = _transposed_size(h, kh, stride, padding), _transposed_size(w, kw, stride, padding)
    size = c_out * h_x * w_x
    basis = np.eye(size).reshape(size, c_out, h_x, w_x)                    # every basis image at once
    columns = _conv2d(basis, weight, None, stride, padding)                # (size, C_in, H, W): A e_m
    matrix = columns.reshape(size, -1).T                                   # A: (C_in*H*W, C_out*h_x*w_x)
    return (y.reshape(n, -1) @ matrix).reshape(n, c_out, h_x, w_x)         # rows of (A^T y)^T



def conv_output_size(case):
    settings = graders.output_size_inputs(case)

    def every_setting(formula):
        return [formula(*setting) for setting in settings]
    return {
        "expected": every_setting(_out_size),
        "mistake/no_padding": every_setting(lambda h, k, s, p: (h - k) // s + 1),
        "mistake/padding_one_side": every_setting(lambda h, k, s, p: (h + p - k) // s + 1),
        "mistake/no_plus_one": every_setting(lambda h, k, s, p: (h + 2 * p - k) // s),
        "mistake/no_stride": every_setting(lambda h, k, s, p: h + 2 * p - k + 1),
        "mistake/rounded_up": every_setting(lambda h, k, s, p: -(-(h + 2 * p - k) // s) + 1),
        "mistake/no_kernel": every_setting(lambda h, k, s, p: (h + 2 * p) // s),
    }


def conv2d_naive(case):
    x, weight, bias, stride, padding = graders.conv2d_inputs(case)
    kh, kw = weight.shape[2:]
    answers = {
        "expected": _conv2d(x, weight, bias, stride, padding),
        "mistake/flipped": _conv2d(x, weight[:, :, ::-1, ::-1], bias, stride, padding),
        "mistake/no_bias": _conv2d(x, weight, None, stride, padding),
        "mistake/bias_sum": _conv2d(x, weight, 0 * bias, stride, padding) + bias.sum(),
    }
    if kh == kw:                    # otherwise the transposed kernel shows in the shape (conv2d_naive_shape)
        answers["mistake/transposed"] = _conv2d(x, weight.transpose(0, 1, 3, 2), bias, stride, padding)
    return answers


def conv2d_naive_shape(case):
    x, weight, _, s, p = graders.conv2d_inputs(case)
    n, _, h, w = x.shape
    c_out, c_in, kh, kw = weight.shape
    return {
        "expected": (n, c_out, _out_size(h, kh, s, p), _out_size(w, kw, s, p)),
        "mistake/no_padding": (n, c_out, _out_size(h, kh, s, 0), _out_size(w, kw, s, 0)),
        "mistake/no_stride": (n, c_out, _out_size(h, kh, 1, p), _out_size(w, kw, 1, p)),
        "mistake/kernel_axes_swapped": (n, c_out, _out_size(h, kw, s, p), _out_size(w, kh, s, p)),
        "mistake/input_channels": (n, c_in, _out_size(h, kh, s, p), _out_size(w, kw, s, p)),
    }


def conv_transpose2d_naive(case):
    y, weight, stride, padding = graders.conv_transpose2d_inputs(case)
    h_out, w_out = _transposed_size(y.shape[2], weight.shape[2], stride, padding), \
        _transposed_size(y.shape[3], weight.shape[3], stride, padding)
    full = _conv_transpose2d(y, weight, stride, 0)                  # before cropping the padding
    answers = {
        "expected": _conv_transpose2d(y, weight, stride, padding),
        "mistake/flipped": _conv_transpose2d(y, weight[:, :, ::-1, ::-1], stride, padding),
        "mistake/cropped_at_the_end": full[:, :, :h_out, :w_out],
    }
    if padding:
        answers["mistake/cropped_at_the_start"] = full[:, :, 2 * padding:, 2 * padding:]
    return answers


def conv_transpose2d_naive_shape(case):
    y, weight, s, p = graders.conv_transpose2d_inputs(case)
    n, c_in, h, w = y.shape
    _, c_out, kh, kw = weight.shape
    return {
        "expected": (n, c_out, _transposed_size(h, kh, s, p), _transposed_size(w, kw, s, p)),
        "mistake/not_cropped": (n, c_out, _transposed_size(h, kh, s, 0), _transposed_size(w, kw, s, 0)),
        "mistake/no_stride": (n, c_out, _transposed_size(h, kh, 1, p), _transposed_size(w, kw, 1, p)),
        "mistake/input_channels": (n, c_in, _transposed_size(h, kh, s, p), _transposed_size(w, kw, s, p)),
    }
