"""Graders for chapter 13, from nanoae to PyTorch.

The student moves a nanoae layer, and a loss, into PyTorch, and the graders
run both sides on the same inputs. The conventions that carry over, and the
ones that trip people up:

- ``torch.nn.Linear`` stores W as (out_features, in_features), as nanoae does.
  Its weights are float32 unless built with ``dtype=``.
- ``torch.nn.GRU`` stacks the gates r, z, n as nanoae's GRU does, but reads
  x as (T, N, input_size) unless built with ``batch_first=True``, and names
  its weights ``weight_ih_l0``, ``bias_hh_l0``, ... (layer 0 of a stack).
- ``torch.from_numpy`` and ``torch.from_dlpack`` share memory with the array;
  a converted layer must own a copy, or an optimizer step on one side
  changes the other.
- The VAE's loss is chapter 06's, per image, with ``log_var`` the log of the
  VARIANCE.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``linear_to_torch(layer)`` | a ``torch.nn.Linear`` with a copy of a nanoae Linear's weights | the weights (stored for these layers), the outputs against the nanoae layer's own, the dtype, no shared memory; float32 and float64, with and without bias |
| ``vae_loss_torch(logits, x, mu, log_var)`` | (recon, kl) with torch operations, scalar tensors | the values stored for these inputs; ``torch.autograd.gradcheck`` of the student's own terms |
| ``gru_to_torch(gru)`` | a ``torch.nn.GRU`` with a copy of a nanoae GRU's weights | each weight against the nanoae GRU's (the usual rearrangements of them stored for these layers), the outputs and last state on a batch of sequences against the nanoae GRU's own |

The layers rule out nanoae's own bridge, ``nanoae.interop.to_torch`` and the
``layer_to_torch`` and ``parameter_names`` behind it. The loss has no single
library call that computes it: torch's ``binary_cross_entropy_with_logits``
is the building block it is meant to use. Inputs have both signs, layers are
not square (but one, where a transposed or swapped weight keeps its shape),
and two loss cases have logits large enough that sigmoid rounds to exactly 0
or 1 in float64. When an answer is wrong, the grader names the usual mistake
it matches.
"""
import copy

try:
    import torch
except ImportError as error:
    raise ImportError('chapter 13 needs PyTorch: pip install -e ".[torch]"', name="torch") from error

from nanoae import backend, nn
from nanoae.autograd import Tensor
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, compare, diagnose, grader, matches, passed_within,
                              random_array)
from nanoae.interop import convert, layers

TOL = 1e-9          # float64 on both sides: a right answer agrees to ~1e-15
COPY_TOL = 1e-12    # a copied weight is the same number (float32 ones too, compared in float64)
STORED = StoredValues("ch13_pytorch")
xp = backend.array_module_for("cpu")
BRIDGE = (convert.to_torch, layers.layer_to_torch)          # nanoae's own conversion does the exercise

# Case c checks the Linear LINEAR_CASES[c], the loss LOSS_CASES[c] and the GRU GRU_CASES[c].
# (in_features, out_features, bias, dtype, seed); square first, where a transposed copy keeps its shape
LINEAR_CASES = ((3, 3, True, "float32", 130), (5, 3, True, "float32", 140), (4, 6, True, "float64", 150),
                (3, 3, False, "float64", 160))
# (B, D, J, seed, logit scale): in the second and fourth, logits beyond +-40
LOSS_CASES = ((6, 10, 4, 180, 3.0), (5, 7, 3, 190, 20.0), (3, 8, 5, 240, 1.0), (7, 4, 2, 250, 25.0))
# (input_size, H, N, T, seed): I == H first, where swapped weights keep their shapes
GRU_CASES = ((4, 4, 3, 5, 200), (3, 4, 5, 6, 210), (2, 3, 2, 4, 260), (5, 2, 4, 3, 270))
CASES = tuple(zip(LINEAR_CASES, LOSS_CASES, GRU_CASES))
GRU_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch13_pytorch.py).
MERGED = "the two biases were added into one: the reset gate r multiplies b_hn but not b_in, so a GRU needs " \
         "both, each where it is"
MISTAKES = {
    "linear_to_torch": {
        "transposed": "the weight is transposed: torch.nn.Linear stores W as (out_features, in_features), as "
                      "nanoae does; copy it as it is",
    },
    "linear_to_torch_bias": {
        "zeros": "the bias is all zeros: copy layer.bias too",
    },
    "vae_loss_torch_recon": {
        "mean_over_pixels": "you averaged over the pixels (reduction='mean', the default, divides by B * D): "
                            "sum over the pixels, then divide by the batch size",
        "sum_over_batch": "you summed over the batch too: divide the sum by the batch size B",
        "divided_by_pixels": "you divided by the number of pixels D instead of the batch size B",
        "sigmoid_twice": "sigmoid was applied twice: binary_cross_entropy_with_logits takes the logits, not "
                         "probabilities",
        "sigmoid_then_bce": "sigmoid then binary_cross_entropy: for large logits sigmoid rounds to exactly 0 or 1 "
                            "and torch clamps log(0) to -100; binary_cross_entropy_with_logits is exact for "
                            "every logit",
        "negated": "the sign is wrong: the BCE is never negative",
    },
    "vae_loss_torch_kl": {
        "log_std": "log_var was treated as a log standard deviation: it is the log of the variance, so the "
                   "variance is exp(log_var)",
        "no_half": "the factor 1/2 is missing",
        "negated": "the sign is wrong: the KL is never negative",
        "mean_over_latent": "you averaged over the latent dimensions: sum over them, average over the batch",
        "sum_over_batch": "you summed over the batch: divide by the batch size B",
    },
    "gru_to_torch": {
        "biases_swapped": "bias_ih and bias_hh are swapped: they are not interchangeable, as b_hn is "
                          "multiplied by the reset gate",
        "biases_merged_into_ih": MERGED,
        "biases_merged_into_hh": MERGED,
        "weights_swapped": "weight_ih and weight_hh are swapped: weight_ih multiplies the input x, weight_hh "
                           "the state h",
        "gates_reordered": "the gates are in another order: nanoae and torch both stack them r, z, n",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def linear_inputs(case):
    """A nanoae Linear with weights (and bias) drawn from the grader's own generator, of both signs."""
    n_in, n_out, bias, dtype, seed = LINEAR_CASES[case]
    layer = nn.Linear(n_in, n_out, bias=bias, dtype=dtype)
    weights = {"weight": random_array((n_out, n_in), seed)}
    if bias:
        weights["bias"] = random_array((n_out,), seed + 1)
    layer.load_state_dict(weights)
    return layer


def loss_inputs(case):
    """logits (B, D) of both signs (in two cases beyond +-40), x (B, D) grey levels in [0, 1),
    mu (B, J) standard normal, log_var (B, J) in [-3, 2)."""
    batch, pixels, latent, seed, scale = LOSS_CASES[case]
    return (scale * random_array((batch, pixels), seed), random_array((batch, pixels), seed + 1, 0.0, 1.0),
            random_array((batch, latent), seed + 2), random_array((batch, latent), seed + 3, -3.0, 2.0))


def gru_inputs(case):
    """A float64 nanoae GRU with weights drawn from the grader's own generator."""
    input_size, hidden, _, _, seed = GRU_CASES[case]
    gru = nn.GRU(input_size, hidden, dtype="float64")
    shapes = {"weight_ih": (3 * hidden, input_size), "weight_hh": (3 * hidden, hidden),
              "bias_ih": (3 * hidden,), "bias_hh": (3 * hidden,)}
    gru.load_state_dict({f"cell.{name}": random_array(shape, seed + k) for k, (name, shape) in
                         enumerate(shapes.items())})
    return gru


# --- helpers: torch values and the checks every converted layer passes ---------------------

def torch_values(t):
    """A torch tensor's values as a float64 NumPy array (detached, on the CPU)."""
    return t.detach().cpu().double().numpy()


def check_layer(got, kind, what):
    if not isinstance(got, kind):
        raise Mismatch(f"return a torch.nn.{kind.__name__} ({what}), got {type(got).__name__}")


def check_dtype(param, dtype, what):
    if param.dtype != getattr(torch, dtype):
        raise Mismatch(f"dtype lost: the nanoae {what} is {dtype}, your torch layer's weights are "
                       f"{str(param.dtype).replace('torch.', '')} (torch layers make float32 weights unless "
                       f"built with dtype=...; copying into them converts)")


def check_trainable_copy(param, array, name):
    """``param`` is a torch Parameter that requires a gradient and does not share memory with ``array``."""
    if not (isinstance(param, torch.nn.Parameter) and param.requires_grad):
        raise Mismatch(f"your {name} is not a trainable torch.nn.Parameter (requires_grad is False): "
                       "torch.optim would not update it")
    if xp.shares_memory(array, param.detach().numpy()):
        raise Mismatch(f"your {name} shares memory with the nanoae layer's array (torch.from_numpy and "
                       "torch.from_dlpack share): an in-place update of one, such as an optimizer step, "
                       "changes the other. Copy it (torch.tensor(...), or .clone())")


# --- exercise 1: a Linear layer --------------------------------------------------------------

def check_linear_weights(got, layer, case, what):
    STORED.check(torch_values(got.weight), "linear_to_torch", case, MISTAKES["linear_to_torch"], COPY_TOL,
                 f"your weight ({what})")
    if layer.bias is None:
        if got.bias is not None:
            raise Mismatch(f"the nanoae layer has no bias ({what}); build yours with bias=False")
        return
    if got.bias is None:
        raise Mismatch(f"the bias is forgotten: the nanoae layer has one ({what}), yours has none")
    got_bias = torch_values(got.bias)
    try:
        compare(got_bias, STORED.expected("linear_to_torch_bias", case), COPY_TOL, f"your bias ({what})")
    except Mismatch as mismatch:
        hints, mistakes = MISTAKES["linear_to_torch_bias"], STORED.mistakes("linear_to_torch_bias", case)
        diagnose(got_bias, [(wrong, hints[name]) for name, wrong in mistakes.items()],
                 Mismatch(f"the bias was not copied from layer.bias ({mismatch})"))


def float64_twin(layer):
    """A float64 nanoae Linear holding ``layer``'s weights (float32 ones exactly, as float64)."""
    twin = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, dtype="float64")
    twin.load_state_dict({name: as_numpy(p) for name, p in layer.named_parameters()})
    return twin


@grader("linear_to_torch", forbidden=BRIDGE)
def grade_linear_to_torch(linear_to_torch):
    worst = 0.0
    for case in range(len(CASES)):
        n_in, n_out, bias, dtype, seed = LINEAR_CASES[case]
        layer = linear_inputs(case)
        what = f"Linear({n_in}, {n_out}, bias={bias}), {dtype}"
        got = linear_to_torch(layer)
        check_layer(got, torch.nn.Linear, what)
        if (got.in_features, got.out_features) != (n_in, n_out):
            raise Mismatch(f"your layer is Linear({got.in_features}, {got.out_features}), the nanoae one "
                           f"Linear({n_in}, {n_out}): both take (in_features, out_features) in that order")
        check_dtype(got.weight, dtype, "layer")
        check_linear_weights(got, layer, case, what)
        for name, param in got.named_parameters():
            check_trainable_copy(param, getattr(layer, name).data, name)
        x = random_array((7, n_in), seed + 2)                            # (B, in), float64
        expected = as_numpy(float64_twin(layer)(Tensor(x)))
        with torch.no_grad():   # run a float64 copy of your layer, so that a right answer agrees to ~1e-15
            y = torch_values(copy.deepcopy(got).double()(torch.from_numpy(x)))
        worst = max(worst, compare(y, expected, TOL, f"your layer's output in float64 ({what})"))
    return (passed_within(worst, TOL) + " between your layer's outputs and the nanoae layer's; "
            "weights copied exactly, dtype kept, no memory shared")


# --- exercise 2: the VAE's loss in torch -----------------------------------------------------

def student_loss(vae_loss_torch, inputs):
    """The student's (recon, kl) from float64 torch tensors of ``inputs``; a Mismatch for a wrong kind."""
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
    return answer


def check_loss_gradients(vae_loss_torch, inputs, what):
    """torch.autograd.gradcheck of recon + kl with respect to logits, mu and log_var, one at a time.

    ``fast_mode`` compares one random projection of the Jacobian with finite differences instead of all of
    it: enough to catch a gradient cut off or wrong, at a fraction of the cost.
    """
    for index, name in ((0, "logits"), (2, "mu"), (3, "log_var")):
        def total(t):
            args = [torch.tensor(a) for a in inputs]
            args[index] = t
            recon, kl = vae_loss_torch(*args)
            return recon + kl
        if not torch.autograd.gradcheck(total, (torch.tensor(inputs[index], requires_grad=True),),
                                        fast_mode=True, raise_exception=False):
            raise Mismatch(f"the gradient of recon + kl with respect to {name} does not match finite differences "
                           f"({what}, torch.autograd.gradcheck): compute both terms with torch operations on the "
                           f"tensors you are given")


@grader("vae_loss_torch")
def grade_vae_loss_torch(vae_loss_torch):
    worst = 0.0
    for case in range(len(CASES)):
        inputs = loss_inputs(case)
        batch, pixels, latent, _, _ = LOSS_CASES[case]
        answer = student_loss(vae_loss_torch, inputs)
        got_recon, got_kl = (torch_values(a).reshape(1) for a in answer)
        what = f"B={batch}, D={pixels}, J={latent}, logits up to {abs(inputs[0]).max():.0f}"
        recon, kl = STORED.expected("vae_loss_torch_recon", case), STORED.expected("vae_loss_torch_kl", case)
        if matches(got_recon, kl) and matches(got_kl, recon):
            raise Mismatch("recon and kl are swapped: return (recon, kl)")
        for got, term in ((got_recon, "recon"), (got_kl, "kl")):
            exercise = f"vae_loss_torch_{term}"
            worst = max(worst, STORED.check(got, exercise, case, MISTAKES[exercise], TOL, f"your {term} ({what})"))
        check_loss_gradients(vae_loss_torch, inputs, what)
    return (passed_within(worst, TOL) + " against the values stored for these inputs (float64); "
            "torch's gradients match finite differences")


# --- exercise 3: a GRU ---------------------------------------------------------------------

def check_gru_module(got, gru, what):
    check_layer(got, torch.nn.GRU, what)
    if not got.batch_first:
        raise Mismatch("batch_first is False: nanoae's GRU reads x as (N, T, input_size), torch.nn.GRU as "
                       "(T, N, input_size) unless built with batch_first=True")
    settings = (got.input_size, got.hidden_size, got.num_layers, got.bidirectional, got.bias)
    if settings != (gru.input_size, gru.hidden_size, 1, False, True):
        raise Mismatch(f"your GRU has input_size, hidden_size, num_layers, bidirectional, bias = {settings}; "
                       f"expected {(gru.input_size, gru.hidden_size, 1, False, True)} ({what})")
    check_dtype(got.weight_ih_l0, "float64", "GRU")


@grader("gru_to_torch", forbidden=(*BRIDGE, layers.parameter_names))
def grade_gru_to_torch(gru_to_torch):
    worst = 0.0
    for case in range(len(CASES)):
        input_size, hidden, n, steps, seed = GRU_CASES[case]
        gru = gru_inputs(case)
        what = f"GRU({input_size}, {hidden}), float64"
        got = gru_to_torch(gru)
        check_gru_module(got, gru, what)
        got_weights = {name: torch_values(getattr(got, f"{name}_l0")) for name in GRU_NAMES}
        try:
            for name in GRU_NAMES:   # each weight by name: a Mismatch names the first that differs
                compare(got_weights[name], as_numpy(getattr(gru.cell, name)), COPY_TOL, f"your {name} ({what})")
        except Mismatch as mismatch:
            joined = xp.concatenate([got_weights[name].reshape(-1) for name in GRU_NAMES])
            hints = MISTAKES["gru_to_torch"]
            diagnose(joined, [(wrong, hints[name]) for name, wrong in STORED.mistakes("gru_to_torch", case).items()],
                     mismatch)
        x = random_array((n, steps, input_size), seed + 9)                 # (N, T, I)
        outputs, h_last = gru(Tensor(x))                                   # (N, T, H), (N, H)
        with torch.no_grad():
            got_outputs, got_h = got(torch.from_numpy(x))                  # (N, T, H), (1, N, H)
        worst = max(worst, compare(torch_values(got_outputs), outputs, TOL, f"your GRU's outputs ({what})"),
                    compare(torch_values(got_h)[0], h_last, TOL, f"your GRU's last state h_n[0] ({what})"))
        for name in GRU_NAMES:
            check_trainable_copy(getattr(got, f"{name}_l0"), getattr(gru.cell, name).data, f"{name}_l0")
    return (passed_within(worst, TOL) + " between your GRU's outputs and the nanoae GRU's on batches of "
            "sequences; weights copied, batch first")
