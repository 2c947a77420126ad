"""The chapter 10 graders (nanoae/exercises/ch10_conv.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake. The planted answers are the
reference loops with one thing changed.
"""
import math

import numpy as np

import nanoae
from nanoae import functional as F
from nanoae.exercises import ch10_conv as graders
from nanoae.ops import conv as conv_ops
from grading_asserts import assert_fails_naming


# --- conv_output_size ---------------------------------------------------------------------

def test_output_size_grader_fails_a_missing_padding():
    assert_fails_naming(graders.grade_conv_output_size(lambda h, k, s, p: (h - k) // s + 1),
                        "padding is missing", "H + 2p")


def test_output_size_grader_fails_padding_on_one_side():
    assert_fails_naming(graders.grade_conv_output_size(lambda h, k, s, p: (h + p - k) // s + 1),
                        "one side only")


def test_output_size_grader_fails_a_missing_plus_one():
    assert_fails_naming(graders.grade_conv_output_size(lambda h, k, s, p: (h + 2 * p - k) // s),
                        "+1 is missing")


def test_output_size_grader_fails_an_ignored_stride():
    assert_fails_naming(graders.grade_conv_output_size(lambda h, k, s, p: h + 2 * p - k + 1),
                        "stride is ignored")


def test_output_size_grader_fails_rounding_up():
    assert_fails_naming(graders.grade_conv_output_size(lambda h, k, s, p: math.ceil((h + 2 * p - k) / s) + 1),
                        "rounded up")


def test_output_size_grader_fails_a_true_division():
    assert_fails_naming(graders.grade_conv_output_size(lambda h, k, s, p: (h + 2 * p - k) / s + 1),
                        "divide with //")


def test_output_size_grader_accepts_a_whole_float_but_fails_a_string():
    assert graders.grade_conv_output_size(lambda h, k, s, p: float((h + 2 * p - k) // s + 1)).passed
    assert_fails_naming(graders.grade_conv_output_size(lambda h, k, s, p: str((h + 2 * p - k) // s + 1)),
                        "return an int")


# --- conv2d_naive -------------------------------------------------------------------------------

def conv2d(x, weight, bias, stride, padding, flip=False, use_padding=True, use_stride=True, use_bias=True):
    """The loops of the solution, with switches that plant one mistake each."""
    if flip:
        weight = weight[:, :, ::-1, ::-1]
    p = padding if use_padding else 0
    s = stride if use_stride else 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    n, _, h, w = x_pad.shape
    c_out, _, kh, kw = weight.shape
    y = np.zeros((n, c_out, (h - kh) // s + 1, (w - kw) // s + 1))
    for a in range(y.shape[2]):
        for b in range(y.shape[3]):
            window = x_pad[:, :, a * s:a * s + kh, b * s:b * s + kw]
            y[:, :, a, b] = np.einsum("nchw,ochw->no", window, weight) + (bias if use_bias else 0)
    return y


def test_conv2d_grader_fails_a_flipped_kernel():
    assert_fails_naming(graders.grade_conv2d_naive(lambda *a: conv2d(*a, flip=True)),
                        "kernel is flipped", "cross-correlation")


def test_conv2d_grader_fails_an_ignored_padding():
    assert_fails_naming(graders.grade_conv2d_naive(lambda *a: conv2d(*a, use_padding=False)),
                        "padding is ignored")


def test_conv2d_grader_fails_an_ignored_stride():
    assert_fails_naming(graders.grade_conv2d_naive(lambda *a: conv2d(*a, use_stride=False)),
                        "stride is ignored")


def test_conv2d_grader_fails_a_missing_bias():
    assert_fails_naming(graders.grade_conv2d_naive(lambda *a: conv2d(*a, use_bias=False)), "bias is missing")


def test_conv2d_grader_fails_a_transposed_kernel():
    def transposed(x, weight, bias, stride, padding):
        return conv2d(x, weight.transpose(0, 1, 3, 2).copy(), bias, stride, padding)
    assert_fails_naming(graders.grade_conv2d_naive(transposed), "kernel is transposed")


def test_conv2d_grader_fails_an_unnamed_mistake_with_the_worst_element():
    def off_by_a_bit(*a):
        y = conv2d(*a)
        y[0, 0, 0, 0] += 0.1
        return y
    assert_fails_naming(graders.grade_conv2d_naive(off_by_a_bit), "at index (0, 0, 0, 0)", "relative error")


# --- conv_transpose2d_naive -----------------------------------------------------------------------

def conv_transpose2d(y, weight, stride, padding, flip=False, crop="both", use_stride=True):
    """Scatter each input pixel's kernel into the output, then crop: one mistake per switch."""
    if flip:
        weight = weight[:, :, ::-1, ::-1]
    s = stride if use_stride else 1
    n, c_in, h, w = y.shape
    _, c_out, kh, kw = weight.shape
    full = np.zeros((n, c_out, (h - 1) * s + kh, (w - 1) * s + kw))
    for a in range(h):
        for b in range(w):
            full[:, :, a * s:a * s + kh, b * s:b * s + kw] += np.einsum("nc,cohw->nohw", y[:, :, a, b], weight)
    p = padding
    if crop == "both":
        return full[:, :, p:full.shape[2] - p, p:full.shape[3] - p]
    if crop == "end":
        return full[:, :, :full.shape[2] - 2 * p, :full.shape[3] - 2 * p]
    return full


def test_transpose_grader_passes_the_scatter_loops_of_the_test():
    assert graders.grade_conv_transpose2d_naive(conv_transpose2d).passed


def test_transpose_grader_fails_a_flipped_kernel():
    assert_fails_naming(graders.grade_conv_transpose2d_naive(lambda *a: conv_transpose2d(*a, flip=True)),
                        "kernel is flipped")


def test_transpose_grader_fails_an_uncropped_output():
    assert_fails_naming(graders.grade_conv_transpose2d_naive(lambda *a: conv_transpose2d(*a, crop="none")),
                        "padding is not cropped")


def test_transpose_grader_fails_cropping_at_the_end_only():
    assert_fails_naming(graders.grade_conv_transpose2d_naive(lambda *a: conv_transpose2d(*a, crop="end")),
                        "cropped on one side only")


def test_transpose_grader_fails_an_ignored_stride():
    assert_fails_naming(graders.grade_conv_transpose2d_naive(lambda *a: conv_transpose2d(*a, use_stride=False)),
                        "stride is ignored")


def test_transpose_grader_fails_the_convolution_instead_of_its_adjoint():
    def forward_conv(y, weight, stride, padding):            # conv2d with the weight read the other way
        return conv2d(y, weight.transpose(1, 0, 2, 3), np.zeros(weight.shape[1]), stride, padding)
    assert_fails_naming(graders.grade_conv_transpose2d_naive(forward_conv), "has shape")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_output_size_grader_fails_the_library_output_size():
    def library(h, k, s, p):
        return conv_ops.conv2d_output_size((h, h), (k, k), (s, s), (p, p))[0]
    assert_fails_naming(graders.grade_conv_output_size(library), "calls nanoae.ops.conv.conv2d_output_size")


def test_conv2d_grader_fails_the_library_conv2d():
    def library(x, weight, bias, stride, padding):
        return F.conv2d(nanoae.tensor(x), nanoae.tensor(weight), nanoae.tensor(bias), stride, padding).numpy()
    assert_fails_naming(graders.grade_conv2d_naive(library), "calls nanoae.ops.conv.conv2d")


def test_transpose_grader_fails_the_library_conv_transpose2d():
    def library(y, weight, stride, padding):
        return F.conv_transpose2d(nanoae.tensor(y), nanoae.tensor(weight), stride=stride, padding=padding).numpy()
    assert_fails_naming(graders.grade_conv_transpose2d_naive(library), "calls nanoae.ops.conv.conv_transpose2d")


def test_transpose_grader_fails_the_gradient_of_the_library_conv2d():
    def by_autograd(y, weight, stride, padding):
        n, _, h, w = y.shape
        _, c_out, kh, kw = weight.shape
        size = ((h - 1) * stride - 2 * padding + kh, (w - 1) * stride - 2 * padding + kw)
        x = nanoae.tensor(np.zeros((n, c_out, *size)), requires_grad=True)
        (F.conv2d(x, nanoae.tensor(weight), stride=stride, padding=padding) * nanoae.tensor(y)).sum().backward()
        return x.grad.numpy()
    assert_fails_naming(graders.grade_conv_transpose2d_naive(by_autograd),
                        "calls nanoae.ops.conv.ConvTranspose2d.forward")
