"""Optimizers: SGD (with momentum), Adam and SparseAdam, as in PyTorch, and ``OPTIMIZERS``, the table of them by name.

``step()`` updates each parameter's array in place from its ``.grad``, in the
parameter's own dtype. Gradients accumulate across backward calls, so a
training step is::

    optimizer.zero_grad()
    loss = model.loss(x)
    loss.backward()
    optimizer.step()

A gradient may be row-sparse (``ops.SparseRows``, from
``nn.Embedding(..., sparse=True)``): SGD and SparseAdam apply it to the rows it
names and leave every other row, and its buffers, as they were.
"""
import math
import numbers
from typing import Callable, NamedTuple

from nanoae import backend, checks


class Rule(NamedTuple):
    """The values a hyperparameter may take: ``count`` numbers (None: one plain
    number), each passing ``test``; ``description`` goes into the error message."""
    description: str
    test: Callable
    count: int | None = None


# NaN fails every comparison, so it fails every rule.
FINITE_POSITIVE = Rule("a finite number > 0", lambda x: 0 < x < math.inf)
FINITE_NON_NEGATIVE = Rule("a finite number >= 0", lambda x: 0 <= x < math.inf)
FRACTION = Rule("a number in [0, 1]", lambda x: 0 <= x <= 1)
TWO_FRACTIONS_BELOW_ONE = Rule("two numbers in [0, 1)", lambda x: 0 <= x < 1, count=2)


def check_hyperparameter(owner, name, value, rule):
    """``value`` as a float (a tuple of floats when ``rule.count`` is set) if it follows ``rule``.

    Raises TypeError for something that is not a number (``bool`` included:
    ``momentum=True`` is a mistake) and ValueError for a number out of range,
    naming ``owner``, ``name`` and the value. The constructors and
    ``load_state_dict`` both check with this function.
    """
    message = f"{owner}: {name} must be {rule.description}, got"
    if rule.count is None:
        values = (value,)
    else:
        try:  # a 0-d array has __iter__ yet cannot be iterated, so try rather than ask
            values = None if isinstance(value, (str, bytes)) else tuple(value)
        except TypeError:
            values = None
        if values is None:
            raise TypeError(f"{message} {type(value).__name__} {value!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{message} {type(v).__name__} {v!r}")
    floats = tuple(float(v) for v in values)
    if len(floats) != (rule.count or 1) or not all(rule.test(v) for v in floats):
        raise ValueError(f"{message} {floats if rule.count else floats[0]!r}")
    return floats if rule.count else floats[0]


class Optimizer:
    """Holds the parameters, their per-parameter buffers and the hyperparameters.

    A subclass names its hyperparameters with the rule each follows
    (``hyperparameters``, a dict of :class:`Rule`), names its buffers
    (``buffers``, one array per parameter and name), passes its
    hyperparameters to ``Optimizer.__init__`` and writes ``update``.
    The buffers are made where the parameters are, so move the model
    (``model.to("gpu")``) before making its optimizer.
    """

    hyperparameters = {}
    buffers = ()

    def __init__(self, params, **hyperparameters):
        owner = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{owner} got an empty list of parameters")
        for name, rule in self.hyperparameters.items():
            setattr(self, name, check_hyperparameter(owner, name, hyperparameters[name], rule))
        self.steps = 0
        self.state = {name: [p.xp.zeros_like(p.data) for p in self.params] for name in self.buffers}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.steps += 1
        for p, *buffers in zip(self.params, *[self.state[name] for name in self.buffers]):   # Adam: p, m, v
            if p.grad is not None:
                if p.grad.is_sparse:
                    self.update_sparse(p.data, p.grad, *buffers)
                else:
                    self.update(p.data, p.grad.data, *buffers)
                p._version += 1     # changed in place: a graph that used the old values must not backpropagate

    def update(self, param, grad, *buffers):
        raise NotImplementedError

    def update_sparse(self, param, grad, *buffers):
        """The update from a row-sparse gradient ``grad`` (a SparseRows); only some optimizers have one."""
        raise TypeError(f"{type(self).__name__} cannot apply a row-sparse gradient (from "
                        "nn.Embedding(..., sparse=True)): use SGD or SparseAdam, or sparse=False")

    def state_dict(self):
        """Hyperparameters, step count and buffers as a flat dict (``nanoae.save`` can write it).

        The buffers are the optimizer's own arrays, not copies (as in PyTorch):
        save them, or copy them, before stepping on.
        """
        state = {name: getattr(self, name) for name in self.hyperparameters}
        state["steps"] = self.steps
        for name in self.buffers:
            for i, buffer in enumerate(self.state[name]):
                state[f"{name}.{i}"] = buffer
        return state

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned. Every entry is checked before
        anything is changed (hyperparameters by the constructor's rules, the step
        count, each buffer's shape and dtype), so a bad ``state`` leaves the
        optimizer as it was."""
        owner = f"{type(self).__name__}.load_state_dict"
        expected = set(self.hyperparameters) | {"steps"} | {
            f"{name}.{i}" for name in self.buffers for i in range(len(self.params))}
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise KeyError(f"{owner}: missing {missing}, unexpected {unexpected}")
        hyperparameters = {name: check_hyperparameter(owner, name, state[name], rule)
                           for name, rule in self.hyperparameters.items()}
        steps = int(checks.non_negative_int(owner, "steps", state["steps"]))
        values = {}
        for name in self.buffers:
            for i, buffer in enumerate(self.state[name]):
                value = backend.asarray(state[f"{name}.{i}"])
                if tuple(value.shape) != buffer.shape:
                    raise ValueError(f"{owner}: {name}.{i} has shape "
                                     f"{tuple(value.shape)}, the parameter has shape {buffer.shape}")
                if value.dtype.kind not in "fiu":
                    raise ValueError(f"{owner}: {name}.{i} must hold numbers, got dtype {value.dtype}")
                values[name, i] = value
        # Everything is checked: from here on nothing can fail halfway.
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.steps = steps
        for (name, i), value in values.items():
            buffer = self.state[name][i]
            buffer[...] = backend.to_device(value, backend.device_of(buffer))


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay (PyTorch's form):

        g <- grad + weight_decay * p
        v <- momentum * v + g
        p <- p - lr * v          (v = g when momentum is 0)
    """

    hyperparameters = {"lr": FINITE_POSITIVE, "momentum": FRACTION, "weight_decay": FINITE_NON_NEGATIVE}
    buffers = ("velocity",)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def update(self, p, g, velocity):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            velocity *= self.momentum
            velocity += g
            g = velocity
        p -= self.lr * g

    def update_sparse(self, p, g, velocity):
        """p[r] -= lr * G[r] for the rows r that g names; repeated rows are all subtracted.

        Momentum and weight decay would move every row at every step (the
        velocity of an untouched row is not zero), so they are refused here.
        """
        if self.momentum or self.weight_decay:
            raise ValueError("SGD: a row-sparse gradient is applied to its rows only, which momentum and "
                             "weight decay (they move every row) do not allow: set both to 0")
        g.add_to_(p, scale=-self.lr)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), with PyTorch's defaults and L2 weight decay:

        g <- grad + weight_decay * p
        m <- beta1 m + (1 - beta1) g              running mean of g
        v <- beta2 v + (1 - beta2) g^2            running mean of g^2
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    where m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t) undo the bias
    of starting m and v at zero (t = number of steps so far).

    On the CPU the last line is computed as Kingma & Ba suggest (end of their
    section 2), with the two corrections moved onto the numbers lr and eps:
    with c = sqrt(1 - beta2^t),

        p <- p - lr_t * m / (sqrt(v) + eps_t),   lr_t = lr c / (1 - beta1^t),  eps_t = eps c,

    the same update (multiply the fraction above and below by c), with one
    pass less over each parameter and one temporary array: a sixth faster
    for the VAE's 650,000 parameters, where the update is a quarter of a step.

    t counts calls to ``step()``, one count for all parameters. PyTorch counts
    per parameter; the two differ only for a parameter whose ``.grad`` was None
    in early steps (it is skipped then) and which gets gradients later.
    """

    hyperparameters = {"lr": FINITE_POSITIVE, "betas": TWO_FRACTIONS_BELOW_ONE, "eps": FINITE_POSITIVE,
                       "weight_decay": FINITE_NON_NEGATIVE}
    buffers = ("m", "v")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def update(self, p, g, m, v):
        beta1, beta2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p
        if backend.device_of(p) == "gpu":
            lr_hat = self.lr / (1 - beta1 ** self.steps)     # lr * m_hat / m
            v_hat_scale = 1 / (1 - beta2 ** self.steps)      # v_hat / v
            kernel = backend.elementwise_kernel(*self.CUDA_UPDATE)
            scalars = (beta1, beta2, lr_hat, v_hat_scale, self.eps)
            kernel(g, *(p.dtype.type(s) for s in scalars), p, m, v)  # updates p, m and v in place
            return
        xp = backend.get_array_module(p)
        c = math.sqrt(1 - beta2 ** self.steps)
        scratch = g * (1 - beta1)                  # the one temporary, used for each term in turn
        m *= beta1
        m += scratch                               # m <- beta1 m + (1 - beta1) g
        xp.multiply(g, g, out=scratch)
        scratch *= 1 - beta2
        v *= beta2
        v += scratch                               # v <- beta2 v + (1 - beta2) g^2
        xp.sqrt(v, out=scratch)
        scratch += self.eps * c                    # sqrt(v) + eps_t
        xp.divide(m, scratch, out=scratch)
        scratch *= self.lr * c / (1 - beta1 ** self.steps)
        p -= scratch                               # p <- p - lr_t m / (sqrt(v) + eps_t)

    # The update above as one CUDA kernel: on the GPU, its eight array operations
    # would be eight kernel launches per parameter and step.
    CUDA_UPDATE = ("T g, T beta1, T beta2, T lr_hat, T v_hat_scale, T eps", "T p, T m, T v", """
        m = beta1 * m + (1 - beta1) * g;
        v = beta2 * v + (1 - beta2) * g * g;
        p -= lr_hat * m / (sqrt(v * v_hat_scale) + eps);
    """, "nanoae_adam_update")


class SparseAdam(Adam):
    """Adam for row-sparse gradients (``nn.Embedding(..., sparse=True)``), as PyTorch's SparseAdam:
    Adam's update, applied only to the rows r that the gradient names:

        m[r] <- beta1 m[r] + (1 - beta1) G[r]
        v[r] <- beta2 v[r] + (1 - beta2) G[r]^2
        p[r] <- p[r] - lr * m_hat[r] / (sqrt(v_hat[r]) + eps)

    with G the gradient with repeated rows summed and t the number of steps so far.
    The other rows keep their values *and their moments* ("lazy" Adam): dense
    Adam would decay their m and v and keep moving them on momentum alone, a
    full (V, D) update for rows that saw no data. A row touched at every step
    follows exactly Adam's path.

    Why this optimizer for sparse rows, and not Adagrad on rows: nanoae
    already has Adam, so what changes is the one idea above (which rows a step
    touches), and PyTorch's SparseAdam is there to compare with.
    Skip-gram itself trains with plain SGD, as word2vec does.
    """

    hyperparameters = {"lr": FINITE_POSITIVE, "betas": TWO_FRACTIONS_BELOW_ONE, "eps": FINITE_POSITIVE}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        Optimizer.__init__(self, params, lr=lr, betas=betas, eps=eps)

    def update(self, p, g, m, v):
        raise TypeError("SparseAdam takes row-sparse gradients (nn.Embedding(..., sparse=True)); "
                        "use Adam for dense ones")

    def update_sparse(self, p, g, m, v):
        g = g.coalesce()                                   # each row once: the moments are not linear in G
        rows, grad = g.indices, g.values                   # (n,), (n, D)
        beta1, beta2 = self.betas
        m_rows = beta1 * m[rows] + (1 - beta1) * grad
        v_rows = beta2 * v[rows] + (1 - beta2) * (grad * grad)
        m[rows], v[rows] = m_rows, v_rows
        lr_hat = self.lr / (1 - beta1 ** self.steps)      # lr * m_hat / m
        v_hat_scale = 1 / (1 - beta2 ** self.steps)       # v_hat / v
        p[rows] -= lr_hat * m_rows / (g.xp.sqrt(v_rows * v_hat_scale) + self.eps)


# The optimizers by the names a TrainConfig uses (``optimizer="adam"``).
OPTIMIZERS = {"adam": Adam, "sgd": SGD}
