"""Graders for chapter 13, from nanoae to PyTorch.

The student moves a nanoae layer, and a loss, into PyTorch, and the graders
run both sides on the same inputs. The conventions that carry over, and the
ones that trip people up:

- ``torch.nn.Linear`` stores W as (out_features, in_features), as nanoae does:
  y = x W^T + b on both sides. Its weights are float32 unless built with ``dtype=``.
- ``torch.nn.GRU`` stacks the gates r, z, n as nanoae's GRU does, but reads
  x as (T, N, input_size) unless built with ``batch_first=True``, and names
  its weights ``weight_ih_l0``, ``bias_hh_l0``, ... (layer 0 of a stack).
- ``torch.from_numpy`` and ``torch.from_dlpack`` share memory with the array;
  a converted layer must own a copy, or an optimizer step on one side
  changes the other.
- The VAE's loss, per image: recon = 1/B sum_b sum_i BCE(sigmoid(logits_bi), x_bi)
  and kl = 1/B sum_b sum_j 1/2 (mu_bj^2 + exp(log_var_bj) - 1 - log_var_bj),
  with ``log_var`` the log of the VARIANCE.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``linear_to_torch(layer)`` | a ``torch.nn.Linear`` with a copy of a nanoae Linear's weights | the weights, the outputs on random inputs against nanoae's, the dtype, no shared memory; float32 and float64, with and without bias |
| ``vae_loss_torch(logits, x, mu, log_var)`` | (recon, kl) with torch operations, scalar tensors | nanoae's ``binary_cross_entropy_with_logits`` and ``gaussian_kl`` in float64; torch's gradients against nanoae's |
| ``gru_to_torch(gru)`` | a ``torch.nn.GRU`` with a copy of a nanoae GRU's weights | each weight by name, the outputs and last state on a batch of sequences against nanoae's |

Inputs have both signs, layers are not square (but one, where a transposed
or swapped weight keeps its shape), and one loss case has logits large
enough that sigmoid rounds to exactly 0 or 1 in float64. When an answer is
wrong, the grader tries the usual mistakes and names the one it matches.
"""
import copy

try:
    import torch
except ImportError as error:
    raise ImportError('chapter 13 needs PyTorch: pip install -e ".[torch]"', name="torch") from error

from nanoae import backend, functional as F, nn
from nanoae.exercises import Mismatch, as_numpy, compare, diagnose, grader, matches, passed_within, random_array
from nanoae.autograd import Tensor

TOL = 1e-9          # float64 on both sides: a right answer agrees to ~1e-15
COPY_TOL = 1e-12    # a copied weight is the same number (float32 ones too, compared in float64)
xp = backend.array_module_for("cpu")


# --- helpers: torch values and the checks every converted layer passes ---------------------

def _numpy(t):
    """A torch tensor's values as a float64 NumPy array (detached, on the CPU)."""
    return t.detach().cpu().double().numpy()


def _check_layer(got, kind, what):
    if not isinstance(got, kind):
        raise Mismatch(f"return a torch.nn.{kind.__name__} ({what}), got {type(got).__name__}")


def _check_dtype(param, dtype, what):
    if param.dtype != getattr(torch, dtype):
        raise Mismatch(f"dtype lost: the nanoae {what} is {dtype}, your torch layer's weights are "
                       f"{str(param.dtype).replace('torch.', '')} (torch layers make float32 weights unless "
                       f"built with dtype=...; copying into them converts)")


def _check_trainable_copy(param, array, name):
    """``param`` is a torch Parameter that requires a gradient and does not share memory with ``array``."""
    if not (isinstance(param, torch.nn.Parameter) and param.requires_grad):
        raise Mismatch(f"your {name} is not a trainable torch.nn.Parameter (requires_grad is False): "
                       "torch.optim would not update it")
    if xp.shares_memory(array, param.detach().numpy()):
        raise Mismatch(f"your {name} shares memory with the nanoae layer's array (torch.from_numpy and "
                       "torch.from_dlpack share): an in-place update of one, such as an optimizer step, "
                       "changes the other. Copy it (torch.tensor(...), or .clone())")


def _compare_each(got, expected, what):
    """compare() every named weight with its copy in ``got``; a Mismatch names the first that differs."""
    for name, value in expected.items():
        compare(got[name], value, COPY_TOL, f"your {name} ({what})")


# --- exercise 1: a Linear layer --------------------------------------------------------------

# (in_features, out_features, bias, dtype, seed); square first, where a transposed copy keeps its shape
LINEAR_CASES = ((3, 3, True, "float32", 130), (5, 3, True, "float32", 140), (4, 6, True, "float64", 150),
                (3, 3, False, "float64", 160))


def _nanoae_linear(n_in, n_out, bias, dtype, seed):
    """A nanoae Linear with weights (and bias) drawn from the grader's own generator, of both signs."""
    layer = nn.Linear(n_in, n_out, bias=bias, dtype=dtype)
    weights = {"weight": random_array((n_out, n_in), seed)}
    if bias:
        weights["bias"] = random_array((n_out,), seed + 1)
    layer.load_state_dict(weights)
    return layer


def _check_linear_weights(got, layer, what):
    weight = as_numpy(layer.weight)                                     # (out, in)
    got_weight = _numpy(got.weight)
    try:
        compare(got_weight, weight, COPY_TOL, f"your weight ({what})")
    except Mismatch as mismatch:
        diagnose(got_weight, [(weight.T, "the weight is transposed: torch.nn.Linear stores W as "
                                         "(out_features, in_features), as nanoae does; copy it as it is")],
                 mismatch)
    if layer.bias is None:
        if got.bias is not None:
            raise Mismatch(f"the nanoae layer has no bias ({what}); build yours with bias=False")
        return
    if got.bias is None:
        raise Mismatch(f"the bias is forgotten: the nanoae layer has one ({what}), yours has none")
    got_bias = _numpy(got.bias)
    try:
        compare(got_bias, as_numpy(layer.bias), COPY_TOL, f"your bias ({what})")
    except Mismatch as mismatch:
        diagnose(got_bias, [(xp.zeros_like(got_bias), "the bias is all zeros: copy layer.bias too")],
                 Mismatch(f"the bias was not copied from layer.bias ({mismatch})"))


@grader("linear_to_torch")
def grade_linear_to_torch(linear_to_torch):
    worst = 0.0
    for n_in, n_out, bias, dtype, seed in LINEAR_CASES:
        layer = _nanoae_linear(n_in, n_out, bias, dtype, seed)
        what = f"Linear({n_in}, {n_out}, bias={bias}), {dtype}"
        got = linear_to_torch(layer)
        _check_layer(got, torch.nn.Linear, what)
        if (got.in_features, got.out_features) != (n_in, n_out):
            raise Mismatch(f"your layer is Linear({got.in_features}, {got.out_features}), the nanoae one "
                           f"Linear({n_in}, {n_out}): both take (in_features, out_features) in that order")
        _check_dtype(got.weight, dtype, "layer")
        _check_linear_weights(got, layer, what)
        for name, param in got.named_parameters():
            _check_trainable_copy(param, getattr(layer, name).data, name)
        x = random_array((7, n_in), seed + 2)                            # (B, in), float64
        expected = x @ as_numpy(layer.weight).T + (0 if layer.bias is None else as_numpy(layer.bias))
        with torch.no_grad():   # run a float64 copy of your layer, so that a right answer agrees to ~1e-15
            y = _numpy(copy.deepcopy(got).double()(torch.from_numpy(x)))
        worst = max(worst, compare(y, expected, TOL, f"your layer's output in float64 ({what})"))
    return (passed_within(worst, TOL) + " between your layer's outputs and x W^T + b; "
            "weights copied exactly, dtype kept, no memory shared")


# --- exercise 2: the VAE's loss in torch -----------------------------------------------------

LOSS_CASES = ((6, 10, 4, 180, 3.0), (5, 7, 3, 190, 20.0))   # (B, D, J, seed, logit scale)


def _loss_inputs(batch, pixels, latent, seed, scale):
    """logits (B, D) of both signs (in the second case beyond +-40), x (B, D) grey levels in [0, 1),
    mu (B, J) standard normal, log_var (B, J) in [-3, 2)."""
    return (scale * random_array((batch, pixels), seed), random_array((batch, pixels), seed + 1, 0.0, 1.0),
            random_array((batch, latent), seed + 2), random_array((batch, latent), seed + 3, -3.0, 2.0))


def _nanoae_loss(logits, x, mu, log_var):
    """recon, kl and the gradient of recon + kl for each input, by nanoae (float64): the reference."""
    tensors = [Tensor(a, requires_grad=True) for a in (logits, mu, log_var)]
    batch = len(x)
    recon = F.binary_cross_entropy_with_logits(tensors[0], Tensor(x), reduction="sum") / batch
    kl = F.gaussian_kl(tensors[1], tensors[2], reduction="sum") / batch
    (recon + kl).backward()
    return as_numpy(recon).reshape(1), as_numpy(kl).reshape(1), [as_numpy(t.grad) for t in tensors]


def _recon_mistakes(logits, x):
    l, t = torch.from_numpy(logits), torch.from_numpy(x)
    per_pixel = torch.nn.functional.binary_cross_entropy_with_logits(l, t, reduction="none").numpy()
    batch = len(x)
    clamped = torch.nn.functional.binary_cross_entropy(torch.sigmoid(l), t, reduction="sum").item() / batch
    return [
        (per_pixel.mean(), "you averaged over the pixels (reduction='mean', the default, divides by B * D): "
                           "sum over the pixels, then divide by the batch size"),
        (per_pixel.sum(), "you summed over the batch too: divide the sum by the batch size B"),
        (per_pixel.sum(axis=0).mean(), "you divided by the number of pixels D instead of the batch size B"),
        (torch.nn.functional.binary_cross_entropy_with_logits(torch.sigmoid(l), t, reduction="sum").item() / batch,
         "sigmoid was applied twice: binary_cross_entropy_with_logits takes the logits, not probabilities"),
        (clamped, "sigmoid then binary_cross_entropy: for large logits sigmoid rounds to exactly 0 or 1 and "
                  "torch clamps log(0) to -100; binary_cross_entropy_with_logits is exact for every logit"),
        (-per_pixel.sum() / batch, "the sign is wrong: the BCE is never negative"),
    ]


def _kl_mistakes(mu, log_var):
    batch = len(mu)
    per_dim = 0.5 * (mu ** 2 + xp.exp(log_var) - 1 - log_var)            # the right terms, (B, J)
    return [
        ((0.5 * (mu ** 2 + xp.exp(2 * log_var) - 1 - 2 * log_var)).sum() / batch,
         "log_var was treated as a log standard deviation: it is the log of the variance, so the variance "
         "is exp(log_var)"),
        ((2 * per_dim).sum() / batch, "the factor 1/2 is missing: KL = 1/2 (mu^2 + exp(log_var) - 1 - log_var)"),
        (-per_dim.sum() / batch, "the sign is wrong: the KL is never negative"),
        (per_dim.mean(), "you averaged over the latent dimensions: sum over them, average over the batch"),
        (per_dim.sum(), "you summed over the batch: divide by the batch size B"),
    ]


def _student_loss(vae_loss_torch, inputs):
    """The student's (recon, kl) and the torch leaves they were computed from; a Mismatch for a wrong kind."""
    logits, x, mu, log_var = (torch.tensor(a, requires_grad=i != 1) for i, a in enumerate(inputs))
    try:
        answer = vae_loss_torch(logits, x, mu, log_var)
    except RuntimeError as error:
        if "between 0 and 1" in str(error):
            raise Mismatch("binary_cross_entropy was given the logits, and it wants probabilities in [0, 1]: "
                           "give the logits to binary_cross_entropy_with_logits") from None
        raise
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2
            and all(isinstance(a, torch.Tensor) and a.numel() == 1 for a in answer)):
        raise Mismatch("return a pair (recon, kl) of torch tensors holding one number each")
    if not all(a.requires_grad for a in answer):
        raise Mismatch("no gradient reaches the inputs: compute both terms with torch operations on the "
                       "tensors you are given (no .numpy(), .item(), .detach() or torch.tensor() of them)")
    if any(a.dtype != torch.float64 for a in answer):
        raise Mismatch(f"your terms are {answer[0].dtype} and {answer[1].dtype}: the inputs are float64, "
                       "and torch operations on them stay float64")
    return answer, {"logits": logits, "mu": mu, "log_var": log_var}


def _check_loss_gradients(answer, leaves, expected, what):
    (answer[0] + answer[1]).sum().backward()
    for (name, leaf), grad in zip(leaves.items(), expected):
        if leaf.grad is None:
            raise Mismatch(f"no gradient reached {name}: compute with torch operations on the tensors given")
        compare(_numpy(leaf.grad), grad, TOL, f"the gradient of recon + kl with respect to {name} ({what})")


@grader("vae_loss_torch")
def grade_vae_loss_torch(vae_loss_torch):
    worst = 0.0
    for batch, pixels, latent, seed, scale in LOSS_CASES:
        inputs = _loss_inputs(batch, pixels, latent, seed, scale)
        recon, kl, grads = _nanoae_loss(*inputs)
        answer, leaves = _student_loss(vae_loss_torch, inputs)
        got_recon, got_kl = (_numpy(a).reshape(1) for a in answer)
        what = f"B={batch}, D={pixels}, J={latent}, logits up to {abs(inputs[0]).max():.0f}"
        if matches(got_recon, kl) and matches(got_kl, recon):
            raise Mismatch("recon and kl are swapped: return (recon, kl)")
        for got, expected, mistakes, term in ((got_recon, recon, _recon_mistakes(*inputs[:2]), "recon"),
                                              (got_kl, kl, _kl_mistakes(*inputs[2:]), "kl")):
            try:
                worst = max(worst, compare(got, expected, TOL, f"your {term} ({what})"))
            except Mismatch as mismatch:   # a mistake that gives the right value in this case names nothing
                diagnose(got, [(xp.reshape(wrong, 1), hint) for wrong, hint in mistakes
                               if not matches(xp.reshape(wrong, 1), expected)], mismatch)
        _check_loss_gradients(answer, leaves, grads, what)
    return (passed_within(worst, TOL) + " against nanoae's BCE with logits and Gaussian KL (float64); "
            "torch's gradients match nanoae's")


# --- exercise 3: a GRU ---------------------------------------------------------------------

GRU_CASES = ((4, 4, 3, 5, 200), (3, 4, 5, 6, 210))   # (input_size, H, N, T, seed): I == H first
GRU_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _nanoae_gru(input_size, hidden, seed):
    gru = nn.GRU(input_size, hidden, dtype="float64")
    shapes = {"weight_ih": (3 * hidden, input_size), "weight_hh": (3 * hidden, hidden),
              "bias_ih": (3 * hidden,), "bias_hh": (3 * hidden,)}
    gru.load_state_dict({f"cell.{name}": random_array(shape, seed + k) for k, (name, shape) in
                         enumerate(shapes.items())})
    return gru


def _gru_mistakes(w_ih, w_hh, b_ih, b_hh):
    """(the four weights, flattened and joined, as a mistake would give them; what the mistake is)."""
    def joined(*arrays):
        return xp.concatenate([a.reshape(-1) for a in arrays])
    hidden = len(b_ih) // 3
    zr = xp.r_[hidden:2 * hidden, 0:hidden, 2 * hidden:3 * hidden]       # rows with r and z swapped
    merged = "the two biases were added into one: the candidate n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) " \
             "multiplies b_hn by the reset gate r, so a GRU needs both, each where it is"
    return [
        (joined(w_ih, w_hh, b_hh, b_ih), "bias_ih and bias_hh are swapped: they are not interchangeable, "
                                         "as b_hn sits inside r * (W_hn h + b_hn)"),
        (joined(w_ih, w_hh, b_ih + b_hh, 0 * b_hh), merged),
        (joined(w_ih, w_hh, 0 * b_ih, b_ih + b_hh), merged),
        (joined(w_hh, w_ih, b_ih, b_hh) if w_ih.shape == w_hh.shape else None,
         "weight_ih and weight_hh are swapped: weight_ih multiplies the input x, weight_hh the state h"),
        (joined(w_ih[zr], w_hh[zr], b_ih[zr], b_hh[zr]), "the gates are in another order: nanoae and torch "
                                                         "both stack them r, z, n"),
    ]


def _check_gru_module(got, gru, what):
    _check_layer(got, torch.nn.GRU, what)
    if not got.batch_first:
        raise Mismatch("batch_first is False: nanoae's GRU reads x as (N, T, input_size), torch.nn.GRU as "
                       "(T, N, input_size) unless built with batch_first=True")
    settings = (got.input_size, got.hidden_size, got.num_layers, got.bidirectional, got.bias)
    if settings != (gru.input_size, gru.hidden_size, 1, False, True):
        raise Mismatch(f"your GRU has input_size, hidden_size, num_layers, bidirectional, bias = {settings}; "
                       f"expected {(gru.input_size, gru.hidden_size, 1, False, True)} ({what})")
    _check_dtype(got.weight_ih_l0, "float64", "GRU")


@grader("gru_to_torch")
def grade_gru_to_torch(gru_to_torch):
    worst = 0.0
    for input_size, hidden, n, steps, seed in GRU_CASES:
        gru = _nanoae_gru(input_size, hidden, seed)
        what = f"GRU({input_size}, {hidden}), float64"
        got = gru_to_torch(gru)
        _check_gru_module(got, gru, what)
        expected = {name: as_numpy(getattr(gru.cell, name)) for name in GRU_NAMES}
        got_weights = {name: _numpy(getattr(got, f"{name}_l0")) for name in GRU_NAMES}
        try:
            _compare_each(got_weights, expected, what)
        except Mismatch as mismatch:
            joined = xp.concatenate([got_weights[name].reshape(-1) for name in GRU_NAMES])
            diagnose(joined, _gru_mistakes(*expected.values()), mismatch)
        x = random_array((n, steps, input_size), seed + 9)                 # (N, T, I)
        outputs, h_last = gru(Tensor(x))                                   # (N, T, H), (N, H)
        with torch.no_grad():
            got_outputs, got_h = got(torch.from_numpy(x))                  # (N, T, H), (1, N, H)
        worst = max(worst, compare(_numpy(got_outputs), outputs, TOL, f"your GRU's outputs ({what})"),
                    compare(_numpy(got_h)[0], h_last, TOL, f"your GRU's last state h_n[0] ({what})"))
        for name in GRU_NAMES:
            _check_trainable_copy(getattr(got, f"{name}_l0"), getattr(gru.cell, name).data, f"{name}_l0")
    return (passed_within(worst, TOL) + " between your GRU's outputs and nanoae's on batches of sequences; "
            "weights copied, batch first")
