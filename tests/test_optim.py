"""Optimizers: SGD and Adam against hand-written NumPy versions of their formulas.

The references below are written the way PyTorch's documentation writes the
algorithms (momentum buffer starts as the first gradient, Adam's bias
correction by 1 - beta^t), in float64, independently of nanoae.optim.
"""
import re

import numpy as np
import pytest

import nanoae
from nanoae import nn, optim

SHAPES = [(3, 4), (4,)]


def sgd_reference(p, grads, lr, momentum=0.0, weight_decay=0.0):
    p, velocity = p.astype(np.float64), None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            velocity = g if velocity is None else momentum * velocity + g
            g = velocity
        p = p - lr * g
    return p


def adam_reference(p, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    p = p.astype(np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def make_params(xp, seed=0):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(xp.asarray(rng.standard_normal(shape), dtype="float32")) for shape in SHAPES]


def random_grads(steps, seed=1):
    """For each step, one gradient per parameter (both signs, different sizes)."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(shape) * rng.uniform(0.1, 3) for shape in SHAPES] for _ in range(steps)]


def run(optimizer, params, grads, xp):
    for step_grads in grads:
        optimizer.zero_grad()
        for p, g in zip(params, step_grads):
            p.grad = nanoae.tensor(xp.asarray(g, dtype="float32"))
        optimizer.step()


CASES = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.1, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    ("adam", dict(lr=0.01)),
    ("adam", dict(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6)),
    ("adam", dict(lr=0.01, weight_decay=0.1)),
]


def build(kind, params, settings):
    if kind == "sgd":
        return optim.SGD(params, **settings)
    settings = dict(settings)
    betas = (settings.pop("beta1", 0.9), settings.pop("beta2", 0.999))
    return optim.Adam(params, betas=betas, **settings)


@pytest.mark.parametrize("kind, settings", CASES, ids=[f"{k}-{'-'.join(s)}" for k, s in CASES])
def test_optimizer_matches_the_numpy_reference_over_several_steps(xp, kind, settings):
    params = make_params(xp)
    start = [p.numpy().copy() for p in params]
    grads = random_grads(steps=5)
    run(build(kind, params, settings), params, grads, xp)
    reference = sgd_reference if kind == "sgd" else adam_reference
    for i, p in enumerate(params):
        expected = reference(start[i], [step[i].astype(np.float32) for step in grads], **settings)
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind, settings", CASES[2:3] + CASES[5:], ids=["sgd", "adam"])
def test_step_updates_in_place_and_keeps_float32(xp, kind, settings):
    params = make_params(xp)
    arrays = [p.data for p in params]
    run(build(kind, params, settings), params, random_grads(steps=2), xp)
    for p, array in zip(params, arrays):
        assert p.data is array
        assert p.dtype == np.float32


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_parameters_without_gradient_are_skipped(xp, kind):
    params = make_params(xp)
    optimizer = build(kind, params, dict(lr=0.1, momentum=0.9) if kind == "sgd" else dict(lr=0.1))
    frozen = params[1].numpy().copy()
    for _ in range(3):
        params[0].grad = nanoae.ones(*SHAPES[0])
        params[1].grad = None
        optimizer.step()
    np.testing.assert_array_equal(params[1].numpy(), frozen)
    assert not np.array_equal(params[0].numpy(), make_params(xp)[0].numpy())
    for buffers in optimizer.state.values():
        np.testing.assert_array_equal(nanoae.backend.to_numpy(buffers[1]), 0)


def test_zero_grad_sets_every_gradient_to_none(xp):
    params = make_params(xp)
    optimizer = optim.Adam(params)
    run(optimizer, params, random_grads(steps=1), xp)
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("kind, settings", [CASES[2], CASES[5]], ids=["sgd", "adam"])
def test_state_dict_round_trip_continues_exactly_like_an_uninterrupted_run(xp, tmp_path, kind, settings):
    grads = random_grads(steps=6)
    uninterrupted = make_params(xp)
    run(build(kind, uninterrupted, settings), uninterrupted, grads, xp)

    params = make_params(xp)
    optimizer = build(kind, params, settings)
    run(optimizer, params, grads[:3], xp)
    nanoae.save({"params": {str(i): p.data for i, p in enumerate(params)},
                 "optimizer": optimizer.state_dict()}, tmp_path / "checkpoint.npz")
    del params, optimizer

    checkpoint = nanoae.load(tmp_path / "checkpoint.npz")
    params = [nn.Parameter(xp.asarray(checkpoint["params"][str(i)])) for i in range(len(SHAPES))]
    resumed = build(kind, params, dict(lr=123.0))  # hyperparameters come from the checkpoint
    resumed.load_state_dict(checkpoint["optimizer"])
    assert resumed.lr == settings["lr"] and resumed.steps == 3
    run(resumed, params, grads[3:], xp)
    for p, q in zip(params, uninterrupted):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_load_state_dict_rejects_bad_entries_and_changes_nothing(xp):
    params = make_params(xp)
    optimizer = optim.Adam(params, lr=0.01)
    run(optimizer, params, random_grads(steps=2), xp)
    good = {name: (value.copy() if hasattr(value, "copy") else value)
            for name, value in optimizer.state_dict().items()}

    fresh = optim.Adam(make_params(xp), lr=0.5)
    with pytest.raises(KeyError, match="v.1"):
        fresh.load_state_dict({name: value for name, value in good.items() if name != "v.1"})
    with pytest.raises(ValueError, match=r"m\.1 has shape \(5,\)"):
        fresh.load_state_dict(dict(good, **{"m.1": np.zeros(5)}))
    assert fresh.lr == 0.5 and fresh.steps == 0
    assert all(not nanoae.backend.to_numpy(b).any() for buffers in fresh.state.values() for b in buffers)


def snapshot(optimizer):
    """Copies of everything load_state_dict may change: hyperparameters, steps, buffers."""
    return {name: np.array(nanoae.backend.to_numpy(value)) if nanoae.backend.is_array(value) else value
            for name, value in optimizer.state_dict().items()}


BAD_ENTRIES = [
    ("adam", "eps", float("nan"), ValueError, "eps must be a finite number > 0, got nan"),
    ("adam", "eps", "1e-8", TypeError, "eps must be a finite number > 0, got str '1e-8'"),
    ("adam", "lr", -1.0, ValueError, "lr must be a finite number > 0, got -1.0"),
    ("adam", "betas", np.array([0.9, 1.0]), ValueError, "betas must be two numbers in [0, 1), got (0.9, 1.0)"),
    ("adam", "betas", np.array([0.9]), ValueError, "betas must be two numbers in [0, 1), got (0.9,)"),
    ("adam", "weight_decay", float("inf"), ValueError, "weight_decay must be a finite number >= 0, got inf"),
    ("adam", "steps", -1, ValueError, "steps must be an integer >= 0, got -1"),
    ("adam", "steps", 2.5, ValueError, "steps must be an integer >= 0, got 2.5"),
    ("adam", "v.1", np.array(["a"] * 4), ValueError, "v.1 must hold numbers, got dtype <U1"),
    ("sgd", "momentum", 1.5, ValueError, "momentum must be a number in [0, 1], got 1.5"),
    ("sgd", "lr", None, TypeError, "lr must be a finite number > 0, got NoneType None"),
    ("sgd", "velocity.0", np.zeros((4, 3)), ValueError, "velocity.0 has shape (4, 3)"),
]


@pytest.mark.parametrize("kind, entry, value, error, message", BAD_ENTRIES,
                         ids=[f"{kind}-{entry}" for kind, entry, *_ in BAD_ENTRIES])
def test_load_state_dict_with_one_bad_entry_raises_naming_it_and_changes_nothing(xp, kind, entry, value,
                                                                                 error, message):
    settings = dict(lr=0.01, momentum=0.9) if kind == "sgd" else dict(lr=0.01)
    source = build(kind, make_params(xp), settings)
    run(source, source.params, random_grads(steps=2), xp)
    state = dict(snapshot(source), **{entry: value})  # every other entry is good, and differs from below

    params = make_params(xp, seed=3)
    target = build(kind, params, dict(lr=0.5, weight_decay=0.1))
    run(target, params, random_grads(steps=1, seed=4), xp)
    before = snapshot(target)
    owner = "SGD" if kind == "sgd" else "Adam"
    with pytest.raises(error, match=re.escape(f"{owner}.load_state_dict: {message}")):
        target.load_state_dict(state)
    after = snapshot(target)
    assert after.keys() == before.keys()
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)


NAN, INF = float("nan"), float("inf")
BAD_HYPERPARAMETERS = [
    ("adam", dict(lr=-1), ValueError, "Adam: lr must be a finite number > 0, got -1.0"),
    ("adam", dict(lr=NAN), ValueError, "Adam: lr must be a finite number > 0, got nan"),
    ("adam", dict(lr=INF), ValueError, "Adam: lr must be a finite number > 0, got inf"),
    ("adam", dict(lr=0), ValueError, "Adam: lr must be a finite number > 0, got 0.0"),
    ("adam", dict(beta1=1.0), ValueError, "Adam: betas must be two numbers in [0, 1), got (1.0, 0.999)"),
    ("adam", dict(beta2=-0.1), ValueError, "Adam: betas must be two numbers in [0, 1), got (0.9, -0.1)"),
    ("adam", dict(beta2=NAN), ValueError, "Adam: betas must be two numbers in [0, 1), got (0.9, nan)"),
    ("adam", dict(eps=0.0), ValueError, "Adam: eps must be a finite number > 0, got 0.0"),
    ("adam", dict(eps=INF), ValueError, "Adam: eps must be a finite number > 0, got inf"),
    ("adam", dict(weight_decay=-0.1), ValueError, "Adam: weight_decay must be a finite number >= 0, got -0.1"),
    ("sgd", dict(lr="x"), TypeError, "SGD: lr must be a finite number > 0, got str 'x'"),
    ("sgd", dict(lr=-0.1), ValueError, "SGD: lr must be a finite number > 0, got -0.1"),
    ("sgd", dict(lr=0.1, momentum=1.5), ValueError, "SGD: momentum must be a number in [0, 1], got 1.5"),
    ("sgd", dict(lr=0.1, momentum=-0.5), ValueError, "SGD: momentum must be a number in [0, 1], got -0.5"),
    ("sgd", dict(lr=0.1, momentum=True), TypeError, "SGD: momentum must be a number in [0, 1], got bool True"),
    ("sgd", dict(lr=0.1, weight_decay=NAN), ValueError, "SGD: weight_decay must be a finite number >= 0, got nan"),
]


@pytest.mark.parametrize("kind, settings, error, message", BAD_HYPERPARAMETERS,
                         ids=[f"{kind}-{settings}" for kind, settings, *_ in BAD_HYPERPARAMETERS])
def test_constructor_rejects_a_bad_hyperparameter_naming_class_name_and_value(kind, settings, error, message):
    with pytest.raises(error, match=re.escape(message)):
        build(kind, make_params(np), settings)


@pytest.mark.parametrize("betas, error, message", [
    ((0.9,), ValueError, "got (0.9,)"),
    ((0.9, 0.99, 0.999), ValueError, "got (0.9, 0.99, 0.999)"),
    (0.9, TypeError, "got float 0.9"),
    (np.array(0.9), TypeError, "got ndarray array(0.9)"),
    ((), ValueError, "got ()"),
    (("0.9", 0.999), TypeError, "got str '0.9'"),
])
def test_adam_betas_must_be_two_numbers(betas, error, message):
    with pytest.raises(error, match=re.escape(f"Adam: betas must be two numbers in [0, 1), {message}")):
        optim.Adam(make_params(np), betas=betas)


def test_hyperparameters_at_the_ends_of_their_ranges_are_accepted_as_python_floats():
    sgd = optim.SGD(make_params(np), lr=np.float32(0.5), momentum=1, weight_decay=0)
    adam = optim.Adam(make_params(np), lr=1, betas=np.array([0.0, 0.5]), eps=np.float64(1e-30))
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.5, 1.0, 0.0)
    assert (adam.lr, adam.betas, adam.eps) == (1.0, (0.0, 0.5), 1e-30)
    assert all(type(v) is float for v in (sgd.lr, sgd.momentum, adam.lr, adam.eps, *adam.betas))


@pytest.mark.parametrize("make", [lambda: optim.SGD([], lr=0.1), lambda: optim.Adam([]),
                                  lambda: optim.Adam(nn.ReLU().parameters())],
                         ids=["sgd", "adam", "module-without-parameters"])
def test_empty_parameter_list_raises(make):
    with pytest.raises(ValueError, match="empty list of parameters"):
        make()


@pytest.mark.parametrize("kind", ["adam", "sgd-momentum"])
def test_optimizer_minimises_a_quadratic(xp, kind):
    rng = np.random.default_rng(9)
    target = rng.standard_normal(5)
    scales = rng.uniform(0.5, 2.0, 5)  # a bowl that is steeper in some directions
    p = nn.Parameter(xp.zeros(5, dtype="float32"))
    optimizer = optim.Adam([p], lr=0.05) if kind == "adam" else optim.SGD([p], lr=0.05, momentum=0.9)
    t, s = (nanoae.tensor(xp.asarray(a, dtype="float32")) for a in (target, scales))
    for _ in range(400):
        optimizer.zero_grad()
        (s * (p - t) ** 2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(p.numpy(), target, atol=1e-3)
