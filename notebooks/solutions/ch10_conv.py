"""Reference solutions to the chapter 10 exercises (the convolutional autoencoder): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/10-convolutional-autoencoder.ipynb``; ``nanoae.exercises.ch10_conv``
grades them. Layouts are PyTorch's: images (N, C, H, W), a convolution's weight
(C_out, C_in, kH, kW), a transposed convolution's weight (C_in, C_out, kH, kW).
The loops are written for reading, not for speed.
"""
import numpy as np


def conv_output_size(size, kernel_size, stride, padding):
    """How many positions a window of kernel_size fits in size + 2 padding pixels, moving stride at a time."""
    return (size + 2 * padding - kernel_size) // stride + 1


def conv2d_naive(x, weight, bias, stride, padding):
    """y[n, o, a, b] = bias[o] + sum_{c,i,j} weight[o, c, i, j] x_pad[n, c, a*s + i, b*s + j].

    x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) -> y (N, C_out, H_out, W_out).
    """
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = conv_output_size(h, kh, stride, padding)
    w_out = conv_output_size(w, kw, stride, padding)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = np.zeros((n, c_out, h_out, w_out))
    for a in range(h_out):
        for b in range(w_out):
            window = x_pad[:, :, a * stride:a * stride + kh, b * stride:b * stride + kw]   # (N, C_in, kH, kW)
            for o in range(c_out):
                y[:, o, a, b] = (window * weight[o]).sum(axis=(1, 2, 3)) + bias[o]
    return y


def conv_transpose2d_naive(y, weight, stride, padding):
    """Each input pixel y[n, c, a, b] adds y[n, c, a, b] * weight[c, o, :, :] into the output at
    (a*s - p, b*s - p); the p rows and columns at each border are then cropped.

    y (N, C_in, H, W), weight (C_in, C_out, kH, kW) -> (N, C_out, (H-1)s - 2p + kH, (W-1)s - 2p + kW).
    """
    n, c_in, h, w = y.shape
    _, c_out, kh, kw = weight.shape
    full = np.zeros((n, c_out, (h - 1) * stride + kh, (w - 1) * stride + kw))    # before cropping
    for a in range(h):
        for b in range(w):
            for c in range(c_in):
                # (N, 1, 1, 1) * (C_out, kH, kW) -> (N, C_out, kH, kW)
                full[:, :, a * stride:a * stride + kh, b * stride:b * stride + kw] += \
                    y[:, c, a, b][:, None, None, None] * weight[c]
    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
