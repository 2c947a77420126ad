"""The chapter 11 graders (nanoae/exercises/ch11_seq2seq.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import numpy as np

from nanoae import Tensor, nn
from nanoae.exercises import ch11_seq2seq as graders
from nanoae.models.seq2seq import Seq2SeqAutoencoder, Seq2SeqConfig, sequence_mask
from grading_asserts import assert_fails_naming


# --- gru_cell_forward --------------------------------------------------------------------------

def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru(x, h, w_ih, w_hh, b_ih, b_hh, order="rzn", keep="z", reset="pytorch", candidate=np.tanh):
    gates_x = dict(zip(order, np.split(x @ w_ih.T + b_ih, 3, axis=1)))
    gates_h = dict(zip(order, np.split(h @ w_hh.T + b_hh, 3, axis=1)))
    r = sigmoid(gates_x["r"] + gates_h["r"])
    z = sigmoid(gates_x["z"] + gates_h["z"])
    H = h.shape[1]
    if reset == "pytorch":
        n = candidate(gates_x["n"] + r * gates_h["n"])
    elif reset == "before_matmul":
        n = candidate(gates_x["n"] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
    elif reset == "no_bias":
        n = candidate(gates_x["n"] + r * (h @ w_hh[2 * H:].T) + b_hh[2 * H:])
    else:
        n = candidate(gates_x["n"] + gates_h["n"])
    return (1 - z) * n + z * h if keep == "z" else z * n + (1 - z) * h


def test_gru_grader_passes_a_loop_over_the_gates_written_differently():
    def by_slices(x, h, w_ih, w_hh, b_ih, b_hh):
        H = h.shape[1]
        pre = [x @ w_ih[k * H:(k + 1) * H].T + b_ih[k * H:(k + 1) * H] for k in range(3)]
        hid = [h @ w_hh[k * H:(k + 1) * H].T + b_hh[k * H:(k + 1) * H] for k in range(3)]
        r, z = sigmoid(pre[0] + hid[0]), sigmoid(pre[1] + hid[1])
        return z * h + (1 - z) * np.tanh(pre[2] + r * hid[2])
    assert graders.grade_gru_cell_forward(by_slices).passed


def test_gru_grader_fails_z_and_one_minus_z_swapped():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a, keep="1-z")),
                        "z and 1 - z are swapped", "relative error")


def test_gru_grader_fails_r_and_z_swapped():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a, order="zrn")), "r and z are swapped")


def test_gru_grader_fails_gates_in_the_wrong_order():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a, order="nzr")), "wrong order")


def test_gru_grader_fails_the_reset_gate_applied_before_the_matmul():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a, reset="before_matmul")),
                        "before the matrix product")


def test_gru_grader_fails_the_reset_gate_leaving_out_the_bias():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a, reset="no_bias")), "bias b_hn too")


def test_gru_grader_fails_a_missing_reset_gate():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a, reset="none")), "reset gate r is missing")


def test_gru_grader_fails_a_sigmoid_candidate():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a, candidate=sigmoid)), "uses tanh")


def test_gru_grader_fails_a_wrong_shape():
    assert_fails_naming(graders.grade_gru_cell_forward(lambda *a: gru(*a).T), "has shape")


# --- masked_sequence_loss ------------------------------------------------------------------------

def masked(x_hat, x, lengths, shift=0, divide="N"):
    real = np.arange(x.shape[1])[None, :] < lengths[:, None] + shift
    per_step = ((x_hat - x) ** 2).sum(axis=2)
    total = (per_step * Tensor(real.astype(np.float64))).sum()
    return total / (len(lengths) if divide == "N" else lengths.sum())


def test_loss_grader_fails_counting_the_padding():
    assert_fails_naming(graders.grade_masked_sequence_loss(lambda x_hat, x, lengths: ((x_hat - x) ** 2).sum() / len(x)),
                        "padded steps were counted")


def test_loss_grader_fails_a_mask_one_step_too_long():
    assert_fails_naming(graders.grade_masked_sequence_loss(lambda *a: masked(*a, shift=1)), "one step too many")


def test_loss_grader_fails_a_mask_one_step_too_short():
    assert_fails_naming(graders.grade_masked_sequence_loss(lambda *a: masked(*a, shift=-1)), "one step too few")


def test_loss_grader_fails_dividing_by_the_number_of_real_steps():
    assert_fails_naming(graders.grade_masked_sequence_loss(lambda *a: masked(*a, divide="steps")),
                        "divided by the number of real steps")


def test_loss_grader_fails_one_value_per_sequence():
    def per_sequence(x_hat, x, lengths):
        real = np.arange(x.shape[1])[None, :] < lengths[:, None]
        return (((x_hat - x) ** 2).sum(axis=2) * Tensor(real.astype(np.float64))).sum(axis=1)
    assert_fails_naming(graders.grade_masked_sequence_loss(per_sequence), "scalar Tensor")


def test_loss_grader_fails_a_loss_cut_off_from_the_graph():
    def detached(x_hat, x, lengths):
        return masked(x_hat.detach(), x, lengths) + 0 * x_hat.sum()
    assert_fails_naming(graders.grade_masked_sequence_loss(detached), "gradcheck failed for x_hat")


# --- last_valid_state -----------------------------------------------------------------------------

def test_state_grader_fails_the_last_padded_step():
    assert_fails_naming(graders.grade_last_valid_state(lambda outputs, lengths: outputs[:, -1]),
                        "last step of the padded array")


def test_state_grader_fails_one_step_too_late():
    def too_late(outputs, lengths):
        return outputs[np.arange(len(lengths)), np.minimum(lengths, outputs.shape[1] - 1)]
    assert_fails_naming(graders.grade_last_valid_state(too_late), "one step too late")


def test_state_grader_fails_an_index_past_the_end():
    assert_fails_naming(graders.grade_last_valid_state(lambda outputs, lengths: outputs[np.arange(len(lengths)), lengths]),
                        "raised IndexError")


def test_state_grader_fails_indexing_the_axes_separately():
    assert_fails_naming(graders.grade_last_valid_state(lambda outputs, lengths: outputs[:, lengths - 1]),
                        "index both axes together")


def test_state_grader_fails_a_numpy_answer():
    def numpy_answer(outputs, lengths):
        return outputs.numpy()[np.arange(len(lengths)), lengths - 1]
    assert_fails_naming(graders.grade_last_valid_state(numpy_answer), "return a Tensor")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_gru_grader_fails_the_library_gru_cell():
    def library(x, h, w_ih, w_hh, b_ih, b_hh):
        cell = nn.GRUCell(x.shape[1], h.shape[1], dtype="float64")
        for parameter, value in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                                    (w_ih, w_hh, b_ih, b_hh)):
            parameter.data[...] = value
        return cell(Tensor(x), Tensor(h)).numpy()
    assert_fails_naming(graders.grade_gru_cell_forward(library), "calls nanoae.nn.recurrent.GRUCell.forward")


def test_loss_grader_fails_the_models_masked_loss():
    def library(x_hat, x, lengths):
        model = Seq2SeqAutoencoder(Seq2SeqConfig(input_dim=x.shape[2], hidden_size=2, latent_dim=2, recon="mse"))
        return model.reconstruction_loss(x_hat, x, lengths)
    assert_fails_naming(graders.grade_masked_sequence_loss(library),
                        "calls nanoae.models.seq2seq.Seq2SeqAutoencoder.reconstruction_loss")


def test_loss_grader_fails_the_models_sequence_mask():
    def library_mask(x_hat, x, lengths):
        mask = sequence_mask(lengths, x.shape[1], np).astype(np.float64)
        return (((x_hat - x) ** 2).sum(axis=2) * Tensor(mask)).sum() / len(lengths)
    assert_fails_naming(graders.grade_masked_sequence_loss(library_mask), "calls nanoae.models.seq2seq.sequence_mask")
