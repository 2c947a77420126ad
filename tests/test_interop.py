"""The bridge to PyTorch (nanoae.interop), checked against PyTorch itself.

PyTorch is the independent reference: with the same weights, the same input
and the same noise, every model and layer must give the same outputs, loss
terms and gradients in both engines, and one Adam step the same weights.
Weights must survive nanoae -> torch -> nanoae bit for bit, and tensors that
cross by DLPack must share memory exactly where the docstrings promise it.

Differences are measured relative to the reference's scale,
max |nanoae - torch| / max |torch|, and must stay below 1e-5 in float32 and
1e-12 in float64.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason='PyTorch is optional: pip install -e ".[torch]" to run these tests')

from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

import nanoae  # noqa: E402
from nanoae import backend, nn, optim  # noqa: E402
from nanoae.autograd import ShapeError, Tensor  # noqa: E402
from nanoae.interop import from_torch, parameter_names, tensor_from_torch, tensor_to_torch, to_torch  # noqa: E402
from nanoae.models import MODELS, Autoencoder, build_model  # noqa: E402

torch.set_num_threads(2)

TOLERANCE = {"float32": 1e-5, "float64": 1e-12}
DTYPES = ["float32", "float64"]
NOISE_SEED = 7


def relative_difference(ours, theirs):
    """max |ours - theirs| / max |theirs|: the largest difference, relative to the reference's scale."""
    ours = np.asarray(ours.numpy() if isinstance(ours, Tensor) else ours, dtype=np.float64)
    theirs = theirs.detach().numpy().astype(np.float64)
    assert ours.shape == theirs.shape
    scale = max(np.max(np.abs(theirs), initial=0.0), np.finfo(np.float64).tiny)
    return np.max(np.abs(ours - theirs), initial=0.0) / scale


def assert_close(ours, theirs, dtype, what):
    difference = relative_difference(ours, theirs)
    assert difference <= TOLERANCE[dtype], f"{what}: nanoae and torch differ by {difference:.2e} ({dtype})"


def to_dtype(module, dtype):
    """Every parameter's array converted to ``dtype``, in place (nanoae has no ``Module.double()``)."""
    for p in module.parameters():
        p.data = p.data.astype(dtype)
    return module


def assert_same_gradients(layer, module, dtype):
    """Every parameter's .grad the same on both sides (both None where no gradient reached it)."""
    ours, theirs = dict(layer.named_parameters()), dict(module.named_parameters())
    for name, torch_name in parameter_names(layer).items():
        g, g_torch = ours[name].grad, theirs[torch_name].grad
        assert (g is None) == (g_torch is None), f"{name}: a gradient on one side only"
        if g is not None:
            assert_close(g, g_torch, dtype, f"gradient of {name}")


def assert_same_weights(layer, module, dtype):
    theirs, names = dict(module.named_parameters()), parameter_names(layer)
    for name, p in layer.named_parameters():
        assert_close(p, theirs[names[name]], dtype, f"weight {name}")


# --- the models --------------------------------------------------------------------------

# Small configs: one case per model and per branch of its loss.
MODEL_CASES = {
    "ae": ("ae", dict(input_dim=12, hidden=(10, 8), latent_dim=4)),
    "ae-tanh-mse": ("ae", dict(input_dim=12, hidden=(9,), latent_dim=3, activation="tanh", recon="mse")),
    "ae-linear": ("ae", dict(input_dim=12, hidden=(9,), latent_dim=3, activation="leaky_relu",
                             output="linear", recon="mse")),
    "dae-gaussian": ("dae", dict(input_dim=12, hidden=(9,), latent_dim=3, noise="gaussian")),
    "dae-masking": ("dae", dict(input_dim=12, hidden=(9,), latent_dim=3, noise="masking")),
    "dae-salt_pepper": ("dae", dict(input_dim=12, hidden=(9,), latent_dim=3, noise="salt_pepper")),
    "sparse-kl": ("sparse", dict(input_dim=12, hidden=(9,), latent_dim=6, rho=0.1, beta=2.0)),
    "sparse-l1": ("sparse", dict(input_dim=12, hidden=(9,), latent_dim=6, sparsity="l1", beta=0.5)),
    "cae": ("cae", dict(input_dim=12, hidden=(9,), latent_dim=4, lam=0.7)),
    "vae": ("vae", dict(input_dim=12, hidden=(10,), latent_dim=3, beta=2.0)),
    "vae-no-hidden": ("vae", dict(input_dim=12, hidden=(), latent_dim=3, activation="tanh")),
    "conv-ae": ("conv-ae", dict(image_shape=(2, 7, 6), channels=(3, 4), latent_dim=5)),  # output_padding (1, 0), (0, 1)
    "aae-gaussian": ("aae", dict(input_dim=12, hidden=(9,), latent_dim=2, disc_hidden=(6, 5))),
    "aae-mixture": ("aae", dict(input_dim=12, hidden=(9,), latent_dim=3, disc_hidden=(6,), prior="mixture",
                                num_components=5)),
    "hash": ("hash", dict(input_dim=12, hidden=(9,), latent_dim=5, noise_std=3.0, noise_ramp_steps=4)),
    "seq2seq-bce": ("seq2seq", dict(input_dim=3, hidden_size=6, latent_dim=4)),
    "seq2seq-mse": ("seq2seq", dict(input_dim=2, hidden_size=5, latent_dim=3, recon="mse")),
    "seq2seq-tokens": ("seq2seq", dict(vocab_size=7, embedding_dim=4, hidden_size=6, latent_dim=3,
                                       recon="cross_entropy")),
    "vq-vae": ("vq-vae", dict(image_shape=(2, 8, 4), channels=(3, 4), embedding_dim=3, codebook_size=5)),
}
WITH_LENGTHS = {"seq2seq-bce", "seq2seq-tokens"}     # padded batches; seq2seq-mse runs without lengths
BATCH, STEPS, LENGTHS = 5, 6, np.array([6, 3, 1, 5, 2])


def make_input(model, dtype, rng):
    """Pixels in [0, 1] for the models that read pixels, reals of both signs where outputs are linear."""
    c = model.config
    if model.name == "seq2seq":
        if c.tokens:
            return rng.integers(0, c.vocab_size, (BATCH, STEPS))
        shape = (BATCH, STEPS, c.input_dim)
        return (rng.random(shape) if c.recon == "bce" else rng.standard_normal(shape)).astype(dtype)
    pixels = getattr(c, "output", "sigmoid") == "sigmoid"          # the VAE's outputs are always pixels
    shape = (BATCH, c.input_dim)
    return (rng.random(shape) if pixels else rng.standard_normal(shape)).astype(dtype)


def make_case(case, dtype):
    """The nanoae model, its mirror, the input on each side and the keyword arguments of both."""
    name, config = MODEL_CASES[case]
    model = to_dtype(build_model(name, config, seed=0), dtype)
    if name == "hash":
        model.steps = 2                               # halfway up the noise ramp: sigma = 1.5
    module = to_torch(model)
    x = make_input(model, dtype, np.random.default_rng(1))
    kwargs = {"lengths": LENGTHS} if case in WITH_LENGTHS else {}
    return model, module, Tensor(x), torch.from_numpy(x.copy()), kwargs


def drawn_noise(model, x):
    """The noise that model.loss(x) draws right after manual_seed(NOISE_SEED), for the mirror's loss."""
    backend.manual_seed(NOISE_SEED)
    rng, dtype = backend.cpu_generator(), x.dtype
    if model.name in ("vae", "hash"):
        return {"eps": torch.from_numpy(rng.standard_normal((len(x), model.config.latent_dim), dtype=dtype))}
    if model.name == "dae":
        return {"x_tilde": torch.from_numpy(model.corrupt(x).data)}
    if model.name == "aae":
        return {"z_prior": torch.from_numpy(model.sample_prior(len(x)).data)}
    return {}


def losses_of_both(model, module, x, x_torch, kwargs):
    """(total, terms) of each side, on the same noise."""
    noise = drawn_noise(model, x)
    backend.manual_seed(NOISE_SEED)                   # model.loss draws that noise again
    return model.loss(x, **kwargs), module.loss(x_torch, **kwargs, **noise)


def backward_both(model, module, x, x_torch, kwargs):
    """Backpropagate the same random mix of the loss terms on both sides (every parameter gets a gradient)."""
    (total, terms), (total_torch, terms_torch) = losses_of_both(model, module, x, x_torch, kwargs)
    weights = np.random.default_rng(2).standard_normal(len(terms) + 1)
    (weights[0] * total + sum(w * terms[k] for w, k in zip(weights[1:], terms))).backward()
    (weights[0] * total_torch + sum(w * terms_torch[k] for w, k in zip(weights[1:], terms))).backward()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MODEL_CASES)
def test_mirror_gives_the_same_code_reconstruction_and_loss_terms(case, dtype):
    model, module, x, x_torch, kwargs = make_case(case, dtype)
    with nanoae.no_grad(), torch.no_grad():
        assert_close(model.code(x, **kwargs), module.code(x_torch, **kwargs), dtype, "code")
        assert_close(model.reconstruct(x, **kwargs), module.reconstruct(x_torch, **kwargs), dtype, "reconstruct")
        (total, terms), (total_torch, terms_torch) = losses_of_both(model, module, x, x_torch, kwargs)
    assert list(terms) == list(terms_torch)
    assert_close(total, total_torch, dtype, "total loss")
    for key in terms:
        assert_close(terms[key], terms_torch[key], dtype, f"loss term {key}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MODEL_CASES)
def test_mirror_gives_the_same_gradient_for_every_parameter(case, dtype):
    model, module, x, x_torch, kwargs = make_case(case, dtype)
    backward_both(model, module, x, x_torch, kwargs)
    assert_same_gradients(model, module, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MODEL_CASES)
def test_one_adam_step_gives_the_same_weights_in_both(case, dtype):
    """Both optimizers start from the same weights and the same gradients: nanoae's, copied to torch.

    Not each engine's own gradients: Adam divides by sqrt(v_hat) + eps ~ |g|, so a
    gradient that almost cancels to 0 (|g| ~ 1e-7, a few float32 roundings away
    from the other engine's) steps by lr times a ratio of two roundings.
    """
    model, module, x, x_torch, kwargs = make_case(case, dtype)
    settings = dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6)
    ours, theirs = optim.Adam(model.parameters(), **settings), torch.optim.Adam(module.parameters(), **settings)
    backward_both(model, module, x, x_torch, kwargs)
    torch_parameters = dict(module.named_parameters())
    for name, torch_name in parameter_names(model).items():
        grad = dict(model.named_parameters())[name].grad
        torch_parameters[torch_name].grad = None if grad is None else torch.from_numpy(grad.data.copy())
    ours.step()
    theirs.step()
    assert_same_weights(model, module, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", MODELS)
def test_every_model_round_trips_through_torch_bit_for_bit(name, dtype):
    model = to_dtype(build_model(name, seed=0), dtype)
    module = to_torch(model)
    assert list(module.state_dict()) == list(parameter_names(model).values())
    assert all(t.dtype == getattr(torch, dtype) for t in module.state_dict().values())
    like = to_dtype(build_model(name, seed=1), dtype)           # other weights, to be overwritten
    back = from_torch(module, like=like)
    assert back is not like and type(back) is type(model)
    for (key, p), q, r in zip(model.named_parameters(), back.parameters(), like.parameters()):
        assert q.dtype == p.dtype and q.data.tobytes() == p.data.tobytes(), key
        assert r.data.tobytes() != p.data.tobytes(), f"{key}: from_torch changed like"
    assert from_torch(module, like=like, inplace=True) is like
    assert all(p.data.tobytes() == q.data.tobytes() for p, q in zip(model.parameters(), like.parameters()))


def test_to_torch_copies_the_weights_and_the_training_mode():
    model = build_model("ae", MODEL_CASES["ae"][1]).eval()
    module = to_torch(model)
    assert not module.training
    with torch.no_grad():
        module.encoder[0].weight.fill_(3.0)
    assert not np.any(model.encoder[0].weight.data == 3.0)


def test_from_torch_names_every_name_and_shape_that_does_not_fit():
    like = build_model("ae", MODEL_CASES["ae"][1])
    wider = to_torch(build_model("ae", dict(MODEL_CASES["ae"][1], hidden=(11, 8))))
    with pytest.raises(ShapeError, match=r"wrong shape .*encoder\.0\.weight: \(11, 12\) in torch, \(10, 12\)"):
        from_torch(wider, like=like)
    deeper = to_torch(build_model("ae", dict(MODEL_CASES["ae"][1], hidden=(10, 8, 6)), seed=1))
    before = [p.data.copy() for p in like.parameters()]
    with pytest.raises(ShapeError, match=r"unexpected \['encoder\.6\.weight', 'encoder\.6\.bias'"):
        from_torch(deeper, like=like, inplace=True)
    assert all(np.array_equal(p.data, b) for p, b in zip(like.parameters(), before)), "changed before failing"
    with pytest.raises(ShapeError, match=r"missing \['encoder\.0\.weight'"):
        from_torch(torch.nn.Linear(3, 4), like=like)


# --- layers and stacks of layers --------------------------------------------------------

def dense_stack():
    return nn.Sequential(nn.Linear(5, 7), nn.LeakyReLU(0.2), nn.Linear(7, 6, bias=False), nn.Tanh(),
                         nn.Dropout(0.3), nn.Linear(6, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Softplus(),
                         nn.Identity(), nn.Linear(4, 3), nn.ReLU()).eval()    # eval: dropout is the identity


def conv_stack():
    """(2, 2, 9, 8) -> (2, 3, 5, 4) -> pool (2, 3, 4, 3) -> (2, 3, 8, 6) -> (2, 4, 16, 19) -> (2, 2, 5)."""
    return nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.Tanh(), nn.MaxPool2d(2, stride=1),
                         nn.Upsample(2), nn.Conv2d(3, 3, (1, 3), padding=(0, 1), bias=False),
                         nn.ConvTranspose2d(3, 4, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
                         nn.Sigmoid(), nn.Flatten(), nn.Linear(4 * 16 * 19, 10), nn.Unflatten(1, (2, 5)))


def embedding_stack():
    return nn.Sequential(nn.Embedding(11, 6), nn.Linear(6, 4), nn.Tanh())


def call(layer, *inputs):
    return layer(*inputs)


def call_lstm_cell(cell, x, h, c):
    return cell(x, (h, c))                            # the same on both sides


def call_torch_gru(gru, x, h0):
    """torch's GRU states have a layer axis first: (1, N, H) where nanoae's are (N, H)."""
    outputs, h_last = gru(x, h0[None])
    return outputs, h_last[0]


GRU_LENGTHS = np.array([6, 2, 4, 1])


def call_gru_with_lengths(gru, x, h0):
    return gru(x, h0, lengths=GRU_LENGTHS)


def call_torch_gru_packed(gru, x, h0):
    """nanoae's lengths as torch does it: a packed batch (the recipe in nanoae/interop/layers.py)."""
    packed = pack_padded_sequence(x, torch.as_tensor(GRU_LENGTHS), batch_first=True, enforce_sorted=False)
    outputs, h_last = gru(packed, h0[None])
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
    return outputs, h_last[0]


# name: (the nanoae layer, its inputs ("normal", shape) or ("tokens", shape, high), call in nanoae, call in torch)
LAYER_CASES = {
    "dense": (dense_stack, [("normal", (6, 5))], call, call),
    "conv": (conv_stack, [("normal", (2, 2, 9, 8))], call, call),
    "embedding": (embedding_stack, [("tokens", (5, 7), 11)], call, call),
    "gru": (lambda: nn.GRU(3, 5), [("normal", (4, 6, 3)), ("normal", (4, 5))], call, call_torch_gru),
    "gru-no-bias": (lambda: nn.GRU(3, 5, bias=False), [("normal", (4, 6, 3)), ("normal", (4, 5))],
                    call, call_torch_gru),
    "gru-lengths": (lambda: nn.GRU(3, 5), [("normal", (4, 6, 3)), ("normal", (4, 5))],
                    call_gru_with_lengths, call_torch_gru_packed),
    "gru-cell": (lambda: nn.GRUCell(3, 5), [("normal", (4, 3)), ("normal", (4, 5))], call, call),
    "lstm-cell": (lambda: nn.LSTMCell(3, 5), [("normal", (4, 3)), ("normal", (4, 5)), ("normal", (4, 5))],
                  call_lstm_cell, call_lstm_cell),
}


def make_inputs(specs, dtype, rng):
    arrays = [rng.integers(0, spec[2], spec[1]) if spec[0] == "tokens" else rng.standard_normal(spec[1]).astype(dtype)
              for spec in specs]
    floats = [a.dtype.kind == "f" for a in arrays]
    ours = [Tensor(a, requires_grad=f) for a, f in zip(arrays, floats)]
    theirs = [torch.tensor(a, requires_grad=f) for a, f in zip(arrays, floats)]
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LAYER_CASES)
def test_layers_give_the_same_outputs_and_gradients_in_both(case, dtype):
    make_layer, specs, call_ours, call_theirs = LAYER_CASES[case]
    layer = to_dtype(make_layer(), dtype)
    module = to_torch(layer)
    rng = np.random.default_rng(3)
    inputs, inputs_torch = make_inputs(specs, dtype, rng)
    outputs, outputs_torch = call_ours(layer, *inputs), call_theirs(module, *inputs_torch)
    outputs, outputs_torch = (outputs, outputs_torch) if isinstance(outputs, tuple) else ((outputs,), (outputs_torch,))
    upstream = [rng.standard_normal(o.shape).astype(dtype) for o in outputs]   # a random upstream gradient
    for i, (o, o_torch) in enumerate(zip(outputs, outputs_torch)):
        assert_close(o, o_torch, dtype, f"output {i}")
    sum((o * Tensor(g)).sum() for o, g in zip(outputs, upstream)).backward()
    sum((o * torch.from_numpy(g)).sum() for o, g in zip(outputs_torch, upstream)).backward()
    for i, (x, x_torch) in enumerate(zip(inputs, inputs_torch)):
        if x.requires_grad:
            assert_close(x.grad, x_torch.grad, dtype, f"gradient of input {i}")
    assert_same_gradients(layer, module, dtype)


class Doubler(nn.Module):
    def forward(self, x):
        return 2 * x


class MyAutoencoder(Autoencoder):
    """A model of one's own: nanoae.interop cannot know what its methods compute."""


def test_a_layer_or_model_without_counterpart_raises_type_error_naming_it():
    with pytest.raises(TypeError, match=r"no PyTorch counterpart for Doubler \(in model\.1\)"):
        to_torch(nn.Sequential(nn.Linear(3, 3), Doubler()))
    model = build_model("ae", MODEL_CASES["ae"][1])
    model.encoder = nn.Sequential(nn.Linear(12, 4), nn.Sequential(nn.ReLU(), Doubler()))
    with pytest.raises(TypeError, match=r"Doubler \(in model\.encoder\.1\.1\)"):
        to_torch(model)
    with pytest.raises(TypeError, match=r"MyAutoencoder \(in model\)"):
        to_torch(MyAutoencoder())


# --- tensors across, by DLPack ---------------------------------------------------------

@pytest.fixture
def torch_xp(xp):
    """numpy, or cupy where torch has CUDA too (DLPack cannot cross between devices)."""
    if xp is not np and not torch.cuda.is_available():
        pytest.skip("CuPy sees a GPU but this torch has no CUDA")
    return xp


def first(t):
    """The first element, as a float, of a nanoae Tensor, an array or a torch tensor."""
    t = t.data if isinstance(t, Tensor) else t
    return float(t.reshape(-1)[0]) if isinstance(t, torch.Tensor) else float(t.ravel()[0])


SHARED_VIEWS = {
    "contiguous": lambda a: a,
    "transposed": lambda a: a.T,
    "every other column": lambda a: a[:, ::2],
    "a nanoae Tensor": lambda a: Tensor(a),
}


@pytest.mark.parametrize("view", SHARED_VIEWS)
def test_tensor_to_torch_shares_memory_with_a_writeable_array(torch_xp, view):
    array = SHARED_VIEWS[view](torch_xp.arange(12, dtype=torch_xp.float32).reshape(3, 4))
    t = tensor_to_torch(array)
    assert t.device.type == ("cpu" if torch_xp is np else "cuda") and not t.requires_grad
    t[0, 0] = -5.0                                                              # write through torch ...
    assert first(array) == -5.0                                                 # ... and nanoae sees it
    (array.data if isinstance(array, Tensor) else array)[0, 0] = 7.0             # write through nanoae ...
    assert t[0, 0].item() == 7.0                                                # ... and torch sees it


UNSHAREABLE = {
    "read-only": lambda a: np.broadcast_to(a[:1], (3, 4)),
    "negative strides": lambda a: a[::-1],
    "big-endian": lambda a: a.astype(">f4"),
}


@pytest.mark.parametrize("kind", UNSHAREABLE)
def test_tensor_to_torch_copies_an_array_it_cannot_share(kind):
    array = UNSHAREABLE[kind](np.arange(12, dtype=np.float32).reshape(3, 4))
    before = array.copy()
    t = tensor_to_torch(array)
    np.testing.assert_array_equal(t.numpy(), before)
    t[0, 0] = -5.0                                    # a writeable copy: the array keeps its values
    np.testing.assert_array_equal(array, before)


@pytest.mark.parametrize("view", ["contiguous", "transposed", "requires grad"])
def test_tensor_from_torch_shares_memory_with_the_torch_tensor(torch_xp, view):
    device = "cpu" if torch_xp is np else "cuda"
    t = torch.arange(12, dtype=torch.float64, device=device).reshape(3, 4)
    t = {"contiguous": t, "transposed": t.T, "requires grad": t.requires_grad_()}[view]
    x = tensor_from_torch(t)
    assert isinstance(x, Tensor) and x.xp is torch_xp and x.dtype == np.float64 and not x.requires_grad
    with torch.no_grad():
        t[0, 0] = -5.0
    assert first(x) == -5.0
    x.data[0, 0] = 7.0
    assert t[0, 0].item() == 7.0


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_tensors_keep_their_dtype_and_values_both_ways(dtype):
    array = (np.random.default_rng(4).standard_normal((2, 3)) > 0.1 if dtype == "bool"
             else (np.random.default_rng(4).standard_normal((2, 3)) * 10).astype(dtype))
    t = tensor_to_torch(array)
    assert t.dtype == getattr(torch, dtype)
    back = tensor_from_torch(t)
    assert back.dtype == array.dtype and back.data.tobytes() == array.tobytes()


# --- PyTorch stays optional -------------------------------------------------------------

def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1])


def test_importing_nanoae_does_not_import_torch():
    result = run_python("import sys, nanoae, nanoae.models, nanoae.train; print('torch' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_interop_without_torch_says_how_to_install_it():
    result = run_python("import sys; sys.modules['torch'] = None; import nanoae.interop")
    assert result.returncode != 0
    assert "ImportError" in result.stderr and 'pip install -e ".[torch]"' in result.stderr
