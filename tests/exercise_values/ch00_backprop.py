"""The answers of the common mistakes that the chapter 00 graders name (instructors' side).

The graders check the right answers against finite differences, so only the
mistakes are stored: each function takes a case number, builds the grader's
own inputs for it, and returns {"mistake/<name>": the answer of that mistake};
``python tests/exercise_values/write.py ch00_backprop`` stores them in
nanoae/exercises/values/ch00_backprop.npz.
"""
import numpy as np

from nanoae.exercises import ch00_backprop as graders


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def sigmoid_backward(case):
    a, grad_h = graders.sigmoid_backward_inputs(case)
    h = _sigmoid(a)
    return {
        "mistake/no_upstream": h * (1 - h),
        "mistake/slope_h": grad_h * h,
        "mistake/sigmoid_of_h": grad_h * _sigmoid(h) * (1 - _sigmoid(h)),
        "mistake/tanh_slope": grad_h * (1 - h * h),
        "mistake/negated": -grad_h * h * (1 - h),
    }


def bce_logits_grad(case):
    a2, x = graders.bce_logits_grad_inputs(case)
    batch, d = a2.shape
    x_hat = _sigmoid(a2)
    return {
        "mistake/no_batch_mean": x_hat - x,
        "mistake/negated": (x - x_hat) / batch,
        "mistake/sigmoid_slope": (x_hat - x) * x_hat * (1 - x_hat) / batch,
        "mistake/no_sigmoid": (a2 - x) / batch,
        "mistake/mean_over_pixels": (x_hat - x) / (batch * d),
    }


def linear_backward(case):
    """Each mistake is the one gradient it is made in; a mistake that the shapes already catch
    (a transposed W or grad_W, a sum over the wrong axis) is stored only where the shapes hide it."""
    x, w, _, grad_a = graders.linear_backward_inputs(case)
    (batch, d), k = x.shape, len(w)
    mistakes = {
        "mistake/grad_x_negated": -(grad_a @ w),
        "mistake/grad_W_divided_by_batch": grad_a.T @ x / batch,
        "mistake/grad_b_mean": grad_a.mean(axis=0),
    }
    if k == d:
        mistakes["mistake/grad_x_w_transposed"] = grad_a @ w.T
        mistakes["mistake/grad_W_transposed"] = x.T @ grad_a
    if batch == k:
        mistakes["mistake/grad_b_wrong_axis"] = grad_a.sum(axis=1)
    return mistakes
