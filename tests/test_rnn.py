"""Recurrent layers and embeddings: GRUCell, LSTMCell, GRU (with lengths) and Embedding.

References: PyTorch's gate equations written out in NumPy, gate by gate, on
the same weights (one slice of ``weight_ih``/``weight_hh`` per gate); finite
differences (nanoae.gradcheck, float64, random upstream gradients); a one-hot
matrix product for the embedding's gradient; and the unpadded sequence for
the padded one.
"""
import numpy as np
import pytest

import nanoae
from nanoae import backend, gradcheck, nn
from nanoae.autograd import ShapeError, Tensor


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def numpy_gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's GRUCell: gates r, z, n in that order in the stacked weights."""
    H = h.shape[1]
    W_ir, W_iz, W_in = w_ih[:H], w_ih[H:2 * H], w_ih[2 * H:]
    W_hr, W_hz, W_hn = w_hh[:H], w_hh[H:2 * H], w_hh[2 * H:]
    b_ir, b_iz, b_in = b_ih[:H], b_ih[H:2 * H], b_ih[2 * H:]
    b_hr, b_hz, b_hn = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
    r = sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n = np.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    return (1 - z) * n + z * h


def numpy_lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's LSTMCell: gates i, f, g, o in that order in the stacked weights."""
    H = h.shape[1]
    pre = [x @ w_ih[k * H:(k + 1) * H].T + b_ih[k * H:(k + 1) * H] + h @ w_hh[k * H:(k + 1) * H].T
           + b_hh[k * H:(k + 1) * H] for k in range(4)]
    i, f, g, o = sigmoid(pre[0]), sigmoid(pre[1]), np.tanh(pre[2]), sigmoid(pre[3])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def params_of(module):
    """The module's parameters as float64 NumPy arrays, by name."""
    return {name: p.numpy().astype(np.float64) for name, p in module.named_parameters()}


def functional_call(module, params, *args, **kwargs):
    """Call ``module`` with its parameters replaced by the tensors ``params`` (name -> Tensor).

    The replacement bypasses registration (object.__setattr__), so forward reads
    the given tensors, and gradcheck can perturb them; the originals come back after.
    """
    originals = {}
    for name, value in params.items():
        *path, leaf = name.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        originals[name] = (owner, leaf, getattr(owner, leaf))
        object.__setattr__(owner, leaf, value)
    try:
        return module(*args, **kwargs)
    finally:
        for owner, leaf, value in originals.values():
            object.__setattr__(owner, leaf, value)


def check_module_gradients(module, inputs, input_names, call):
    """gradcheck ``call(module, *inputs)`` with respect to the inputs AND every parameter."""
    names = [name for name, _ in module.named_parameters()]
    values = [p.numpy().astype(np.float64) for _, p in module.named_parameters()]

    def fn(*tensors):
        given, weights = tensors[:len(inputs)], tensors[len(inputs):]
        return call(lambda *a, **k: functional_call(module, dict(zip(names, weights)), *a, **k), *given)
    return gradcheck(fn, [*inputs, *values], names=[*input_names, *names])


rng = np.random.default_rng(0)


# --- GRUCell and LSTMCell against PyTorch's equations ----------------------------------------------

def test_gru_cell_matches_pytorch_equations_written_in_numpy(xp):
    cell = nn.GRUCell(5, 4)
    x, h = rng.standard_normal((3, 5)), rng.standard_normal((3, 4))
    p = params_of(cell)
    expected = numpy_gru_cell(x, h, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"])
    got = functional_call(cell, {k: Tensor(xp.asarray(v)) for k, v in p.items()}, Tensor(xp.asarray(x)),
                          Tensor(xp.asarray(h)))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_gru_cell_float32_output_and_zero_initial_state(xp):
    cell = nn.GRUCell(5, 4)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    p = params_of(cell)
    out = cell(Tensor(xp.asarray(x)))
    assert out.dtype == np.float32 and out.shape == (3, 4)
    expected = numpy_gru_cell(x.astype(np.float64), np.zeros((3, 4)), p["weight_ih"], p["weight_hh"],
                              p["bias_ih"], p["bias_hh"])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_gru_cell_weights_have_pytorch_shapes_and_init_range():
    cell = nn.GRUCell(5, 16)
    shapes = {name: p.shape for name, p in cell.named_parameters()}
    assert shapes == {"weight_ih": (48, 5), "weight_hh": (48, 16), "bias_ih": (48,), "bias_hh": (48,)}
    for p in cell.parameters():
        assert np.abs(p.numpy()).max() <= 1 / 4 and np.abs(p.numpy()).max() > 0.2
    assert [n for n, _ in nn.GRUCell(5, 16, bias=False).named_parameters()] == ["weight_ih", "weight_hh"]


def test_lstm_cell_matches_pytorch_equations_written_in_numpy(xp):
    cell = nn.LSTMCell(5, 4)
    x, h, c = rng.standard_normal((3, 5)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    p = params_of(cell)
    h_ref, c_ref = numpy_lstm_cell(x, h, c, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"])
    h_new, c_new = functional_call(cell, {k: Tensor(xp.asarray(v)) for k, v in p.items()}, Tensor(xp.asarray(x)),
                                   (Tensor(xp.asarray(h)), Tensor(xp.asarray(c))))
    np.testing.assert_allclose(h_new.numpy(), h_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_new.numpy(), c_ref, rtol=1e-12, atol=1e-12)
    assert cell.weight_ih.shape == (16, 5) and cell.weight_hh.shape == (16, 4)


def test_gru_runs_the_cell_at_every_step(xp):
    gru = nn.GRU(3, 4)
    x, h0 = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 4))
    p = params_of(gru)
    outputs, h_last = functional_call(gru, {k: Tensor(xp.asarray(v)) for k, v in p.items()},
                                      Tensor(xp.asarray(x)), Tensor(xp.asarray(h0)))
    h, expected = h0, []
    for t in range(6):
        h = numpy_gru_cell(x[:, t], h, p["cell.weight_ih"], p["cell.weight_hh"], p["cell.bias_ih"],
                           p["cell.bias_hh"])
        expected.append(h)
    np.testing.assert_allclose(outputs.numpy(), np.stack(expected, axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_last.numpy(), expected[-1], rtol=1e-12, atol=1e-12)


# --- gradients -------------------------------------------------------------------------------

def test_gru_cell_gradients_match_finite_differences():
    cell = nn.GRUCell(3, 4)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    assert check_module_gradients(cell, [x, h], ["x", "h"], lambda call, x, h: call(x, h))


def test_lstm_cell_gradients_match_finite_differences():
    cell = nn.LSTMCell(3, 4)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    assert check_module_gradients(cell, [x, h, c], ["x", "h", "c"], lambda call, x, h, c: call(x, (h, c)))


def test_gru_with_lengths_gradients_match_finite_differences():
    gru = nn.GRU(2, 3)
    x, h0 = rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 3))
    lengths = np.array([5, 2, 0])
    assert check_module_gradients(gru, [x, h0], ["x", "h0"],
                                  lambda call, x, h0: call(x, h0, lengths=lengths))


def test_embedding_gradients_match_finite_differences():
    emb = nn.Embedding(5, 3)
    index = np.array([[0, 4, 0], [2, 2, 2]])
    assert check_module_gradients(emb, [], [], lambda call: call(index))


# --- variable lengths --------------------------------------------------------------------------

def test_padding_changes_neither_the_last_state_nor_the_gradients(xp):
    gru = nn.GRU(2, 3)
    lengths = [4, 2, 6]
    seqs = [rng.standard_normal((n, 2)) for n in lengths]
    upstream = rng.standard_normal((3, 3))

    padded = rng.standard_normal((3, 6, 2)) * 10                   # garbage in the padding
    for i, s in enumerate(seqs):
        padded[i, :len(s)] = s
    x = Tensor(xp.asarray(padded), requires_grad=True)
    outputs, h_last = gru(x, lengths=np.array(lengths))
    (h_last * Tensor(xp.asarray(upstream.astype(np.float32)))).sum().backward()
    grads_padded = {name: p.grad.numpy() for name, p in gru.named_parameters()}

    for i, s in enumerate(seqs):
        assert np.all(outputs.numpy()[i, len(s):] == 0), "outputs past the length must be zeros"
        assert np.all(x.grad.numpy()[i, len(s):] == 0), "the padding must get no gradient"
    gru.zero_grad()
    total = 0
    for i, s in enumerate(seqs):                                  # one unpadded sequence at a time
        x_i = Tensor(xp.asarray(s[None].astype(np.float32)), requires_grad=True)
        _, h_i = gru(x_i)
        np.testing.assert_allclose(h_i.numpy()[0], h_last.numpy()[i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(outputs.numpy()[i, :len(s)], gru(x_i)[0].numpy()[0], rtol=1e-5, atol=1e-6)
        total = total + (h_i * Tensor(xp.asarray(upstream[i:i + 1].astype(np.float32)))).sum()
    total.backward()
    for name, p in gru.named_parameters():
        np.testing.assert_allclose(grads_padded[name], p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def test_zero_length_keeps_the_initial_state(xp):
    gru = nn.GRU(2, 3)
    h0 = Tensor(xp.asarray(rng.standard_normal((2, 3)).astype(np.float32)))
    outputs, h_last = gru(Tensor(xp.asarray(rng.standard_normal((2, 4, 2)).astype(np.float32))), h0,
                          lengths=np.array([0, 0]))
    np.testing.assert_array_equal(h_last.numpy(), h0.numpy())
    assert outputs.shape == (2, 4, 3) and np.all(outputs.numpy() == 0)


def test_backprop_through_time_over_2000_steps_needs_no_recursion(xp):
    gru = nn.GRU(2, 3)
    x = Tensor(xp.asarray(rng.standard_normal((2, 2000, 2)).astype(np.float32)), requires_grad=True)
    outputs, h_last = gru(x)
    (outputs.sum() + h_last.sum()).backward()                     # the graph is ~30,000 ops deep
    assert x.grad.shape == x.shape and np.isfinite(x.grad.numpy()).all()
    assert np.abs(x.grad.numpy()[:, -1]).max() > 0 and np.isfinite(gru.cell.weight_hh.grad.numpy()).all()


# --- Embedding -------------------------------------------------------------------------------------

def test_embedding_looks_up_rows_for_indices_of_any_shape(xp):
    emb = nn.Embedding(6, 3)
    index = np.array([[1, 5], [0, 1], [3, 3]])
    out = emb(Tensor(xp.asarray(index)))
    assert out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[index])


def test_embedding_gradient_adds_up_repeated_indices(xp):
    emb = nn.Embedding(4, 3)
    index = np.array([2, 0, 2, 2, 1])
    upstream = rng.standard_normal((5, 3)).astype(np.float32)
    (emb(index) * Tensor(xp.asarray(upstream))).sum().backward()
    one_hot = np.eye(4, dtype=np.float32)[index]                  # (5, 4): emb(index) = one_hot @ weight
    np.testing.assert_allclose(emb.weight.grad.numpy(), one_hot.T @ upstream, rtol=1e-6)
    assert np.all(emb.weight.grad.numpy()[3] == 0)                # never picked


def test_embedding_rejects_out_of_range_and_non_integer_indices():
    emb = nn.Embedding(4, 3)
    with pytest.raises(IndexError, match=r"Embedding\(4, 3\).*\[0, 4\).*0\.\.4"):
        emb(np.array([0, 4]))
    with pytest.raises(IndexError, match="-1"):
        emb(np.array([-1, 2]))
    with pytest.raises(TypeError, match="Embedding: indices must be integers"):
        emb(np.array([0.0, 1.0]))


# --- clear errors --------------------------------------------------------------------------------

def test_cells_name_the_wrong_shapes():
    with pytest.raises(ShapeError, match=r"GRUCell: input has shape \(2, 4\), expected \(N, 3\)"):
        nn.GRUCell(3, 5)(Tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(ShapeError, match=r"GRUCell: state has shape \(2, 4\)"):
        nn.GRUCell(3, 5)(Tensor(np.zeros((2, 3), np.float32)), Tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(ShapeError, match="LSTMCell: state"):
        zeros = Tensor(np.zeros((2, 5), np.float32))
        nn.LSTMCell(3, 5)(Tensor(np.zeros((2, 3), np.float32)), (zeros, Tensor(np.zeros((3, 5), np.float32))))


def test_gru_names_wrong_inputs_and_lengths():
    gru = nn.GRU(3, 5)
    x = Tensor(np.zeros((2, 4, 3), np.float32))
    with pytest.raises(ShapeError, match=r"GRU: input has shape \(2, 3\), expected \(N, T, 3\) \(batch first\)"):
        gru(Tensor(np.zeros((2, 3), np.float32)))
    with pytest.raises(ShapeError, match=r"GRU: h0 has shape \(5,\)"):
        gru(x, Tensor(np.zeros(5, np.float32)))
    with pytest.raises(ValueError, match=r"lengths must be in \[0, T\] = \[0, 4\], got 1..5"):
        gru(x, lengths=np.array([1, 5]))
    with pytest.raises(ShapeError, match="lengths must be 2 integers"):
        gru(x, lengths=np.array([1, 2, 3]))
    with pytest.raises(ShapeError, match="dtype float"):
        gru(x, lengths=np.array([1.0, 2.0]))


def test_gru_trains_on_a_copy_task():
    """A few Adam steps lower the loss of predicting the first input from the last state (it can learn)."""
    backend.manual_seed(0)
    gru, head = nn.GRU(1, 8), nn.Linear(8, 1)
    params = gru.parameters() + head.parameters()
    opt = nanoae.optim.Adam(params, lr=0.05)
    x = rng.standard_normal((32, 5, 1)).astype(np.float32)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        _, h = gru(Tensor(x))
        loss = ((head(h) - Tensor(x[:, 0])) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
