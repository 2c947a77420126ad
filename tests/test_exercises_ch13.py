"""The chapter 13 graders (nanoae/exercises/ch13_pytorch.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes people make when
they move a layer or a loss to PyTorch, and its FAIL line must name the
mistake. Every planted answer is a right answer with one switch turned, and
the first test shows that with no switch turned it passes. Without PyTorch
these tests skip.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason='chapter 13 needs PyTorch: pip install -e ".[torch]"')

from nanoae.exercises import ch13_pytorch as graders  # noqa: E402  (after the skip)
from nanoae.interop import to_torch  # noqa: E402
from nanoae.interop.layers import parameter_names  # noqa: E402
from grading_asserts import assert_fails_naming  # noqa: E402

TF = torch.nn.functional


# --- planted answers: right ones, with one switch each -------------------------------------------

def linear(layer, transpose=False, bias="copy", share=False, keep_dtype=True, swap_features=False,
           trainable=True):
    """A torch copy of the nanoae Linear ``layer``; each switch plants one mistake.

    ``bias``: "copy" (right), "never" (none), "always" (one even where the layer has none),
    "init" (left as torch drew it) or "zeros".
    """
    n_in, n_out = (layer.out_features, layer.in_features) if swap_features else (layer.in_features, layer.out_features)
    weight = layer.weight.numpy().T if transpose else layer.weight.numpy()
    dtype = getattr(torch, str(weight.dtype)) if keep_dtype else torch.float32
    has_bias = layer.bias is not None if bias in ("copy", "zeros", "init") else bias == "always"
    module = torch.nn.Linear(n_in, n_out, bias=has_bias, dtype=dtype)
    module.weight.data = torch.from_numpy(weight) if share else torch.tensor(weight, dtype=dtype)
    if has_bias and bias == "zeros":
        module.bias.data.zero_()
    elif has_bias and layer.bias is not None and bias != "init":
        module.bias.data = torch.tensor(layer.bias.numpy(), dtype=dtype)
    module.requires_grad_(trainable)
    return module


def vae_loss(logits, x, mu, log_var, recon_reduce="batch_mean", recon_kind="with_logits", log_std=False,
             half=0.5, kl_reduce="batch_mean", swap=False, detach=False):
    """(recon, kl) of the VAE; each switch plants one mistake."""
    batch = len(x)
    if recon_kind == "with_logits":
        per_pixel = TF.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif recon_kind == "sigmoid_twice":
        per_pixel = TF.binary_cross_entropy_with_logits(torch.sigmoid(logits), x, reduction="none")
    elif recon_kind == "sigmoid_then_bce":
        per_pixel = TF.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none")
    else:  # "logits_as_probabilities"
        per_pixel = TF.binary_cross_entropy(logits, x, reduction="none")
    recon = {"batch_mean": per_pixel.sum() / batch, "mean": per_pixel.mean(), "sum": per_pixel.sum()}[recon_reduce]
    var, log_var_term = (torch.exp(2 * log_var), 2 * log_var) if log_std else (torch.exp(log_var), log_var)
    per_dim = half * (mu * mu + var - 1 - log_var_term)
    kl = {"batch_mean": per_dim.sum() / batch, "mean": per_dim.mean(), "sum": per_dim.sum()}[kl_reduce]
    if detach:
        recon, kl = torch.tensor(recon.item(), dtype=x.dtype), torch.tensor(kl.item(), dtype=x.dtype)
    return (kl, recon) if swap else (recon, kl)


def gru(nanoae_gru, batch_first=True, biases="as_they_are", swap_weights=False, gate_order=(0, 1, 2),
        share=False, keep_dtype=True):
    """A torch copy of the nanoae GRU; each switch plants one mistake."""
    cell = nanoae_gru.cell
    hidden = nanoae_gru.hidden_size
    rows = np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in gate_order])   # the gates' rows
    w_ih, w_hh, b_ih, b_hh = (getattr(cell, name).data for name in graders.GRU_NAMES)     # the arrays themselves
    if gate_order != (0, 1, 2):
        w_ih, w_hh, b_ih, b_hh = (a[rows] for a in (w_ih, w_hh, b_ih, b_hh))
    if swap_weights:
        w_ih, w_hh = w_hh, w_ih
    if biases == "swapped":
        b_ih, b_hh = b_hh, b_ih
    elif biases == "merged":
        b_ih, b_hh = b_ih + b_hh, 0 * b_hh
    dtype = torch.float64 if keep_dtype else torch.float32
    module = torch.nn.GRU(nanoae_gru.input_size, hidden, batch_first=batch_first, dtype=dtype)
    for name, value in zip(graders.GRU_NAMES, (w_ih, w_hh, b_ih, b_hh)):
        param = getattr(module, f"{name}_l0")
        if share:
            param.data = torch.from_numpy(value)
        else:
            with torch.no_grad():
                param.copy_(torch.tensor(value))
    return module


def test_the_planted_answers_pass_without_their_mistake():
    assert graders.grade_linear_to_torch(linear).passed
    assert graders.grade_vae_loss_torch(vae_loss).passed
    assert graders.grade_gru_to_torch(gru).passed


# --- linear_to_torch --------------------------------------------------------------------------------

def test_linear_grader_fails_a_transposed_weight():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, transpose=True)),
                        "transposed", "relative error")


def test_linear_grader_fails_a_forgotten_bias():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, bias="never")),
                        "bias is forgotten")


def test_linear_grader_fails_a_bias_left_as_torch_drew_it():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, bias="init")),
                        "not copied from layer.bias")


def test_linear_grader_fails_a_zero_bias():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, bias="zeros")), "all zeros")


def test_linear_grader_fails_a_bias_the_nanoae_layer_does_not_have():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, bias="always")),
                        "bias=False")


def test_linear_grader_fails_weights_shared_instead_of_copied():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, share=True)),
                        "shares memory", "Copy it")


def test_linear_grader_fails_a_lost_dtype():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, keep_dtype=False)),
                        "dtype lost", "float64")


def test_linear_grader_fails_swapped_features():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, swap_features=True)),
                        "(in_features, out_features)")


def test_linear_grader_fails_frozen_weights():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: linear(layer, trainable=False)),
                        "not a trainable")


def test_linear_grader_fails_a_layer_of_another_kind():
    assert_fails_naming(graders.grade_linear_to_torch(lambda layer: torch.nn.Sequential(linear(layer))),
                        "return a torch.nn.Linear", "Sequential")


# --- vae_loss_torch ----------------------------------------------------------------------------------

@pytest.mark.parametrize("mistake, words", [
    pytest.param({"recon_reduce": "mean"}, ["averaged over the pixels", "reduction='mean'"],
                 id="recon_mean_over_pixels"),
    pytest.param({"recon_reduce": "sum"}, ["summed over the batch too"], id="recon_sum_over_batch"),
    pytest.param({"recon_kind": "sigmoid_twice"}, ["sigmoid was applied twice"], id="sigmoid_twice"),
    pytest.param({"recon_kind": "sigmoid_then_bce"}, ["clamps log(0)", "logits up to"], id="sigmoid_then_bce"),
    pytest.param({"recon_kind": "logits_as_probabilities"}, ["given the logits", "binary_cross_entropy_with_logits"],
                 id="bce_on_logits_as_probabilities"),
    pytest.param({"log_std": True}, ["log standard deviation"], id="log_var_as_log_std"),
    pytest.param({"half": 1.0}, ["factor 1/2 is missing"], id="kl_missing_half"),
    pytest.param({"kl_reduce": "mean"}, ["averaged over the latent dimensions"], id="kl_mean_over_latent"),
    pytest.param({"kl_reduce": "sum"}, ["summed over the batch: divide"], id="kl_sum_over_batch"),
    pytest.param({"swap": True}, ["swapped"], id="terms_swapped"),
    pytest.param({"detach": True}, ["no gradient reaches the inputs"], id="detached"),
])
def test_vae_loss_grader_fails_and_names_the_mistake(mistake, words):
    assert_fails_naming(graders.grade_vae_loss_torch(lambda *inputs: vae_loss(*inputs, **mistake)), *words)


def test_vae_loss_grader_fails_one_total_instead_of_the_two_terms():
    assert_fails_naming(graders.grade_vae_loss_torch(lambda *inputs: sum(vae_loss(*inputs))), "return a pair")


def test_vae_loss_grader_fails_terms_computed_in_float32():
    def float32(*inputs):
        return tuple(term.float() for term in vae_loss(*inputs))
    assert_fails_naming(graders.grade_vae_loss_torch(float32), "torch.float32", "stay float64")


def test_vae_loss_grader_fails_a_gradient_cut_off_from_log_var():
    def detached_log_var(logits, x, mu, log_var):
        recon, kl = vae_loss(logits, x, mu, log_var.detach())
        return recon, kl + 0 * log_var.sum()
    assert_fails_naming(graders.grade_vae_loss_torch(detached_log_var), "with respect to log_var")


# --- gru_to_torch ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mistake, words", [
    pytest.param({"batch_first": False}, ["batch_first is False"], id="batch_first_forgotten"),
    pytest.param({"biases": "swapped"}, ["bias_ih and bias_hh are swapped", "b_hn"], id="biases_swapped"),
    pytest.param({"biases": "merged"}, ["added into one", "reset gate"], id="biases_merged"),
    pytest.param({"swap_weights": True}, ["weight_ih and weight_hh are swapped"], id="weights_swapped"),
    pytest.param({"gate_order": (1, 0, 2)}, ["another order", "r, z, n"], id="gates_reordered"),
    pytest.param({"share": True}, ["shares memory"], id="weights_shared"),
    pytest.param({"keep_dtype": False}, ["dtype lost"], id="dtype_lost"),
])
def test_gru_grader_fails_and_names_the_mistake(mistake, words):
    assert_fails_naming(graders.grade_gru_to_torch(lambda nanoae_gru: gru(nanoae_gru, **mistake)), *words)


def test_gru_grader_fails_a_module_of_another_kind():
    assert_fails_naming(graders.grade_gru_to_torch(lambda nanoae_gru: torch.nn.GRUCell(4, 4)),
                        "return a torch.nn.GRU")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_linear_grader_fails_nanoaes_own_bridge():
    assert_fails_naming(graders.grade_linear_to_torch(to_torch), "calls nanoae.interop.convert.to_torch")


def test_gru_grader_fails_nanoaes_own_bridge():
    assert_fails_naming(graders.grade_gru_to_torch(to_torch), "calls nanoae.interop.convert.to_torch")


def test_gru_grader_fails_the_bridges_names_of_the_weights():
    def renamed_by_the_library(nanoae_gru):
        module = torch.nn.GRU(nanoae_gru.input_size, nanoae_gru.hidden_size, batch_first=True, dtype=torch.float64)
        weights = dict(nanoae_gru.named_parameters())
        with torch.no_grad():
            for nanoae_name, torch_name in parameter_names(nanoae_gru).items():
                getattr(module, torch_name).copy_(torch.tensor(weights[nanoae_name].numpy()))
        return module
    assert_fails_naming(graders.grade_gru_to_torch(renamed_by_the_library),
                        "calls nanoae.interop.layers.parameter_names")
