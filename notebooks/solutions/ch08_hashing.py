"""Reference solutions to the chapter 08 exercises (semantic hashing): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/08-semantic-hashing.ipynb``; ``nanoae.exercises.ch08_hashing``
grades them. Codes are NumPy arrays of 0s and 1s.
"""
import itertools

import numpy as np


def hamming_distance(a, b):
    """All pairwise Hamming distances of a (M, B) and b (N, B): (M, N), from one product of +-1 codes."""
    s_a, s_b = 2.0 * a - 1, 2.0 * b - 1                  # bits -> signs in {-1, +1}
    return (a.shape[1] - s_a @ s_b.T) / 2                # agreements - disagreements = B - 2 d


def codes_within_radius(code, radius):
    """Every code within Hamming distance ``radius`` of ``code`` (B,), each once: (K, B)."""
    codes = []
    for distance in range(radius + 1):
        for positions in itertools.combinations(range(len(code)), distance):
            flipped = code.copy()
            flipped[list(positions)] ^= 1                # flip the chosen bits
            codes.append(flipped)
    return np.array(codes)


def precision_at_k(distances, labels, k):
    """For each item, the share of its k nearest OTHER items with its label: (N,) from distances (N, N)."""
    distances = distances.copy()
    np.fill_diagonal(distances, np.inf)                  # an item is not its own neighbour
    nearest = np.argsort(distances, axis=1)[:, :k]       # (N, k)
    return (labels[nearest] == labels[:, None]).mean(axis=1)
