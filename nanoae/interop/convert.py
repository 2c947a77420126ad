"""to_torch and from_torch: a nanoae model or layer as a torch.nn.Module, and the weights back.

``to_torch`` builds the torch side from the nanoae side: every nanoae layer
becomes its torch.nn counterpart (``layers.py``), and a model becomes its
mirror (``autoencoders.py``, ``vae.py``, ``seq2seq.py``, ``vq_vae.py``) holding
those layers.
Then the weights are copied across, by name (``parameter_names``).
``from_torch`` copies them back, after checking every name and shape.
"""
import copy

import torch

from nanoae import models
from nanoae.autograd import ShapeError
from nanoae.interop import autoencoders, seq2seq, vae, vq_vae
from nanoae.interop.layers import layer_to_torch, parameter_names
from nanoae.interop.tensors import tensor_from_torch, tensor_to_torch

# Each nanoae model class and the class of its torch mirror.
MIRRORS = {
    models.Autoencoder: autoencoders.Autoencoder,
    models.DenoisingAutoencoder: autoencoders.DenoisingAutoencoder,
    models.SparseAutoencoder: autoencoders.SparseAutoencoder,
    models.ContractiveAutoencoder: autoencoders.ContractiveAutoencoder,
    models.ConvAutoencoder: autoencoders.ConvAutoencoder,
    models.SemanticHashingAutoencoder: autoencoders.SemanticHashingAutoencoder,
    models.AdversarialAutoencoder: autoencoders.AdversarialAutoencoder,
    models.VAE: vae.VAE,
    models.Seq2SeqAutoencoder: seq2seq.Seq2SeqAutoencoder,
    models.VQVAE: vq_vae.VQVAE,
}


def _build(model):
    """The torch module of the same architecture as the nanoae ``model``, weights not yet set."""
    mirror = MIRRORS.get(type(model))
    if mirror is None:
        return layer_to_torch(model, "model")
    layers = {name: layer_to_torch(m, f"model.{name}") for name, m in model._modules.items()}
    return mirror(copy.deepcopy(model.config), **layers)


def to_torch(model):
    """A torch.nn.Module with the architecture and the weights of the nanoae ``model``.

    ``model`` is one of the models ``nanoae train`` knows (``nanoae.models.MODELS``),
    an ``nn.Sequential`` or a single layer (the table in ``layers.py``); anything
    else is a TypeError naming it. The weights are copies, in the same dtype and on
    the same device (a CuPy model gives CUDA tensors): training one side leaves the
    other as it was. The training mode is copied too (``model.eval()`` -> ``module.eval()``),
    and so is the hashing model's step count, which sets its noise level.
    """
    # Built on the "meta" device: shapes only, no memory and no random initial
    # weights (which would use up torch's random numbers); nanoae's weights replace them.
    with torch.device("meta"):
        module = _build(model)
    names = parameter_names(model)
    weights = {names[name]: tensor_to_torch(p.data).clone() for name, p in model.named_parameters()}
    module.load_state_dict(weights, assign=True)      # assign: the tensors above become the parameters
    module.train(model.training)
    if isinstance(model, models.SemanticHashingAutoencoder):
        module.steps = model.steps
    return module


def from_torch(module, like, inplace=False):
    """The nanoae model ``like``, with the weights of the torch ``module`` copied in.

    ``like`` is a nanoae model or layer of the same architecture as ``module``
    (``module`` typically came from ``to_torch(like)``). Every parameter name and
    shape is checked first (a ShapeError lists each mismatch and nothing changes);
    the weights then take ``like``'s dtype and device, as ``load_state_dict`` does.
    Returns a copy of ``like``, or with ``inplace=True`` ``like`` itself.
    The names only are checked, not what the layers compute: ReLU and Tanh
    have no weights to tell them apart.
    """
    names = parameter_names(like)                     # nanoae name -> torch name
    state = module.state_dict()
    expected = {names[name]: p.shape for name, p in like.named_parameters()}
    _check_fits(state, expected, type(module).__name__, type(like).__name__)
    model = like if inplace else copy.deepcopy(like)
    model.load_state_dict({name: tensor_from_torch(state[torch_name]).data for name, torch_name in names.items()})
    return model


def _check_fits(state, expected, module_name, model_name):
    """A ShapeError listing every torch key missing, unexpected or of the wrong shape."""
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    misshaped = [f"{key}: {tuple(state[key].shape)} in torch, {expected[key]} in nanoae"
                 for key in expected if key in state and tuple(state[key].shape) != expected[key]]
    problems = [f"{label} {items}" for label, items in
                (("missing", missing), ("unexpected", unexpected), ("wrong shape", misshaped)) if items]
    if problems:
        raise ShapeError(f"from_torch: the torch {module_name} does not fit the nanoae {model_name}: "
                         + "; ".join(problems))
