"""Optimizers: SGD (with momentum) and Adam, as in PyTorch, and ``OPTIMIZERS``, the table of them by name.

``step()`` updates each parameter's array in place from its ``.grad``, in the
parameter's own dtype. Gradients accumulate across backward calls, so a
training step is::

    optimizer.zero_grad()
    loss = model.loss(x)
    loss.backward()
    optimizer.step()
"""
from nanoae import backend


class Optimizer:
    """Holds the parameters, their per-parameter buffers and the hyperparameters.

    A subclass names its hyperparameters (``hyperparameters``) and buffers
    (``buffers``, one array per parameter and name) and writes ``update``.
    The buffers are made where the parameters are, so move the model
    (``model.to("gpu")``) before making its optimizer.
    """

    hyperparameters = ()
    buffers = ()

    def __init__(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty list of parameters")
        self.steps = 0
        self.state = {name: [p.xp.zeros_like(p.data) for p in self.params] for name in self.buffers}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.steps += 1
        for i, p in enumerate(self.params):
            if p.grad is not None:
                self.update(p.data, p.grad.data, *(self.state[name][i] for name in self.buffers))

    def update(self, param, grad, *buffers):
        raise NotImplementedError

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
        anything is changed, so a bad ``state`` leaves the optimizer as it was."""
        expected = set(self.hyperparameters) | {"steps"} | {
            f"{name}.{i}" for name in self.buffers for i in range(len(self.params))}
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}, unexpected {unexpected}")
        values = {}
        for name in self.buffers:
            for i, buffer in enumerate(self.state[name]):
                value = backend.asarray(state[f"{name}.{i}"])
                if tuple(value.shape) != buffer.shape:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: {name}.{i} has shape "
                                     f"{tuple(value.shape)}, the parameter has shape {buffer.shape}")
                values[name, i] = value
        for name in self.hyperparameters:
            current = getattr(self, name)
            value = state[name]
            setattr(self, name, tuple(float(v) for v in value) if isinstance(current, tuple) else float(value))
        self.steps = int(state["steps"])
        for (name, i), value in values.items():
            buffer = self.state[name][i]
            buffer[...] = backend.to_device(value, backend.device_of(buffer))


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay (PyTorch's form):

        g <- grad + weight_decay * p
        v <- momentum * v + g
        p <- p - lr * v          (v = g when momentum is 0)
    """

    hyperparameters = ("lr", "momentum", "weight_decay")
    buffers = ("velocity",)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        super().__init__(params)

    def update(self, p, g, velocity):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            velocity *= self.momentum
            velocity += g
            g = velocity
        p -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), with PyTorch's defaults and L2 weight decay:

        g <- grad + weight_decay * p
        m <- beta1 m + (1 - beta1) g              running mean of g
        v <- beta2 v + (1 - beta2) g^2            running mean of g^2
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    where m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t) undo the bias
    of starting m and v at zero (t = number of steps so far).

    t counts calls to ``step()``, one count for all parameters. PyTorch counts
    per parameter; the two differ only for a parameter whose ``.grad`` was None
    in early steps (it is skipped then) and which gets gradients later.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    buffers = ("m", "v")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay
        super().__init__(params)

    def update(self, p, g, m, v):
        beta1, beta2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p
        lr_hat = self.lr / (1 - beta1 ** self.steps)     # lr * m_hat / m
        v_hat_scale = 1 / (1 - beta2 ** self.steps)      # v_hat / v
        if backend.device_of(p) == "gpu":
            kernel = backend.elementwise_kernel(*self.CUDA_UPDATE)
            scalars = (beta1, beta2, lr_hat, v_hat_scale, self.eps)
            kernel(g, *(p.dtype.type(s) for s in scalars), p, m, v)  # updates p, m and v in place
            return
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        xp = backend.get_array_module(p)
        # The step, built in one scratch array: big parameters make big temporaries.
        step = xp.sqrt(v * v_hat_scale)            # sqrt(v_hat)
        step += self.eps
        xp.divide(m, step, out=step)               # m / (sqrt(v_hat) + eps)
        step *= lr_hat                             # lr * m_hat / (sqrt(v_hat) + eps)
        p -= step

    # The update above as one CUDA kernel: on the GPU, its eight array operations
    # would be eight kernel launches per parameter and step.
    CUDA_UPDATE = ("T g, T beta1, T beta2, T lr_hat, T v_hat_scale, T eps", "T p, T m, T v", """
        m = beta1 * m + (1 - beta1) * g;
        v = beta2 * v + (1 - beta2) * g * g;
        p -= lr_hat * m / (sqrt(v * v_hat_scale) + eps);
    """, "nanoae_adam_update")


# The optimizers by the names a TrainConfig uses (``optimizer="adam"``).
OPTIMIZERS = {"adam": Adam, "sgd": SGD}
