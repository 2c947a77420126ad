"""Reference solutions to the chapter 09 exercises (latent arithmetic and learning from codes): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/09-latent-arithmetic.ipynb``; ``nanoae.exercises.ch09_latent``
grades them. Codes are NumPy arrays, (J,) for one code and (N, J) for N.
"""
import numpy as np


def slerp(z0, z1, t):
    """The point at t in [0, 1] on the arc from z0 to z1 (J,): sin((1-t) w)/sin(w) z0 + sin(t w)/sin(w) z1."""
    cos_omega = z0 @ z1 / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos_omega, -1.0, 1.0))                    # the angle between the codes
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def attribute_vector(codes, labels, source, target):
    """mean(codes of class target) - mean(codes of class source), (J,), for codes (N, J) and labels (N,)."""
    return codes[labels == target].mean(axis=0) - codes[labels == source].mean(axis=0)


def few_labels_split(labels, per_class, rng):
    """Indices of per_class examples of each class of labels (N,), drawn with rng without repeats."""
    chosen = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
              for c in range(labels.max() + 1)]
    return np.concatenate(chosen)
