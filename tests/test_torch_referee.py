"""PyTorch as referee: every op, loss and layer of nanoae against torch, in float64.

For each op of the gradient-check catalogue (``nanoae.gradcheck_cases.CASES``),
each loss of ``nanoae.functional`` and each layer of ``nanoae.nn``, nanoae and
torch run on the same float64 inputs (the layers on the same weights), and must
agree on

- the forward values;
- the gradient of every input and parameter for a random upstream gradient g
  (never all ones), nanoae.grad against torch.autograd.grad;
- the second derivatives, grad of <grad(<f(x), g>), v> for random g and v, made
  with ``create_graph=True`` on both sides.

The element-wise, broadcasting, reducing and matrix ops are run again on random
shapes drawn by Hypothesis. The tables ``TORCH`` (ops and losses) and ``LAYERS``
say which torch function or module referees each nanoae one; a test fails when
the catalogue, ``functional`` or ``nn`` gains something that neither table names.

Where nanoae chooses differently from PyTorch on purpose, a one-line comment in
the tables says so, and the section "Deliberate differences" asserts each one.

``pytest -k tanh tests/test_torch_referee.py`` referees one op.
"""
import inspect
from dataclasses import dataclass, field

import numpy
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes, valid_tuple_axes

import nanoae
from nanoae import Function, Tensor, backend, functional as F, nn, ops
from nanoae.gradcheck_cases import CASES, Case, make_inputs, sample
from nanoae.ops.embedding import SparseRows

torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[torch]'")
TF = torch.nn.functional
kl_divergence, Bernoulli, Normal = (torch.distributions.kl_divergence, torch.distributions.Bernoulli,
                                    torch.distributions.Normal)

R, NZ, POS, P = "real", "nonzero", "positive", "probability"
RTOL, ATOL = 1e-10, 1e-12  # float64 on both sides: only rounding may differ
LABELS = [0, 2, 1, 2]       # the catalogue's cross_entropy targets


# --- torch written out where it has no one function for nanoae's ----------------------

def torch_reduce(loss, reduction):
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


def torch_gaussian_kl(mu, log_var, reduction="mean"):
    """torch.nn.functional has no Gaussian KL; torch.distributions computes it, per element."""
    return torch_reduce(kl_divergence(Normal(mu, (0.5 * log_var).exp()), Normal(0.0, 1.0)), reduction)


def torch_kl_bernoulli(rho_hat, reduction="mean", rho=0.1):
    return torch_reduce(kl_divergence(Bernoulli(probs=torch.full_like(rho_hat, rho)), Bernoulli(probs=rho_hat)),
                        reduction)


def torch_topk(x, k):
    """torch.topk gives the k largest values and where they are; nanoae's topk puts them back in place."""
    values, indices = torch.topk(x, k, dim=-1)
    return torch.zeros_like(x).scatter(-1, indices, values)


class TorchTopK(torch.nn.Module):
    """torch.nn has no TopK layer: :func:`torch_topk` as one."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return torch_topk(x, self.k)


# --- the table: each nanoae op and loss, and its torch counterpart -------------------

# Not in the catalogue: functional's other functions and the Tensor methods PyTorch users write.
EXTRA_CASES = [
    Case("softmax", F.softmax, [((3, 5), R)]),
    Case("dropout (training=False)", lambda x: F.dropout(x, 0.5, training=False), [((3, 4), R)]),
    Case("abs(x), the built-in", lambda x: abs(x), [((3, 4), NZ)]),
    Case("x.pow(2)", lambda x: x.pow(2), [((3, 4), R)]),
    Case("2 ** x", lambda x: 2 ** x, [((3, 4), R)]),
    Case("x.split(2, axis=1)", lambda x: x.split(2, axis=1), [((3, 5), R)]),
    Case("x.chunk(2, axis=1)", lambda x: x.chunk(2, axis=1), [((3, 4), R)]),
    Case("x.clip(-0.5, 0.5)", lambda x: x.clip(-0.5, 0.5), [((3, 4), NZ)]),
    Case("x.mean(1)", lambda x: x.mean(1), [((3, 4), R)]),
]

TORCH = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "neg": torch.neg,
    "pow (x**3)": lambda x: x ** 3,
    "pow (x**-1.5)": lambda x: x ** -1.5,
    "reflected (1 - x, 2 / x)": lambda x: (1 - x) * (2 / x),
    "with a number (x + 1.5, x - 2, 3 + x)": lambda x: (x + 1.5) * (x - 2) * (3 + x),
    "with a number (x * -2.5, 3 * x, x / -4)": lambda x: (x * -2.5) + (3 * x) * (x / -4),
    "matmul": torch.matmul,
    "matmul (batched)": torch.matmul,
    "matmul (batched both)": torch.matmul,
    "linear": TF.linear,
    "linear (3-D input)": TF.linear,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda x: TF.leaky_relu(x, 0.1),
    "softplus": TF.softplus,
    "abs": torch.abs,
    "clip": lambda x: torch.clamp(x, -0.5, 0.5),           # nanoae: clip(low, high), as NumPy; torch: clamp(min, max)
    "clip (low only)": lambda x: torch.clamp(x, min=-0.5),
    "maximum": torch.maximum,
    "where": torch.where,
    "sum": torch.sum,
    "sum (axis=1, keepdims)": lambda x: torch.sum(x, dim=1, keepdim=True),  # nanoae: axis/keepdims, as NumPy
    "mean (axis=0)": lambda x: torch.mean(x, dim=0),
    "max (axis=1)": lambda x: torch.amax(x, dim=1),        # nanoae's max(axis) is amax: values only, ties shared
    "logsumexp (axis=-1)": lambda x: torch.logsumexp(x, dim=-1),
    "reshape": lambda x: torch.reshape(x, (4, 3)),
    "transpose": lambda x: x.permute(1, 0, 2),             # nanoae's transpose(axes) is NumPy's: torch's permute
    "getitem (slices)": lambda x: x[1:, ::2],
    "getitem (repeated indices)": lambda x: x[[0, 2, 0]],
    "getitem (boolean mask)": lambda x: x[x > 0],
    "concatenate": lambda a, b: torch.cat([a, b], dim=1),
    "split": lambda x: torch.split(x, [1, 3], dim=1),
    "chunk (one piece unused)": lambda x: torch.chunk(x, 2, dim=0)[1],
    "broadcast_to": lambda x: torch.broadcast_to(x, (2, 3, 4)),
    "sum_to": lambda x: x.sum_to_size(3, 1),                # nanoae names it sum_to (as DeZero), torch sum_to_size
    "conv2d (padding 1)": lambda x, w, b: TF.conv2d(x, w, b, padding=1),
    "conv2d (stride 2, 3x2 kernel)": lambda x, w: TF.conv2d(x, w, stride=2),
    "conv_transpose2d (stride 2, output_padding 1)":
        lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
    "conv2d weight gradient (its double backward)":
        lambda x, gy: torch.nn.grad.conv2d_weight(x, (3, 2, 3, 3), gy, stride=2, padding=1),
    "max_pool2d (2x2)": lambda x: TF.max_pool2d(x, 2),
    "max_pool2d (3x3, stride 2: overlapping)": lambda x: TF.max_pool2d(x, 3, stride=2),
    "upsample_nearest (x2)": lambda x: TF.interpolate(x, scale_factor=2, mode="nearest"),
    # torch has no straight-through op: its users write z_e + (z_q - z_e).detach()
    "straight_through (z_q = z_e + 0.5, detached)": lambda z_e: z_e + ((z_e.detach() + 0.5) - z_e).detach(),
    # word2vec's loss as a PyTorch user writes it: -log sigma(u.v_context) - sum log sigma(-u.v_noise)
    "negative_sampling_loss": lambda u, v: -(TF.logsigmoid(torch.einsum("bd,btd->bt", u, v)
                                                           * torch.tensor([1.0] + [-1.0] * (v.shape[1] - 1),
                                                                          dtype=u.dtype))).sum(),
    "sparse_embedding (repeated rows, gradient densified)":
        lambda w: TF.embedding(torch.tensor([[1, 4, 1], [0, 1, 3]]), w),
    "topk (k=3 of 5 per row)": lambda x: torch_topk(x, 3),
    "topk (3-D input, k=1)": lambda x: torch_topk(x, 1),
    "mse_loss": TF.mse_loss,
    "binary_cross_entropy": TF.binary_cross_entropy,
    "binary_cross_entropy_with_logits": TF.binary_cross_entropy_with_logits,
    "gaussian_kl": torch_gaussian_kl,
    # torch's Normal.rsample draws eps itself; nanoae takes it as an input, so the formula is written out.
    "reparameterize": lambda mu, log_var, eps: mu + (0.5 * log_var).exp() * eps,
    "kl_bernoulli": torch_kl_bernoulli,                      # nanoae: kl_bernoulli(rho, rho_hat), rho a number
    "log_softmax": lambda x: TF.log_softmax(x, dim=-1),     # nanoae's axis defaults to -1; torch wants dim
    "cross_entropy": lambda logits, reduction="mean": TF.cross_entropy(logits, torch.tensor(LABELS),
                                                                       reduction=reduction),
    "softmax": lambda x: TF.softmax(x, dim=-1),
    "dropout (training=False)": lambda x: TF.dropout(x, 0.5, training=False),
    "abs(x), the built-in": lambda x: abs(x),
    "x.pow(2)": lambda x: x.pow(2),
    "2 ** x": lambda x: 2 ** x,
    "x.split(2, axis=1)": lambda x: x.split(2, dim=1),
    "x.chunk(2, axis=1)": lambda x: x.chunk(2, dim=1),
    "x.clip(-0.5, 0.5)": lambda x: x.clip(-0.5, 0.5),
    "x.mean(1)": lambda x: x.mean(1),
}

REFEREED = CASES + EXTRA_CASES
BY_NAME = {case.name: case for case in REFEREED}

# Each loss of functional called with reduction=...; its torch side is TORCH[name] with the same reduction.
LOSSES = {
    "mse_loss": F.mse_loss,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "gaussian_kl": F.gaussian_kl,
    "kl_bernoulli": lambda rho_hat, reduction: F.kl_bernoulli(0.1, rho_hat, reduction),
    "cross_entropy": lambda logits, reduction: F.cross_entropy(logits, numpy.array(LABELS), reduction),
}


# --- the referee ------------------------------------------------------------------------

def nanoae_leaves(xp, arrays):
    """Float arrays become leaves that require a gradient; masks stay constants."""
    return [Tensor(xp.asarray(a), requires_grad=a.dtype.kind == "f") for a in arrays]


def torch_leaves(arrays):
    return [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]


def as_list(y):
    return list(y) if isinstance(y, (tuple, list)) else [y]


def as_numpy(t, shape):
    """A gradient from either side as a NumPy array; None (does not depend on it) as zeros."""
    if t is None:
        return numpy.zeros(shape)
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return (t.to_dense() if isinstance(t, SparseRows) else t).numpy()   # a row-sparse gradient, as a table


def assert_close(mine, theirs, what):
    """Equal to rounding: rtol, and an atol that grows with the largest value (sums of large terms cancel)."""
    scale = max(1.0, float(numpy.abs(theirs).max(initial=0.0)))
    numpy.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=ATOL * scale, err_msg=what)


def nanoae_gradients(ys, xs, upstream, create_graph=False):
    """d sum_k <y_k, g_k> / dx for each x in xs, by nanoae.grad."""
    if len(ys) == 1:
        g = Tensor(ys[0].xp.asarray(upstream[0]))
        return nanoae.grad(ys[0], xs, grad_output=g, create_graph=create_graph)
    total = sum((y * Tensor(y.xp.asarray(g))).sum() for y, g in zip(ys, upstream))
    return nanoae.grad(total, xs, create_graph=create_graph)


def torch_gradients(us, ts, upstream, create_graph=False):
    gs = [torch.from_numpy(g) for g in upstream]
    return torch.autograd.grad(us, ts, gs, create_graph=create_graph, allow_unused=True)


def assert_same_values_and_gradients(nanoae_fn, torch_fn, arrays, xp, seed=0):
    """Run both on the same inputs: equal outputs, and equal gradients of sum(y * g) for a random g."""
    rng = numpy.random.default_rng(seed)
    xs, ts = nanoae_leaves(xp, arrays), torch_leaves(arrays)
    ys, us = as_list(nanoae_fn(*xs)), as_list(torch_fn(*ts))
    assert len(ys) == len(us), f"{len(ys)} outputs, torch gives {len(us)}"
    for k, (y, u) in enumerate(zip(ys, us)):
        assert y.shape == tuple(u.shape), f"output {k}: shape {y.shape}, torch's {tuple(u.shape)}"
        assert_close(y.numpy(), u.detach().numpy(), f"output {k}")
    upstream = [rng.standard_normal(y.shape) for y in ys]
    wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    mine = nanoae_gradients(ys, [xs[i] for i in wrt], upstream)
    theirs = torch_gradients(us, [ts[i] for i in wrt], upstream)
    for i, g, h in zip(wrt, mine, theirs):
        assert_close(as_numpy(g, arrays[i].shape), as_numpy(h, arrays[i].shape), f"gradient of input {i}")


def assert_same_second_derivatives(nanoae_fn, torch_fn, arrays, xp, seed=0):
    """grad of <grad(<f(x), g>), v> for random g and v (a Hessian-vector product), on both sides."""
    rng = numpy.random.default_rng(seed)
    wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    xs, ts = nanoae_leaves(xp, arrays), torch_leaves(arrays)
    ys, us = as_list(nanoae_fn(*xs)), as_list(torch_fn(*ts))
    upstream = [rng.standard_normal(y.shape) for y in ys]
    v = [rng.standard_normal(arrays[i].shape) for i in wrt]
    mine = nanoae_gradients(ys, [xs[i] for i in wrt], upstream, create_graph=True)
    theirs = torch_gradients(us, [ts[i] for i in wrt], upstream, create_graph=True)
    # Gradients that do not depend on the inputs (no graph) contribute nothing.
    mine_v = [(g * Tensor(xp.asarray(vi))).sum() for g, vi in zip(mine, v) if g is not None and g.requires_grad]
    theirs_v = [(h * torch.from_numpy(vi)).sum() for h, vi in zip(theirs, v) if h is not None and h.requires_grad]
    mine2 = nanoae.grad(sum(mine_v), [xs[i] for i in wrt]) if mine_v else [None] * len(wrt)
    theirs2 = (torch.autograd.grad(sum(theirs_v), [ts[i] for i in wrt], allow_unused=True) if theirs_v
               else [None] * len(wrt))
    for i, g, h in zip(wrt, mine2, theirs2):
        assert_close(as_numpy(g, arrays[i].shape), as_numpy(h, arrays[i].shape), f"second derivative, input {i}")


# --- every catalogue case, loss and extra has a referee ------------------------------------

def test_every_catalogue_case_has_a_torch_counterpart():
    missing = [case.name for case in CASES if case.name not in TORCH]
    assert not missing, f"add these catalogue cases to TORCH so that PyTorch referees them: {missing}"


def test_every_function_of_functional_is_refereed():
    own = [name for name, f in vars(F).items()
           if inspect.isfunction(f) and f.__module__ == F.__name__ and not name.startswith("_")]
    refereed = {case.name.split()[0] for case in REFEREED}
    assert [name for name in own if name not in refereed] == [], "add these to EXTRA_CASES and TORCH"
    losses = [name for name in own if "reduction" in inspect.signature(getattr(F, name)).parameters]
    assert sorted(losses) == sorted(LOSSES), "each loss must be refereed with every reduction (LOSSES)"


def test_every_table_entry_is_used():
    assert sorted(TORCH) == sorted(BY_NAME), "TORCH and the cases (CASES + EXTRA_CASES) must name the same ops"


@pytest.mark.parametrize("case", REFEREED, ids=[case.name for case in REFEREED])
def test_op_matches_torch(case, xp):
    assert_same_values_and_gradients(case.fn, TORCH[case.name], make_inputs(case), xp)


# Cases whose gradient is not differentiated again, by design (nanoae refuses it, saying why).
FIRST_DERIVATIVES_ONLY = {
    "sparse_embedding (repeated rows, gradient densified)": "a row-sparse gradient is an update, not a graph",
}


@pytest.mark.parametrize("case", [c for c in REFEREED if c.name not in FIRST_DERIVATIVES_ONLY],
                         ids=[c.name for c in REFEREED if c.name not in FIRST_DERIVATIVES_ONLY])
def test_op_second_derivative_matches_torch(case, xp):
    assert_same_second_derivatives(case.fn, TORCH[case.name], make_inputs(case), xp)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_with_each_reduction_matches_torch(name, reduction, xp):
    inputs = make_inputs(BY_NAME[name], seed=1)
    assert_same_values_and_gradients(lambda *xs: LOSSES[name](*xs, reduction=reduction),
                                      lambda *ts: TORCH[name](*ts, reduction=reduction), inputs, xp)
    assert_same_second_derivatives(lambda *xs: LOSSES[name](*xs, reduction=reduction),
                                    lambda *ts: TORCH[name](*ts, reduction=reduction), inputs, xp)


# --- the referee can fail -----------------------------------------------------------------

class TanhForgetsUpstream(Function):
    """tanh whose backward returns 1 - y^2 without multiplying by gy."""

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        return 1 - self.output * self.output


class TanhWithConstantSlope(Function):
    """tanh whose backward is right to first order but takes 1 - y^2 off the graph: zero second derivative."""

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        return gy * Tensor(1 - self.output.data ** 2)


def test_referee_catches_a_backward_that_forgets_the_upstream_gradient(xp):
    arrays = [sample(R, (3, 4), numpy.random.default_rng(0))]
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_same_values_and_gradients(lambda x: TanhForgetsUpstream()(x), torch.tanh, arrays, xp)


def test_referee_catches_a_backward_that_cannot_be_differentiated_again(xp):
    arrays = [sample(R, (3, 4), numpy.random.default_rng(0))]
    assert_same_values_and_gradients(lambda x: TanhWithConstantSlope()(x), torch.tanh, arrays, xp)
    with pytest.raises(AssertionError, match="second derivative"):
        assert_same_second_derivatives(lambda x: TanhWithConstantSlope()(x), torch.tanh, arrays, xp)


# --- random shapes (Hypothesis) -------------------------------------------------------------
# The xp fixture only picks the backend, so sharing it between examples is fine.
RANDOM = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)

BROADCASTING = ["add", "sub", "mul", "div", "maximum", "where"]
ELEMENTWISE = ["neg", "pow (x**3)", "pow (x**-1.5)", "reflected (1 - x, 2 / x)",
               "with a number (x + 1.5, x - 2, 3 + x)", "with a number (x * -2.5, 3 * x, x / -4)", "exp", "log", "sqrt", "tanh",
               "sigmoid", "relu", "leaky_relu", "softplus", "abs", "clip", "clip (low only)", "abs(x), the built-in",
               "x.pow(2)", "2 ** x"]


def draw_inputs(case, shapes, seed):
    rng = numpy.random.default_rng(seed)
    return [sample(kind, shape, rng) for (_, kind), shape in zip(case.inputs, shapes)]


@pytest.mark.parametrize("name", BROADCASTING)
@RANDOM
@given(data=st.data(), seed=SEEDS)
def test_broadcasting_op_on_random_shapes_matches_torch(name, data, seed, xp):
    case = BY_NAME[name]
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=len(case.inputs), max_dims=4, max_side=3))
    inputs = draw_inputs(case, shapes.input_shapes, seed)
    assert_same_values_and_gradients(case.fn, TORCH[name], inputs, xp, seed)
    assert_same_second_derivatives(case.fn, TORCH[name], inputs, xp, seed)


@pytest.mark.parametrize("name", ELEMENTWISE)
@RANDOM
@given(shape=array_shapes(min_dims=0, max_dims=4, max_side=3), seed=SEEDS)
def test_elementwise_op_on_random_shapes_matches_torch(name, shape, seed, xp):
    case = BY_NAME[name]
    inputs = draw_inputs(case, [shape], seed)
    assert_same_values_and_gradients(case.fn, TORCH[name], inputs, xp, seed)
    assert_same_second_derivatives(case.fn, TORCH[name], inputs, xp, seed)


@RANDOM
@given(shapes=mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)", max_dims=4, max_side=3), seed=SEEDS)
def test_matmul_on_random_batch_shapes_matches_torch(shapes, seed, xp):
    inputs = [sample(R, shape, numpy.random.default_rng([seed, k])) for k, shape in enumerate(shapes.input_shapes)]
    assert_same_values_and_gradients(ops.matmul, torch.matmul, inputs, xp, seed)
    assert_same_second_derivatives(ops.matmul, torch.matmul, inputs, xp, seed)


@RANDOM
@given(batch=array_shapes(min_dims=1, max_dims=3, max_side=3), sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       seed=SEEDS)
def test_linear_on_random_batch_shapes_matches_torch(batch, sizes, seed, xp):
    (n_in, n_out), rng = sizes, numpy.random.default_rng(seed)
    inputs = [sample(R, shape, rng) for shape in (batch + (n_in,), (n_out, n_in), (n_out,))]
    assert_same_values_and_gradients(ops.linear, TF.linear, inputs, xp, seed)


# nanoae reduces over axis= with keepdims= (NumPy's words); torch over dim= with keepdim=.
REDUCTIONS = {"sum": (ops.sum, torch.sum), "mean": (ops.mean, torch.mean), "max": (ops.max, torch.amax),
              "logsumexp": (ops.logsumexp, torch.logsumexp)}


@st.composite
def shapes_and_axes(draw):
    """A shape and an axis argument for it: None, an int (maybe negative) or a tuple."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          valid_tuple_axes(len(shape), min_size=1)))  # axis=(): see the deliberate differences
    return shape, axis


@pytest.mark.parametrize("name", REDUCTIONS)
@RANDOM
@given(shape_and_axis=shapes_and_axes(), keepdims=st.booleans(), seed=SEEDS)
def test_reduction_over_random_axes_matches_torch(name, shape_and_axis, keepdims, seed, xp):
    (shape, axis), (op, torch_op) = shape_and_axis, REDUCTIONS[name]
    dim = tuple(range(len(shape))) if axis is None else axis  # torch's logsumexp and amax want the axes named
    inputs = [sample(R, shape, numpy.random.default_rng(seed))]
    assert_same_values_and_gradients(lambda x: op(x, axis, keepdims), lambda t: torch_op(t, dim, keepdim=keepdims),
                                     inputs, xp, seed)
    assert_same_second_derivatives(lambda x: op(x, axis, keepdims), lambda t: torch_op(t, dim, keepdim=keepdims),
                                   inputs, xp, seed)


@st.composite
def shape_and_smaller_shape(draw):
    """A shape, and one that broadcasts to it: leading axes dropped, some axes set to 1."""
    shape = draw(array_shapes(min_dims=0, max_dims=4, max_side=3))
    dropped = draw(st.integers(0, len(shape)))
    smaller = tuple(1 if draw(st.booleans()) else n for n in shape[dropped:])
    return shape, smaller


@RANDOM
@given(shapes=shape_and_smaller_shape(), seed=SEEDS)
def test_broadcast_to_and_sum_to_on_random_shapes_match_torch(shapes, seed, xp):
    shape, smaller = shapes
    rng = numpy.random.default_rng(seed)
    assert_same_values_and_gradients(lambda x: ops.broadcast_to(x, shape), lambda t: torch.broadcast_to(t, shape),
                                     [sample(R, smaller, rng)], xp, seed)
    assert_same_values_and_gradients(lambda x: ops.sum_to(x, smaller), lambda t: t.sum_to_size(smaller),
                                     [sample(R, shape, rng)], xp, seed)


@RANDOM
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=5), data=st.data(), seed=SEEDS)
def test_split_and_chunk_at_random_sizes_match_torch(shape, data, seed, xp):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    size, chunks = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    inputs = [sample(R, shape, numpy.random.default_rng(seed))]
    assert_same_values_and_gradients(lambda x: x.split(size, axis), lambda t: t.split(size, axis), inputs, xp, seed)
    assert_same_values_and_gradients(lambda x: x.chunk(chunks, axis), lambda t: t.chunk(chunks, axis), inputs, xp,
                                     seed)


# --- kinks and ties: both sides pick the same value where the derivative is not defined ------------

KINKS = {
    "relu at 0": (ops.relu, torch.relu, [[-1.0, 0.0, 2.0]]),
    "leaky_relu at 0": (lambda x: ops.leaky_relu(x, 0.1), lambda t: TF.leaky_relu(t, 0.1), [[-1.0, 0.0, 2.0]]),
    "abs at 0": (ops.abs, torch.abs, [[-2.0, 0.0, 3.0]]),
    "clip at its bounds": (lambda x: x.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0), [[-2.0, -1.0, 0.0, 1.0, 2.0]]),
    "maximum at a tie": (ops.maximum, torch.maximum, [[1.0, -2.0, 3.0], [1.0, 5.0, 3.0]]),
    # torch.max(dim) gives a tie's gradient to one element, torch.amax shares it, as nanoae's max does.
    "max with tied maxima": (lambda x: x.max(axis=1), lambda t: t.amax(dim=1), [[[3.0, 1.0, 3.0], [5.0, 5.0, 5.0]]]),
    "max_pool2d with tied maxima": (lambda x: ops.max_pool2d(x, 2, stride=1), lambda t: TF.max_pool2d(t, 2, stride=1),
                                    [[[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 0.0, 2.0], [3.0, 3.0, 3.0, 0.0]]]]]),
}


@pytest.mark.parametrize("name", KINKS)
def test_value_at_a_kink_or_tie_matches_torch(name, xp):
    op, torch_op, inputs = KINKS[name]
    assert_same_values_and_gradients(op, torch_op, [numpy.array(x) for x in inputs], xp)


# --- layers: the same weights in both, then outputs and every gradient ------------------------

F64 = "float64"


@dataclass
class Layer:
    nanoae: object                # () -> the nanoae layer, in float64
    torch: object                 # () -> the torch layer (made float64 here)
    inputs: list                  # [(shape, kind)]; kind "tokens" for Embedding's integer indices
    call_nanoae: object = lambda layer, *xs: layer(*xs)
    call_torch: object = lambda layer, *ts: layer(*ts)
    torch_names: dict = field(default_factory=dict)   # nanoae parameter name -> torch's, where they differ


def lstm_step(layer, x, h, c):
    """Both LSTMCells take the state as one pair (h, c)."""
    return layer(x, (h, c))


# nanoae's GRU holds one GRUCell; torch.nn.GRU names the weights of its first (and only) layer *_l0.
GRU_NAMES = {"cell.weight_ih": "weight_ih_l0", "cell.weight_hh": "weight_hh_l0",
             "cell.bias_ih": "bias_ih_l0", "cell.bias_hh": "bias_hh_l0"}


def torch_gru(layer, x, h=None):
    """torch.nn.GRU takes and returns the state as (num_layers, N, H); nanoae's GRU has one layer: (N, H)."""
    outputs, h_last = layer(x, None if h is None else h[None])
    return outputs, h_last[0]


LAYERS = {
    "Linear": Layer(lambda: nn.Linear(4, 3, dtype=F64), lambda: torch.nn.Linear(4, 3), [((5, 4), R)]),
    "Linear (no bias, 3-D input)": Layer(lambda: nn.Linear(4, 3, bias=False, dtype=F64),
                                         lambda: torch.nn.Linear(4, 3, bias=False), [((2, 5, 4), R)]),
    "Conv2d (stride 2, padding 1)": Layer(lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=F64),
                                          lambda: torch.nn.Conv2d(2, 3, 3, stride=2, padding=1),
                                          [((2, 2, 5, 6), R)]),
    "Conv2d (3x2 kernel, stride (1, 2), padding (1, 0))": Layer(
        lambda: nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0), dtype=F64),
        lambda: torch.nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0)), [((2, 2, 4, 5), R)]),
    "ConvTranspose2d (stride 2, padding 1, output_padding 1)": Layer(
        lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1, dtype=F64),
        lambda: torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), [((2, 3, 3, 4), R)]),
    "ConvTranspose2d (2x3 kernel, stride (3, 2), output_padding (2, 0))": Layer(
        lambda: nn.ConvTranspose2d(2, 3, (2, 3), stride=(3, 2), output_padding=(2, 0), dtype=F64),
        lambda: torch.nn.ConvTranspose2d(2, 3, (2, 3), stride=(3, 2), output_padding=(2, 0)), [((1, 2, 3, 3), R)]),
    "MaxPool2d (2)": Layer(lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), [((2, 2, 4, 5), R)]),
    "MaxPool2d (3, stride 2)": Layer(lambda: nn.MaxPool2d(3, stride=2), lambda: torch.nn.MaxPool2d(3, stride=2),
                                     [((2, 2, 5, 5), R)]),
    "Upsample (x2)": Layer(lambda: nn.Upsample(2), lambda: torch.nn.Upsample(scale_factor=2, mode="nearest"),
                           [((2, 2, 3, 2), R)]),
    "GRUCell": Layer(lambda: nn.GRUCell(3, 4, dtype=F64), lambda: torch.nn.GRUCell(3, 4),
                     [((5, 3), R), ((5, 4), R)]),
    "LSTMCell": Layer(lambda: nn.LSTMCell(3, 4, dtype=F64), lambda: torch.nn.LSTMCell(3, 4),
                      [((5, 3), R), ((5, 4), R), ((5, 4), R)],
                      call_nanoae=lstm_step, call_torch=lstm_step),
    "GRU (batch first)": Layer(lambda: nn.GRU(3, 4, dtype=F64), lambda: torch.nn.GRU(3, 4, batch_first=True),
                               [((2, 5, 3), R), ((2, 4), R)], call_torch=torch_gru,
                               torch_names=GRU_NAMES),
    "GRU (batch first, h0 left out: zeros)": Layer(lambda: nn.GRU(3, 4, dtype=F64),
                                                  lambda: torch.nn.GRU(3, 4, batch_first=True), [((2, 5, 3), R)],
                                                  call_torch=torch_gru, torch_names=GRU_NAMES),
    "Embedding": Layer(lambda: nn.Embedding(6, 3, dtype=F64), lambda: torch.nn.Embedding(6, 3),
                       [((2, 7), "tokens")]),
    "ReLU": Layer(nn.ReLU, torch.nn.ReLU, [((3, 4), NZ)]),
    "LeakyReLU": Layer(lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), [((3, 4), NZ)]),
    "Sigmoid": Layer(nn.Sigmoid, torch.nn.Sigmoid, [((3, 4), R)]),
    "Tanh": Layer(nn.Tanh, torch.nn.Tanh, [((3, 4), R)]),
    "Softplus": Layer(nn.Softplus, torch.nn.Softplus, [((3, 4), R)]),
    "TopK": Layer(lambda: nn.TopK(2), lambda: TorchTopK(2), [((3, 4), R)]),
    "Identity": Layer(nn.Identity, torch.nn.Identity, [((3, 4), R)]),
    "Dropout (eval mode)": Layer(lambda: nn.Dropout(0.5).eval(), lambda: torch.nn.Dropout(0.5).eval(), [((3, 4), R)]),
    "Flatten": Layer(nn.Flatten, torch.nn.Flatten, [((2, 3, 2, 2), R)]),
    "Unflatten": Layer(lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3)), [((4, 6), R)]),
    "Sequential": Layer(lambda: nn.Sequential(nn.Linear(4, 3, dtype=F64), nn.Tanh(), nn.Linear(3, 2, dtype=F64)),
                        lambda: torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)),
                        [((5, 4), R)]),
}


def layer_inputs(entry, seed=0):
    rng = numpy.random.default_rng(seed)
    return [rng.integers(0, 6, shape) if kind == "tokens" else sample(kind, shape, rng) for shape, kind in entry.inputs]


def same_weights_in_torch(layer, torch_layer, torch_names):
    """Copy every nanoae parameter into the torch layer; strict, so both have exactly the same ones."""
    weights = {torch_names.get(name, name): torch.tensor(backend.to_numpy(p.data))
               for name, p in layer.named_parameters()}
    torch_layer.load_state_dict(weights, strict=True)


def test_every_layer_in_nn_has_a_torch_counterpart():
    layers = [name for name in nn.__all__ if isinstance(getattr(nn, name), type)
              and issubclass(getattr(nn, name), nn.Module) and name != "Module"]
    refereed = {name.split()[0] for name in LAYERS}
    assert [name for name in layers if name not in refereed] == [], "add these layers to LAYERS"


def assert_layer_matches_torch(layer, torch_layer, arrays, xp, call_nanoae=Layer.call_nanoae,
                                call_torch=Layer.call_torch, torch_names=None):
    """Same weights, same inputs: equal outputs, and equal gradients of every float input and parameter."""
    torch_names = torch_names or {}
    same_weights_in_torch(layer, torch_layer, torch_names)
    xs, ts = nanoae_leaves(xp, arrays), torch_leaves(arrays)
    ys, us = as_list(call_nanoae(layer, *xs)), as_list(call_torch(torch_layer, *ts))
    assert len(ys) == len(us), f"{len(ys)} outputs, torch gives {len(us)}"
    for k, (y, u) in enumerate(zip(ys, us)):
        assert y.shape == tuple(u.shape), f"output {k}: shape {y.shape}, torch's {tuple(u.shape)}"
        assert_close(y.numpy(), u.detach().numpy(), f"output {k}")
    upstream = [numpy.random.default_rng(1).standard_normal(y.shape) for y in ys]
    torch_params = dict(torch_layer.named_parameters())
    params = list(layer.named_parameters())
    names = [f"input {i}" for i, x in enumerate(xs) if x.requires_grad] + [name for name, _ in params]
    wrt = [x for x in xs if x.requires_grad] + [p for _, p in params]
    torch_wrt = [t for t in ts if t.requires_grad] + [torch_params[torch_names.get(name, name)] for name, _ in params]
    mine, theirs = nanoae_gradients(ys, wrt, upstream), torch_gradients(us, torch_wrt, upstream)
    for name, x, g, h in zip(names, wrt, mine, theirs):
        assert_close(as_numpy(g, x.shape), as_numpy(h, x.shape), f"gradient of {name}")


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch_with_the_same_weights(name, xp):
    entry = LAYERS[name]
    assert_layer_matches_torch(entry.nanoae(), entry.torch().double(), layer_inputs(entry), xp,
                               entry.call_nanoae, entry.call_torch, entry.torch_names)


def test_gru_with_lengths_matches_torch_on_packed_sequences(xp):
    """nanoae pads: outputs past a sequence's length are zero, h_last is the state after its last real step.
    torch gets there with pack_padded_sequence (which refuses a length of 0; nanoae allows it)."""
    lengths, steps = numpy.array([4, 1, 3]), 5          # no sequence runs all 5 steps: the tail is padding only
    rnn = torch.nn.utils.rnn

    def torch_call(layer, x):
        packed = rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        outputs, h_last = layer(packed)
        return rnn.pad_packed_sequence(outputs, batch_first=True, total_length=steps)[0], h_last[0]

    x = sample(R, (3, steps, 2), numpy.random.default_rng(0))
    assert_layer_matches_torch(nn.GRU(2, 4, dtype=F64), torch.nn.GRU(2, 4, batch_first=True).double(), [x], xp,
                               lambda layer, x: layer(x, lengths=lengths), torch_call, GRU_NAMES)


def test_dropout_in_training_keeps_and_scales_like_torch(xp):
    """The random draws differ, so each side is checked against its own mask: in both, kept elements and
    their gradients are scaled by 1 / (1 - p) ("inverted" dropout) and the others are zero."""
    rng = numpy.random.default_rng(0)
    p, x, g = 0.25, sample(NZ, (40, 50), rng), rng.standard_normal((40, 50))
    (xn,), (xt,) = nanoae_leaves(xp, [x]), torch_leaves([x])
    yn, yt = nn.Dropout(p)(xn), torch.nn.Dropout(p)(xt)
    (gn,), (gt,) = nanoae_gradients([yn], [xn], [g]), torch_gradients([yt], [xt], [g])
    for y, gx in [(yn.numpy(), gn.numpy()), (yt.detach().numpy(), gt.numpy())]:
        keep = y != 0
        assert abs(keep.mean() - (1 - p)) < 0.05
        assert_close(y, numpy.where(keep, x / (1 - p), 0), "kept elements scaled by 1 / (1 - p)")
        assert_close(gx, numpy.where(keep, g / (1 - p), 0), "gradient")


# --- Deliberate differences: where nanoae chooses otherwise, on purpose, asserted --------------

def pair_of(xp, array):
    """The same float64 values as a nanoae leaf and a torch leaf."""
    return nanoae_leaves(xp, [array])[0], torch_leaves([array])[0]


def test_difference_reductions_take_numpys_axis_and_keepdims_not_dim_and_keepdim(xp):
    x, t = pair_of(xp, sample(R, (3, 4), numpy.random.default_rng(0)))
    with pytest.raises(TypeError, match="dim"):
        x.sum(dim=1)
    # torch accepts NumPy's words too, so code written for nanoae runs on torch.
    assert_close(x.sum(axis=1, keepdims=True).numpy(), t.sum(axis=1, keepdims=True).detach().numpy(), "sum")


def test_difference_an_empty_axis_tuple_reduces_nothing_as_in_numpy_torch_reduces_everything(xp):
    x, t = pair_of(xp, sample(R, (3, 4), numpy.random.default_rng(0)))
    assert x.sum(axis=()).shape == (3, 4)
    assert tuple(torch.sum(t, dim=()).shape) == ()


def test_difference_max_over_an_axis_gives_values_only_and_shares_ties_as_torch_amax(xp):
    tied = numpy.array([[3.0, 1.0, 3.0], [5.0, 5.0, 5.0]])
    x, t = pair_of(xp, tied)
    assert isinstance(x.max(axis=1), Tensor)
    assert isinstance(t.max(dim=1), tuple)                         # torch: (values, indices)
    (gx,) = nanoae.grad(x.max(axis=1).sum(), [x])
    (g_amax,) = torch.autograd.grad(t.amax(dim=1).sum(), [t])
    (g_max,) = torch.autograd.grad(t.max(dim=1).values.sum(), [t])
    assert_close(gx.numpy(), g_amax.numpy(), "max(axis) against amax")
    assert gx.numpy().tolist() != g_max.numpy().tolist()         # torch.max(dim) gives a tie to one element


def test_difference_transpose_permutes_all_axes_as_numpy_where_torch_swaps_two(xp):
    x, t = pair_of(xp, sample(R, (2, 3, 4), numpy.random.default_rng(0)))
    assert_close(x.transpose(2, 0, 1).numpy(), t.permute(2, 0, 1).detach().numpy(), "transpose as permute")
    # The trap: for a matrix, torch's m.transpose(0, 1) swaps the axes; nanoae's is the identity permutation.
    m, u = x[0], t[0]
    assert m.transpose(0, 1).shape == (3, 4)
    assert tuple(u.transpose(0, 1).shape) == (4, 3)


def test_difference_power_takes_a_number_exponent_only(xp):
    """nanoae's pow has a constant exponent; torch's also takes a tensor one (use exp(y * log(x)) in nanoae)."""
    x, t = pair_of(xp, sample(POS, (3, 4), numpy.random.default_rng(0)))
    with pytest.raises(TypeError, match="exponent must be a Python number"):
        x ** x
    assert_close(ops.exp(x * ops.log(x)).numpy(), (t ** t).detach().numpy(), "x ** x as exp(x log x)")


def test_difference_a_number_to_a_tensor_power_needs_a_positive_base(xp):
    """2 ** x is e^(x ln 2); torch also takes a base <= 0 (and gives nan where x is not an integer)."""
    x, t = pair_of(xp, numpy.array([0.5, 2.0]))
    with pytest.raises(ValueError, match="> 0"):
        (-2.0) ** x
    assert numpy.isnan(((-2.0) ** t).detach().numpy()[0])


def test_difference_clip_takes_low_and_high_where_torch_clamp_takes_min_and_max(xp):
    x, t = pair_of(xp, sample(NZ, (3, 4), numpy.random.default_rng(0)))
    with pytest.raises(TypeError, match="min"):
        x.clip(min=0.0)
    assert_close(x.clip(low=0.0).numpy(), t.clamp(min=0.0).detach().numpy(), "clip(low=0) as clamp(min=0)")


def test_difference_size_is_the_number_of_elements_as_in_numpy(xp):
    x, t = pair_of(xp, numpy.zeros((3, 4)))
    assert x.size == 12 and t.numel() == 12 and tuple(t.size()) == (3, 4)


def test_difference_binary_cross_entropy_clamps_p_where_torch_clamps_the_log(xp):
    """At p = 0 or 1 (t the other), nanoae clamps p to sqrt(smallest normal float): loss -ln(1e-154) = 354.2
    with zero gradient (see its docstring). torch clamps ln p at -100: loss 100, gradient about -+1e12."""
    p, target = numpy.array([0.0, 1.0]), numpy.array([1.0, 0.0])
    x, t = pair_of(xp, p)
    loss, torch_loss = F.binary_cross_entropy(x, target, "none"), TF.binary_cross_entropy(t, torch.tensor(target),
                                                                                           reduction="none")
    floor = numpy.sqrt(numpy.finfo(numpy.float64).tiny)
    assert_close(loss.numpy(), [-numpy.log(floor)] * 2, "nanoae at p = 0 and 1")
    assert_close(torch_loss.detach().numpy(), [100.0, 100.0], "torch at p = 0 and 1")
    assert nanoae.grad(loss.sum(), [x])[0].numpy().tolist() == [0.0, 0.0]
    torch_gradient = torch.autograd.grad(torch_loss.sum(), [t])[0].numpy()
    assert torch_gradient[0] < -1e11 and torch_gradient[1] > 1e11


def test_difference_binary_cross_entropy_with_logits_is_exact_at_infinite_logits(xp):
    """nanoae: 0 where the sigmoid is exactly the target (its docstring derives it); torch: nan there."""
    logits, target = numpy.array([numpy.inf, -numpy.inf, numpy.inf]), numpy.array([1.0, 0.0, 0.5])
    x, t = pair_of(xp, logits)
    loss = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    torch_loss = TF.binary_cross_entropy_with_logits(t, torch.tensor(target), reduction="none")
    assert loss.numpy().tolist() == [0.0, 0.0, numpy.inf]
    assert numpy.isnan(torch_loss.detach().numpy()[:2]).all() and torch_loss[2].item() == numpy.inf


def test_a_row_sparse_gradient_refuses_to_be_differentiated_again():
    """Why sparse_embedding is in FIRST_DERIVATIVES_ONLY: asking for its second derivative is an error."""
    w = Tensor(numpy.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    y = ops.sparse_embedding(w, numpy.array([1, 4, 1]))
    with pytest.raises(RuntimeError, match="cannot be differentiated again"):
        nanoae.grad((y * y).sum(), [w], create_graph=True)
