"""Functions on tensors with no state: activations, losses and the VAE's pieces.

Import it as PyTorch users do: ``from nanoae import functional as F``.

Losses take ``reduction`` as in PyTorch: ``"mean"`` (the default) averages over
every element, ``"sum"`` adds them up, ``"none"`` returns one value per element.
A VAE's loss is a sum over pixels and latent dimensions, so pass
``reduction="sum"`` to both of its terms.

One convention throughout: ``log_var`` is the log of the *variance*, so the
standard deviation is ``exp(0.5 * log_var)``.
"""
from nanoae import backend, ops
from nanoae.ops import leaky_relu, linear, relu, sigmoid, softplus, tanh, topk  # noqa: F401
from nanoae.ops import conv2d, conv_transpose2d, max_pool2d, upsample_nearest  # noqa: F401
from nanoae.autograd import ShapeError, Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, name):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _same_shape(input, target, name):
    target = target if isinstance(target, Tensor) else Tensor(backend.asarray(target, dtype=input.dtype))
    if input.shape != target.shape:
        raise ShapeError(f"{name}: input has shape {input.shape} but target has shape {target.shape}")
    return target


def _check_probabilities(x, name, argument, hint=""):
    """Raise ValueError unless every element of the tensor ``x`` is in [0, 1].

    NaN is refused too (it is in no interval); the message gives the range of
    the other values found, so the caller sees what was passed instead.
    """
    xp, data = x.xp, x.data
    if bool(xp.all((data >= 0) & (data <= 1))):
        return
    nan = xp.isnan(data)
    values = data[~nan]
    found = [f"values in [{float(values.min()):g}, {float(values.max()):g}]"] if values.size else []
    found += ["NaN"] if bool(nan.any()) else []
    raise ValueError(f"{name}: {argument} must hold probabilities in [0, 1], got {' and '.join(found)}{hint}")


def log_softmax(x, axis=-1):
    """log(softmax(x)) = x - logsumexp(x), stable for large x."""
    return x - ops.logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=-1):
    return ops.exp(log_softmax(x, axis))


def dropout(x, p=0.5, training=True):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p)
    ("inverted" dropout: nothing to rescale at evaluation). Identity when not training."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    keep = backend.generator_for(x.xp).random(x.shape) >= p
    return x * Tensor((keep / (1 - p)).astype(x.dtype))


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2."""
    target = _same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def cross_entropy(logits, target, reduction="mean"):
    """-log softmax(logits)[target]: the loss of a classifier over C classes.

    ``logits`` (N, C) are unnormalised scores, ``target`` (N,) the integer
    class of each row. It equals ``-log_softmax(logits, axis=1)[rows, target]``
    and could be written so; it is one op (``ops/loss.py``), whose backward is
    the gradient softmax(logits) - onehot(target) written out, in a few passes
    over the logits instead of one per op of that chain.
    """
    target = logits.xp.asarray(target.data if isinstance(target, Tensor) else target)  # labels may come from NumPy
    if logits.ndim != 2 or target.shape != (logits.shape[0],):
        raise ShapeError(f"cross_entropy: expected logits (N, C) and target (N,), "
                         f"got logits {logits.shape} and target {target.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class labels, got dtype {target.dtype}")
    if target.size and (int(target.min()) < 0 or int(target.max()) >= logits.shape[1]):
        raise ValueError(f"cross_entropy: target labels must be in [0, {logits.shape[1]}), "
                         f"got {int(target.min())}..{int(target.max())}")
    return _reduce(ops.cross_entropy(logits, target), reduction, "cross_entropy")


def binary_cross_entropy(input, target, reduction="mean"):
    """-(t ln p + (1 - t) ln(1 - p)) for probabilities p = ``input`` in [0, 1].

    Both p and the target t must lie in [0, 1], as in PyTorch: anything else
    (a logit, a pixel in [0, 255], NaN) raises ValueError rather than giving a
    loss that means nothing.

    p and 1 - p are clamped to at least ``floor`` = sqrt(smallest normal float)
    (about 1e-19 in float32) before the log, so p = 0 or 1 gives a large
    finite loss (about 44 in float32) with a zero gradient instead of infinity
    and NaN. Why not the smallest float itself: the log's gradient there,
    1 / floor, times an upstream gradient above 4 overflows to inf, and the
    clamp's zero gradient times inf is NaN. Prefer
    :func:`binary_cross_entropy_with_logits`, which never needs clamping.
    """
    t = _same_shape(input, target, "binary_cross_entropy")
    _check_probabilities(input, "binary_cross_entropy", "input",
                         hint="; pass logits to binary_cross_entropy_with_logits instead")
    _check_probabilities(t, "binary_cross_entropy", "target")
    floor = float(input.xp.finfo(input.dtype).tiny) ** 0.5
    loss = -(t * ops.clip(input, floor, None).log() + (1 - t) * ops.clip(1 - input, floor, None).log())
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """BCE of sigmoid(z) against t, from the logits z: t softplus(-z) + (1 - t) softplus(z).

    Exact for every z, infinite ones included, with gradient sigmoid(z) - t;
    see :class:`nanoae.ops.loss.BCEWithLogits` for the derivation. The target
    is not range-checked, as in PyTorch: this loss runs on every training
    batch, and the check would cost a pass over the target (and, on the GPU, a
    wait for it). Targets come from the data, which the loaders check.
    """
    t = _same_shape(logits, target, "binary_cross_entropy_with_logits")
    if reduction in ("sum", "mean"):  # summed inside the op: one op fewer, and no per-element array kept
        total = ops.bce_with_logits(logits, t, summed=True)
        return total if reduction == "sum" else total / t.size
    return _reduce(ops.bce_with_logits(logits, t), reduction, "binary_cross_entropy_with_logits")


def gaussian_kl(mu, log_var, reduction="mean"):
    """KL( N(mu, exp(log_var)) || N(0, 1) ) per dimension, in closed form:

        KL = -1/2 (1 + log_var - mu^2 - exp(log_var))

    (Kingma & Welling 2014, appendix B). It is one op,
    :class:`nanoae.ops.gaussian.GaussianKL`, whose backward is dKL/dmu = mu and
    dKL/dlog_var = (exp(log_var) - 1) / 2. The VAE uses ``reduction="sum"``;
    ``reduction="none"`` gives the per-dimension terms (sum over axis 1 for one
    value per sample).
    """
    _same_shape(mu, log_var, "gaussian_kl")
    if reduction in ("sum", "mean"):  # summed inside the op, as in binary_cross_entropy_with_logits
        total = ops.gaussian_kl(mu, log_var, summed=True)
        return total if reduction == "sum" else total / mu.size
    return _reduce(ops.gaussian_kl(mu, log_var), reduction, "gaussian_kl")


def reparameterize(mu, log_var, eps=None):
    """z = mu + exp(0.5 log_var) * eps with eps ~ N(0, 1): a sample of N(mu, exp(log_var))
    that is a differentiable function of mu and log_var.

    ``eps`` may be given (e.g. to check gradients with a fixed draw); otherwise
    it comes from nanoae's seeded generator on the device of ``mu``. One op,
    :class:`nanoae.ops.gaussian.Reparameterize`, with its derivatives written out.
    """
    _same_shape(mu, log_var, "reparameterize")
    if eps is None:
        eps = Tensor(backend.generator_for(mu.xp).standard_normal(mu.shape, dtype=mu.dtype))
    return ops.reparameterize(mu, log_var, eps)


def kl_bernoulli(rho, rho_hat, reduction="mean"):
    """KL(Bernoulli(rho) || Bernoulli(rho_hat)), the sparse autoencoder's penalty:

        rho ln(rho / rho_hat) + (1 - rho) ln((1 - rho) / (1 - rho_hat))

    ``rho`` is the target mean activation (a number in (0, 1)), ``rho_hat`` the
    measured mean activation of each hidden unit (values in (0, 1)).
    """
    if not 0 < rho < 1:  # at 0 or 1, 0 * ln(0) would make the loss NaN
        raise ValueError(f"kl_bernoulli: rho must be in (0, 1), got {rho}")
    kl = rho * ops.log(rho / rho_hat) + (1 - rho) * ops.log((1 - rho) / (1 - rho_hat))
    return _reduce(kl, reduction, "kl_bernoulli")
