"""The values the chapter 03 grader of the denoising loss compares against (instructors' side).

The corruption graders check properties and need no stored value. For the
loss, the function below builds the grader's inputs for a case and returns
{"expected": the right loss, "mistake/<name>": the loss of that common
mistake}, computed in closed form outside the autograd engine;
``python tests/exercise_values/write.py ch03_denoising`` stores them in
nanoae/exercises/values/ch03_denoising.npz.
"""
import numpy as np

from nanoae.exercises import ch03_denoising as graders


def denoising_loss(case):
    (w1, b1, w2, b2), x, mask = graders.denoising_loss_inputs(case)
    batch, d = x.shape
    x_tilde = x * mask

    def reconstruct(inputs):                                   # x_hat = sigmoid(tanh(x W1^T + b1) W2^T + b2)
        return 1 / (1 + np.exp(-(np.tanh(inputs @ w1.T + b1) @ w2.T + b2)))

    def squared_error(x_hat, target):                          # summed over pixels, averaged over the batch
        return ((x_hat - target) ** 2).sum() / batch

    return {
        "expected": squared_error(reconstruct(x_tilde), x),
        "mistake/noisy_target": squared_error(reconstruct(x_tilde), x_tilde),
        "mistake/clean_input": squared_error(reconstruct(x), x),
        "mistake/mean_over_pixels": squared_error(reconstruct(x_tilde), x) / d,
        "mistake/sum_over_batch": squared_error(reconstruct(x_tilde), x) * batch,
    }
