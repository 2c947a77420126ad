"""The values the chapter 06 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch06_vae`` stores
them in nanoae/exercises/values/ch06_vae.npz.
"""
import numpy as np

from nanoae.exercises import ch06_vae as graders


def gaussian_kl(case):
    mu, log_var = graders.kl_inputs(case)
    batch, latent = mu.shape
    per_element = 0.5 * (mu ** 2 + np.exp(log_var) - 1 - log_var)          # (B, J)
    return {
        "expected": per_element.sum() / batch,
        "mistake/log_std": (0.5 * (mu ** 2 + np.exp(2 * log_var) - 1 - 2 * log_var)).sum() / batch,
        "mistake/no_half": (2 * per_element).sum() / batch,
        "mistake/negated": -per_element.sum() / batch,
        "mistake/log_var_sign": (0.5 * (mu ** 2 + np.exp(log_var) - 1 + log_var)).sum() / batch,
        "mistake/mu_sign": (0.5 * (-mu ** 2 + np.exp(log_var) - 1 - log_var)).sum() / batch,
        "mistake/mean_over_latent": per_element.sum() / (batch * latent),
        "mistake/sum_over_batch": per_element.sum(),
        "mistake/divided_by_latent": per_element.sum() / latent,
    }


def reparameterize(case):
    mu, log_var, eps = graders.reparameterize_inputs(case)
    std = np.exp(0.5 * log_var)
    return {
        "expected": mu + std * eps,
        "mistake/variance_as_std": mu + np.exp(log_var) * eps,
        "mistake/log_std_twice": mu + np.exp(2 * log_var) * eps,
        "mistake/log_var_as_std": mu + log_var * eps,
        "mistake/no_exp": mu + 0.5 * log_var * eps,
        "mistake/exponent_sign": mu + np.exp(-0.5 * log_var) * eps,
        "mistake/no_eps": mu + std,
        "mistake/swapped": mu * eps + std,
    }


def gaussian_kl_grad(case):
    mu, log_var = graders.kl_grad_inputs(case)
    batch = len(mu)
    d_mu, d_log_var = mu / batch, (np.exp(log_var) - 1) / (2 * batch)

    def pair(g_mu, g_log_var):
        return np.concatenate([g_mu.reshape(-1), g_log_var.reshape(-1)])
    return {
        "expected": pair(d_mu, d_log_var),
        "mistake/no_batch_mean": pair(mu, (np.exp(log_var) - 1) / 2),
        "mistake/no_half": pair(d_mu, (np.exp(log_var) - 1) / batch),
        "mistake/no_minus_one": pair(d_mu, np.exp(log_var) / (2 * batch)),
        "mistake/log_std": pair(d_mu, (np.exp(2 * log_var) - 1) / batch),
        "mistake/mu_twice": pair(2 * d_mu, d_log_var),
        "mistake/negated": pair(-d_mu, -d_log_var),
        "mistake/swapped": pair(d_log_var, d_mu),
    }
