"""Convolutions, pooling and upsampling: nanoae/ops/conv.py and their layers in nanoae.nn.

References are written here as loops, straight from the definitions:

- conv2d: for every output pixel, the sum over its window (a gather);
- conv_transpose2d: for every *input* pixel, its kernel-weighted copy added
  onto its window of the output (a scatter), which is how the op is defined,
  not how nanoae computes it;
- max_pool2d and upsample_nearest: one output pixel at a time.

Backwards are checked with nanoae.gradcheck (float64 central differences,
random upstream gradient, inputs of both signs), including gradients of
gradients; conv2d and conv_transpose2d are checked to be adjoints; ties in
max pooling against gradients worked out by hand. ``pytest -k transpose``
runs every test of conv_transpose2d.
"""
import math
import os
import re
import subprocess
import sys

import numpy
import pytest

import nanoae
from nanoae import ShapeError, Tensor, functional as F, gradcheck, nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def both_signs(shape, seed=0):
    """|x| in [0.2, 2] with random signs."""
    rng = numpy.random.default_rng(seed)
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def tensor(xp, array, requires_grad=False):
    return Tensor(xp.asarray(array), requires_grad=requires_grad)


# --- references, one output (or input) pixel at a time -----------------------------------------

def pad(x, p):
    return numpy.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))


def pair(v):
    return v if isinstance(v, tuple) else (v, v)


def reference_conv2d(x, w, b=None, stride=1, padding=0):
    (sh, sw), p = pair(stride), pair(padding)
    _, _, kh, kw = w.shape
    xpad = pad(x, p)
    ho, wo = (xpad.shape[2] - kh) // sh + 1, (xpad.shape[3] - kw) // sw + 1
    y = numpy.zeros((x.shape[0], w.shape[0], ho, wo))
    for a in range(ho):
        for c in range(wo):
            window = xpad[:, :, a * sh:a * sh + kh, c * sw:c * sw + kw]      # (N, C_in, kH, kW)
            y[:, :, a, c] = numpy.einsum("ncij,ocij->no", window, w)
    return y if b is None else y + b.reshape(-1, 1, 1)


def reference_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0):
    (sh, sw), (ph, pw), (oh, ow) = pair(stride), pair(padding), pair(output_padding)
    n, _, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    ypad = numpy.zeros((n, c_out, (h - 1) * sh + kh + oh, (wd - 1) * sw + kw + ow))
    for a in range(h):
        for c in range(wd):
            ypad[:, :, a * sh:a * sh + kh, c * sw:c * sw + kw] += numpy.einsum("ni,iokl->nokl", x[:, :, a, c], w)
    y = ypad[:, :, ph:ypad.shape[2] - ph, pw:ypad.shape[3] - pw]
    return y if b is None else y + b.reshape(-1, 1, 1)


def reference_max_pool2d(x, k, s):
    ho, wo = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    y = numpy.empty(x.shape[:2] + (ho, wo))
    for a in range(ho):
        for c in range(wo):
            y[:, :, a, c] = x[:, :, a * s:a * s + k, c * s:c * s + k].max(axis=(2, 3))
    return y


def reference_upsample(x, f):
    y = numpy.empty(x.shape[:2] + (x.shape[2] * f, x.shape[3] * f))
    for a in range(y.shape[2]):
        for c in range(y.shape[3]):
            y[:, :, a, c] = x[:, :, a // f, c // f]
    return y


# (input shape, weight shape, stride, padding): square and not, odd and even sizes,
# sizes where the last window does not reach the border, padding wider than the stride.
CONV_SETTINGS = [
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0),
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), 2, 1),
    ((2, 3, 8, 8), (4, 3, 3, 3), 2, 0),
    ((1, 2, 9, 7), (3, 2, 4, 4), 3, 2),
    ((2, 1, 6, 6), (2, 1, 1, 1), 1, 0),
    ((2, 2, 7, 8), (3, 2, 3, 3), (2, 1), (0, 1)),
]
CONV_IDS = [f"x{x}-w{w}-s{s}-p{p}" for x, w, s, p in CONV_SETTINGS]

# (input shape, weight shape (C_in, C_out, kH, kW), stride, padding, output_padding)
TRANSPOSE_SETTINGS = [
    ((2, 3, 4, 5), (3, 2, 3, 3), 1, 0, 0),
    ((2, 3, 4, 5), (3, 2, 3, 3), 1, 1, 0),
    ((2, 3, 4, 4), (3, 2, 3, 3), 2, 1, 1),
    ((2, 3, 4, 4), (3, 2, 4, 4), 2, 1, 0),
    ((1, 2, 3, 4), (2, 3, 3, 2), 3, 1, 2),
    ((2, 2, 3, 4), (2, 3, 3, 3), (2, 1), (1, 0), (1, 0)),
]
TRANSPOSE_IDS = [f"x{x}-w{w}-s{s}-p{p}-op{o}" for x, w, s, p, o in TRANSPOSE_SETTINGS]


# --- forward against the references ------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_SETTINGS, ids=CONV_IDS)
def test_conv2d_forward_matches_loop_over_output_pixels(xp, x_shape, w_shape, stride, padding):
    x, w, b = both_signs(x_shape, 1), both_signs(w_shape, 2), both_signs(w_shape[:1], 3)
    y = F.conv2d(tensor(xp, x), tensor(xp, w), tensor(xp, b), stride=stride, padding=padding)
    numpy.testing.assert_allclose(y.numpy(), reference_conv2d(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding", TRANSPOSE_SETTINGS,
                         ids=TRANSPOSE_IDS)
def test_conv_transpose2d_forward_matches_scatter_over_input_pixels(xp, x_shape, w_shape, stride, padding,
                                                                     output_padding):
    x, w, b = both_signs(x_shape, 1), both_signs(w_shape, 2), both_signs(w_shape[1:2], 3)
    y = F.conv_transpose2d(tensor(xp, x), tensor(xp, w), tensor(xp, b), stride, padding, output_padding)
    expected = reference_conv_transpose2d(x, w, b, stride, padding, output_padding)
    numpy.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, s", [(2, 2), (3, 2), (2, 1), (3, 3)])
def test_max_pool2d_forward_matches_loop(xp, k, s):
    x = both_signs((2, 3, 7, 8))
    numpy.testing.assert_array_equal(F.max_pool2d(tensor(xp, x), k, s).numpy(), reference_max_pool2d(x, k, s))


def test_max_pool2d_stride_defaults_to_kernel_size(xp):
    x = both_signs((1, 2, 6, 6))
    numpy.testing.assert_array_equal(F.max_pool2d(tensor(xp, x), 3).numpy(), reference_max_pool2d(x, 3, 3))


@pytest.mark.parametrize("f", [1, 2, 3])
def test_upsample_nearest_forward_matches_loop(xp, f):
    x = both_signs((2, 3, 3, 4))
    numpy.testing.assert_array_equal(F.upsample_nearest(tensor(xp, x), f).numpy(), reference_upsample(x, f))


def test_float32_stays_float32(xp):
    x = Tensor(xp.asarray(both_signs((2, 1, 6, 6)), dtype="float32"), requires_grad=True)
    w = Tensor(xp.asarray(both_signs((2, 1, 3, 3)), dtype="float32"), requires_grad=True)
    wt = Tensor(xp.asarray(both_signs((2, 1, 2, 2)), dtype="float32"), requires_grad=True)
    y = F.upsample_nearest(F.max_pool2d(F.conv2d(x, w, padding=1), 2), 2)
    y = F.conv_transpose2d(y, wt, stride=2)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == wt.grad.dtype == numpy.float32


# --- backward: finite differences, adjoints, gradients of gradients --------------------------

@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_SETTINGS, ids=CONV_IDS)
def test_conv2d_gradients_match_finite_differences(xp, x_shape, w_shape, stride, padding):
    x, w, b = both_signs(x_shape, 1), both_signs(w_shape, 2), both_signs(w_shape[:1], 3)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding), [xp.asarray(a) for a in (x, w, b)])


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding", TRANSPOSE_SETTINGS,
                         ids=TRANSPOSE_IDS)
def test_conv_transpose2d_gradients_match_finite_differences(xp, x_shape, w_shape, stride, padding,
                                                              output_padding):
    x, w, b = both_signs(x_shape, 1), both_signs(w_shape, 2), both_signs(w_shape[1:2], 3)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, output_padding),
                     [xp.asarray(a) for a in (x, w, b)])


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_SETTINGS, ids=CONV_IDS)
def test_conv2d_and_conv_transpose2d_are_adjoint(xp, x_shape, w_shape, stride, padding):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>, with the output_padding that gives x's size back."""
    x, w = both_signs(x_shape, 1), both_signs(w_shape, 2)
    y_conv = F.conv2d(tensor(xp, x), tensor(xp, w), stride=stride, padding=padding)
    y = both_signs(y_conv.shape, 3)
    (sh, sw), (ph, pw), (kh, kw) = pair(stride), pair(padding), w_shape[2:]
    extra = ((x_shape[2] + 2 * ph - kh) % sh, (x_shape[3] + 2 * pw - kw) % sw)
    back = F.conv_transpose2d(tensor(xp, y), tensor(xp, w), stride=stride, padding=padding, output_padding=extra)
    assert back.shape == x_shape
    assert float((y_conv.numpy() * y).sum()) == pytest.approx(float((x * back.numpy()).sum()), rel=1e-12)


def _gradient_of(op, wrt):
    """The function (inputs) -> d<op(inputs), u>/d inputs[wrt], recorded so that it can be differentiated."""
    def first_derivative(*inputs):
        with nanoae.enable_grad():  # gradcheck evaluates under no_grad; this gradient needs a graph
            y = op(*inputs)
            u = Tensor(y.xp.asarray(both_signs(y.shape, 7)))
            return nanoae.grad(y, [inputs[wrt]], grad_output=u, create_graph=True)[0]
    return first_derivative


def _squared(op):
    """op followed by a square, so that its gradient depends on every input (not only linearly)."""
    return lambda *inputs: op(*inputs) ** 2


SECOND_ORDER = [
    ("conv2d d/dx", _squared(lambda x, w: F.conv2d(x, w, stride=2, padding=1)), 0, [(2, 2, 5, 5), (3, 2, 3, 3)]),
    ("conv2d d/dw", _squared(lambda x, w: F.conv2d(x, w, stride=2, padding=1)), 1, [(2, 2, 5, 5), (3, 2, 3, 3)]),
    ("conv_transpose2d d/dx", _squared(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)),
     0, [(2, 3, 3, 3), (3, 2, 3, 3)]),
    ("conv_transpose2d d/dw", _squared(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)),
     1, [(2, 3, 3, 3), (3, 2, 3, 3)]),
    ("max_pool2d d/dx", _squared(lambda x: F.max_pool2d(x, 3, stride=2)), 0, [(1, 2, 5, 5)]),
    ("upsample_nearest d/dx", _squared(lambda x: F.upsample_nearest(x, 2)), 0, [(1, 2, 3, 3)]),
]


@pytest.mark.parametrize("name, op, wrt, shapes", SECOND_ORDER, ids=[case[0] for case in SECOND_ORDER])
def test_second_derivatives_match_finite_differences_of_the_gradient(xp, name, op, wrt, shapes):
    inputs = [xp.asarray(both_signs(shape, seed)) for seed, shape in enumerate(shapes)]
    assert gradcheck(_gradient_of(op, wrt), inputs)


def test_conv2d_input_gradient_is_conv_transpose2d_of_the_upstream_gradient(xp):
    """The reuse the module docstring promises, checked against the scatter reference (frozen weight)."""
    x = tensor(xp, both_signs((2, 3, 8, 8), 1), requires_grad=True)
    w = both_signs((4, 3, 3, 3), 2)
    y = F.conv2d(x, tensor(xp, w), stride=2, padding=1)
    gy = both_signs(y.shape, 3)
    y.backward(xp.asarray(gy))
    numpy.testing.assert_allclose(x.grad.numpy(), reference_conv_transpose2d(gy, w, None, 2, 1, 1), atol=1e-12)


def test_conv2d_weight_gradient_alone_when_the_input_needs_none(xp):
    """A first layer: its input (the images) needs no gradient, its weight does."""
    x, w, gy = both_signs((2, 3, 6, 6), 1), both_signs((4, 3, 3, 3), 2), both_signs((2, 4, 3, 3), 3)
    image, weight = tensor(xp, x), tensor(xp, w, requires_grad=True)
    F.conv2d(image, weight, stride=2, padding=1).backward(xp.asarray(gy))
    assert image.grad is None
    xpad = pad(x, (1, 1))
    expected = numpy.zeros_like(w)
    for i in range(3):
        for j in range(3):  # dw[o, c, i, j] = sum over n, a, b of dy[n, o, a, b] xpad[n, c, 2a + i, 2b + j]
            expected[:, :, i, j] = numpy.einsum("noab,ncab->oc", gy, xpad[:, :, i:i + 5:2, j:j + 5:2])
    numpy.testing.assert_allclose(weight.grad.numpy(), expected, atol=1e-12)


# --- max pooling: ties and where the gradient goes ---------------------------------------------

def test_max_pool2d_tie_sends_the_whole_gradient_to_the_first_maximum(xp):
    x = numpy.array([[[[1.0, 1.0, -2.0, 0.5],
                       [1.0, 0.0, 0.5, 0.5],
                       [-3.0, -1.0, 4.0, -4.0],
                       [-1.0, -2.0, 3.0, 4.0]]]])
    xt = tensor(xp, x, requires_grad=True)
    y = F.max_pool2d(xt, 2)
    numpy.testing.assert_array_equal(y.numpy(), [[[[1.0, 0.5], [-1.0, 4.0]]]])
    y.backward(xp.asarray([[[[10.0, 20.0], [30.0, 40.0]]]]))
    expected = numpy.array([[[[10.0, 0.0, 0.0, 20.0],    # three tied 1s: the first (row-major) gets it all
                              [0.0, 0.0, 0.0, 0.0],      # three tied 0.5s: the first, at (0, 3)
                              [0.0, 30.0, 40.0, 0.0],    # 4 at (2, 2) comes before 4 at (3, 3)
                              [0.0, 0.0, 0.0, 0.0]]]])
    numpy.testing.assert_array_equal(xt.grad.numpy(), expected)


def test_max_pool2d_overlapping_windows_add_their_gradients_at_a_shared_maximum(xp):
    x = numpy.zeros((1, 1, 3, 4)) - 1.0
    x[0, 0, 1, 1] = 5.0  # in the 2x2 windows at columns 0 and 1 (stride 1) of both rows
    xt = tensor(xp, x, requires_grad=True)
    y = F.max_pool2d(xt, 2, stride=1)                   # (1, 1, 2, 3)
    gy = numpy.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    y.backward(xp.asarray(gy))
    expected = numpy.zeros_like(x)
    expected[0, 0, 1, 1] = 1.0 + 2.0 + 4.0 + 5.0       # the four windows that contain the 5
    expected[0, 0, 0, 2] = 3.0                         # the other windows: all -1, the first wins
    expected[0, 0, 1, 2] = 6.0
    numpy.testing.assert_array_equal(xt.grad.numpy(), expected)


# --- output sizes -----------------------------------------------------------------------------

@pytest.mark.parametrize("h, k, s, p, expected", [(28, 3, 1, 1, 28), (28, 3, 2, 1, 14), (14, 3, 2, 1, 7),
                                                  (28, 5, 1, 0, 24), (7, 7, 1, 0, 1), (8, 3, 3, 0, 2)])
def test_conv2d_output_size_is_h_plus_2p_minus_k_over_s_plus_1(xp, h, k, s, p, expected):
    y = F.conv2d(tensor(xp, numpy.zeros((1, 2, h, h))), tensor(xp, numpy.zeros((3, 2, k, k))), stride=s, padding=p)
    assert y.shape == (1, 3, expected, expected)


@pytest.mark.parametrize("h, k, s, p, op, expected", [(7, 3, 2, 1, 1, 14), (14, 3, 2, 1, 1, 28), (7, 4, 2, 1, 0, 14),
                                                      (1, 7, 1, 0, 0, 7), (5, 3, 1, 1, 0, 5)])
def test_conv_transpose2d_output_size_is_h_minus_1_times_s_minus_2p_plus_k_plus_op(xp, h, k, s, p, op, expected):
    y = F.conv_transpose2d(tensor(xp, numpy.zeros((1, 2, h, h))), tensor(xp, numpy.zeros((2, 3, k, k))),
                           stride=s, padding=p, output_padding=op)
    assert y.shape == (1, 3, expected, expected)


def test_a_conv_encoder_and_transposed_conv_decoder_round_trip_28_by_28(xp):
    encoder = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),
                            nn.Conv2d(4, 8, 3, stride=2, padding=1))
    decoder = nn.Sequential(nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                            nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1))
    code = encoder(nanoae.rand(2, 1, 28, 28))
    assert code.shape == (2, 8, 7, 7)
    assert decoder(code).shape == (2, 1, 28, 28)


# --- errors -----------------------------------------------------------------------------------

def _zeros(xp, *shape):
    return Tensor(xp.zeros(shape))


ERRORS = [
    ("conv2d 3-D input", lambda xp: F.conv2d(_zeros(xp, 3, 8, 8), _zeros(xp, 4, 3, 3, 3)),
     r"conv2d: input must be 4-D \(N, C, H, W\), got shape \(3, 8, 8\)"),
    ("conv2d wrong channels", lambda xp: F.conv2d(_zeros(xp, 2, 1, 8, 8), _zeros(xp, 4, 3, 3, 3)),
     r"conv2d: input has 1 channels \(shape \(2, 1, 8, 8\)\) but weight of shape \(4, 3, 3, 3\)"),
    ("conv2d kernel too large", lambda xp: F.conv2d(_zeros(xp, 1, 1, 4, 4), _zeros(xp, 1, 1, 7, 7), padding=1),
     r"conv2d: kernel \(7, 7\) is larger than the padded input \(6, 6\)"),
    ("conv2d 2-D weight", lambda xp: F.conv2d(_zeros(xp, 1, 1, 4, 4), _zeros(xp, 1, 9)),
     r"conv2d: weight must be 4-D"),
    ("conv2d bias shape", lambda xp: F.conv2d(_zeros(xp, 1, 1, 4, 4), _zeros(xp, 2, 1, 3, 3), _zeros(xp, 3)),
     r"conv2d: bias must have shape \(2,\)"),
    ("conv_transpose2d wrong channels",
     lambda xp: F.conv_transpose2d(_zeros(xp, 2, 4, 7, 7), _zeros(xp, 3, 1, 3, 3)),
     r"conv_transpose2d: input has 4 channels \(shape \(2, 4, 7, 7\)\) but weight of shape \(3, 1, 3, 3\)"),
    ("conv_transpose2d empty output",
     lambda xp: F.conv_transpose2d(_zeros(xp, 1, 1, 1, 1), _zeros(xp, 1, 1, 2, 2), padding=1),
     r"conv_transpose2d: .* gives an empty output"),
    ("max_pool2d kernel too large", lambda xp: F.max_pool2d(_zeros(xp, 1, 1, 3, 3), 4),
     r"max_pool2d: kernel_size \(4, 4\) is larger than the padded input \(3, 3\)"),
    ("max_pool2d 2-D input", lambda xp: F.max_pool2d(_zeros(xp, 4, 4), 2), r"max_pool2d: input must be 4-D"),
    ("upsample_nearest 3-D input", lambda xp: F.upsample_nearest(_zeros(xp, 1, 4, 4), 2),
     r"upsample_nearest: input must be 4-D"),
]


@pytest.mark.parametrize("name, call, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_shapes_raise_shape_error_naming_op_and_shapes(xp, name, call, message):
    with pytest.raises(ShapeError, match=message):
        call(xp)


BAD_VALUES = [
    ("stride 0", lambda xp: F.conv2d(_zeros(xp, 1, 1, 4, 4), _zeros(xp, 1, 1, 3, 3), stride=0),
     r"conv2d: stride must be an int >= 1"),
    ("negative padding", lambda xp: F.conv2d(_zeros(xp, 1, 1, 4, 4), _zeros(xp, 1, 1, 3, 3), padding=-1),
     r"conv2d: padding must be an int >= 0"),
    ("output_padding >= stride",
     lambda xp: F.conv_transpose2d(_zeros(xp, 1, 1, 4, 4), _zeros(xp, 1, 1, 3, 3), stride=2, output_padding=2),
     r"conv_transpose2d: output_padding \(2, 2\) must be smaller than stride \(2, 2\)"),
    ("fractional scale", lambda xp: F.upsample_nearest(_zeros(xp, 1, 1, 4, 4), 1.5),
     r"upsample_nearest: scale_factor must be an int >= 1, got 1.5"),
]


@pytest.mark.parametrize("name, call, message", BAD_VALUES, ids=[e[0] for e in BAD_VALUES])
def test_bad_settings_raise_value_error_naming_op_and_setting(xp, name, call, message):
    with pytest.raises(ValueError, match=message):
        call(xp)


# --- layers -----------------------------------------------------------------------------------

def test_conv2d_layer_parameter_shapes_and_forward(xp):
    layer = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    assert layer.weight.shape == (5, 3, 3, 3) and layer.bias.shape == (5,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    x = both_signs((2, 3, 6, 6)).astype("float32")
    expected = reference_conv2d(x, layer.weight.numpy(), layer.bias.numpy(), 2, 1)
    numpy.testing.assert_allclose(layer(tensor(xp, x)).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert nn.Conv2d(3, 5, (3, 2), bias=False).bias is None
    assert nn.Conv2d(3, 5, (3, 2), bias=False).parameters()[0].shape == (5, 3, 3, 2)


def test_conv_transpose2d_layer_parameter_shapes_and_forward(xp):
    layer = nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1, output_padding=1)
    assert layer.weight.shape == (3, 5, 3, 3) and layer.bias.shape == (5,)
    x = both_signs((2, 3, 4, 4)).astype("float32")
    expected = reference_conv_transpose2d(x, layer.weight.numpy(), layer.bias.numpy(), 2, 1, 1)
    numpy.testing.assert_allclose(layer(tensor(xp, x)).numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, fan_in", [(lambda: nn.Conv2d(16, 32, 3), 16 * 9),
                                          (lambda: nn.ConvTranspose2d(32, 16, 3), 16 * 9),
                                          (lambda: nn.Conv2d(8, 4, (5, 3)), 8 * 15)])
def test_conv_layers_default_init_is_pytorchs_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w = layer.weight.numpy()
    assert numpy.abs(w).max() <= bound and numpy.abs(w).max() > 0.95 * bound
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.1)
    assert numpy.abs(layer.bias.numpy()).max() <= bound
    assert layer.weight.dtype == numpy.float32


def test_pool_upsample_flatten_unflatten_layers(xp):
    x = tensor(xp, both_signs((2, 3, 4, 6)))
    numpy.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy(), reference_max_pool2d(x.numpy(), 2, 2))
    numpy.testing.assert_array_equal(nn.Upsample(3)(x).numpy(), reference_upsample(x.numpy(), 3))
    flat = nn.Flatten()(x)
    numpy.testing.assert_array_equal(flat.numpy(), x.numpy().reshape(2, 72))
    numpy.testing.assert_array_equal(nn.Unflatten(1, (3, 4, 6))(flat).numpy(), x.numpy())
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 24)
    assert nn.Unflatten(-1, (2, 3))(x).shape == (2, 3, 4, 2, 3)
    with pytest.raises(ShapeError, match=r"Unflatten: axis 1 of the input \(shape \(2, 72\)\) has 72 elements"):
        nn.Unflatten(1, (1, 28, 28))(flat)


def test_conv_layers_repr_shows_their_settings():
    assert repr(nn.Conv2d(1, 16, 3, stride=2, padding=1)) == \
        "Conv2d(1, 16, kernel_size=(3, 3), stride=2, padding=1, bias=True)"
    assert repr(nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1, bias=False)) == \
        "ConvTranspose2d(16, 1, kernel_size=(3, 3), stride=2, padding=1, output_padding=1, bias=False)"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=None)"
    assert repr(nn.Upsample()) == "Upsample(scale_factor=2, mode='nearest')"
    assert repr(nn.Unflatten(1, (1, 28, 28))) == "Unflatten(dim=1, unflattened_size=(1, 28, 28))"


@pytest.mark.parametrize("m, k, p, piece", [(3, 50, 7, 8), (7, 50, 3, 8), (5, 12, 5, 8), (2, 9, 30, 4096)])
def test_product_over_long_axis_is_the_matrix_product_whichever_side_is_longer(m, k, p, piece):
    from nanoae.ops.conv import product_over_long_axis
    rng = numpy.random.default_rng(m * 100 + p)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, p))   # both signs
    product = product_over_long_axis(a, b, piece=piece)              # pieces of K when K > 2 piece, and
    assert product.shape == (m, p)                                   # turned round when m < p
    assert numpy.allclose(product, a @ b, rtol=1e-12, atol=1e-12)


# --- the benchmark -----------------------------------------------------------------------------

def test_conv_benchmark_quick_run_checks_agreement_and_prints_a_ratio():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=ROOT)
    run = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "conv.py"), "--quick"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "agree" in run.stdout
    assert re.search(r"ratio nanoae / NumPy = \d+\.\d+", run.stdout), run.stdout
    assert re.search(r"nanoae / NumPy = \d+\.\d+ \(round by round \d+\.\d+\);", run.stdout), run.stdout
