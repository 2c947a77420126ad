"""The values the chapter 13 graders compare against, from the formulas (instructors' side).

Each public function takes a case number, builds the grader's own inputs for
it, and returns {"expected": the right answer, "mistake/<name>": the answer of
that common mistake}; ``python tests/exercise_values/write.py ch13_pytorch``
stores them in nanoae/exercises/values/ch13_pytorch.npz.

A converted layer holds a copy of the nanoae layer's weights, so for the two
layers the right answer is the weights themselves, and a mistake is the
weights moved around. The VAE's loss, per image, is

    recon = 1/B sum_b sum_i BCE(sigmoid(logits_bi), x_bi),   BCE from the logits: softplus(l) - x l
    kl    = 1/B sum_b sum_j 1/2 (mu_bj^2 + exp(log_var_bj) - 1 - log_var_bj)

with ``log_var`` the log of the VARIANCE. A mistake that gives the right value
on a case (or the value of an earlier mistake) is left out of that case.
"""
import numpy as np

from nanoae.exercises import as_numpy
from nanoae.exercises import ch13_pytorch as graders



def linear_to_torch(case):
    weight = as_numpy(graders.linear_inputs(case).weight)                  # (out, in)
    return {"expected": weight, "mistake/transposed": weight.T}


def linear_to_torch_bias(case):
    bias = graders.linear_inputs(case).bias
    if bias is None:
        return {}
    return {"expected": as_numpy(bias), "mistake/zeros": np.zeros(bias.shape)}


def _softplus(t):
    return np.logaddexp(0.0, t)


def _bce_clamped(p, x):
    """torch.nn.functional.binary_cross_entropy per element: it clamps each log at -100."""
    with np.errstate(divide="ignore"):
        return -(x * np.maximum(np.log(p), -100) + (1 - x) * np.maximum(np.log(1 - p), -100))


def vae_loss_torch_recon(case):
    logits, x, _, _ = graders.loss_inputs(case)
    batch, pixels = x.shape
    per_pixel = _softplus(logits) - x * logits                             # (B, D), exact for every logit
    probabilities = 1 / (1 + np.exp(-logits))                              # rounds to exactly 0 or 1 far out
    return {
        "expected": per_pixel.sum() / batch,
        "mistake/mean_over_pixels": per_pixel.mean(),
        "mistake/sum_over_batch": per_pixel.sum(),
        "mistake/divided_by_pixels": per_pixel.sum() / pixels,
        "mistake/sigmoid_twice": (_softplus(probabilities) - x * probabilities).sum() / batch,
        "mistake/sigmoid_then_bce": _bce_clamped(probabilities, x).sum() / batch,
        "mistake/negated": -per_pixel.sum() / batch,
    }


def vae_loss_torch_kl(case):
    _, _, mu, log_var = graders.loss_inputs(case)
    batch = len(mu)
    per_dim = 0.5 * (mu ** 2 + np.exp(log_var) - 1 - log_var)             # (B, J)
    return {
        "expected": per_dim.sum() / batch,
        "mistake/log_std": (0.5 * (mu ** 2 + np.exp(2 * log_var) - 1 - 2 * log_var)).sum() / batch,
        "mistake/no_half": (2 * per_dim).sum() / batch,
        "mistake/negated": -per_dim.sum() / batch,
        "mistake/mean_over_latent": per_dim.mean(),
        "mistake/sum_over_batch": per_dim.sum(),
    }


def gru_to_torch(case):
    """The four weights weight_ih, weight_hh, bias_ih, bias_hh, flattened and joined."""
    cell = graders.gru_inputs(case).cell
    w_ih, w_hh, b_ih, b_hh = (as_numpy(getattr(cell, name)) for name in graders.GRU_NAMES)

    def joined(*arrays):
        return np.concatenate([a.reshape(-1) for a in arrays])
    hidden = len(b_ih) // 3
    zr = np.r_[hidden:2 * hidden, 0:hidden, 2 * hidden:3 * hidden]       # rows with r and z swapped
    answers = {
        "expected": joined(w_ih, w_hh, b_ih, b_hh),
        "mistake/biases_swapped": joined(w_ih, w_hh, b_hh, b_ih),
        "mistake/biases_merged_into_ih": joined(w_ih, w_hh, b_ih + b_hh, 0 * b_hh),
        "mistake/biases_merged_into_hh": joined(w_ih, w_hh, 0 * b_ih, b_ih + b_hh),
        "mistake/gates_reordered": joined(w_ih[zr], w_hh[zr], b_ih[zr], b_hh[zr]),
    }
    if w_ih.shape == w_hh.shape:          # otherwise swapped weights show in their shapes
        answers["mistake/weights_swapped"] = joined(w_hh, w_ih, b_ih, b_hh)
    return answers
