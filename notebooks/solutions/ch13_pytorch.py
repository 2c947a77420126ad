"""Reference solutions to the chapter 13 exercises (from nanoae to PyTorch): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/13-from-nanoae-to-pytorch.ipynb``; ``nanoae.exercises.ch13_pytorch``
grades them. The converted layers own copies of the weights (``torch.tensor``
copies; ``torch.from_numpy`` would share the nanoae array's memory).
"""
import torch
import torch.nn.functional as F


def linear_to_torch(layer):
    """A torch.nn.Linear with a copy of the weights of the nanoae Linear ``layer``, in its dtype."""
    weight = torch.tensor(layer.weight.numpy())                          # (out, in) on both sides: no transpose
    linear = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                             dtype=weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(weight)
        if layer.bias is not None:
            linear.bias.copy_(torch.tensor(layer.bias.numpy()))
    return linear


def vae_loss_torch(logits, x, mu, log_var):
    """The VAE's (recon, kl) per image for torch tensors: logits and x (B, D), mu and log_var (B, J)."""
    batch = len(x)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch
    kl = (0.5 * (mu * mu + torch.exp(log_var) - 1 - log_var)).sum() / batch
    return recon, kl


def gru_to_torch(gru):
    """A torch.nn.GRU (batch first) with a copy of the weights of the nanoae GRU ``gru``."""
    cell = gru.cell
    dtype = getattr(torch, str(cell.weight_ih.dtype))                    # "float64" -> torch.float64
    module = torch.nn.GRU(gru.input_size, gru.hidden_size, bias=cell.bias_ih is not None, batch_first=True,
                          dtype=dtype)
    with torch.no_grad():
        for name, param in cell.named_parameters():                   # weight_ih -> weight_ih_l0, ...
            getattr(module, f"{name}_l0").copy_(torch.tensor(param.numpy()))
    return module
