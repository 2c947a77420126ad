"""Reference solutions to the chapter 01 exercises (the engine): the instructors' answers.

Each name matches the exercise cell in ``notebooks/01-the-engine.ipynb``;
``nanoae.exercises.ch01_engine`` grades them.
"""

import nanoae


class SiLU(nanoae.Function):
    """y = x sigmoid(x) (also called Swish).

    dy/dx = sigmoid(x) + x sigmoid(x) (1 - sigmoid(x)) = sigmoid(x) (1 + x (1 - sigmoid(x))),
    by the product rule and sigmoid' = sigmoid (1 - sigmoid).
    """

    def forward(self, x):
        return x / (1 + self.xp.exp(-x))

    def backward(self, gy):
        x = self.inputs[0]
        s = x.sigmoid()
        return gy * s * (1 + x * (1 - s))


def sum_to(grad, shape):
    """Sum the NumPy array ``grad`` down to ``shape``, the reverse of broadcasting ``shape`` to grad.shape.

    Broadcasting lines shapes up on the right: it adds leading axes, and stretches axes of size 1.
    Sum over the added axes, then (keeping them) over the stretched ones.
    """
    shape = tuple(shape)
    lead = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(lead)))                          # the axes broadcasting added
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True).reshape(shape)
