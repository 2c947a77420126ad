"""Each nanoae layer and its ``torch.nn`` counterpart, and each parameter's name on either side.

| nanoae.nn | torch.nn | notes |
| --- | --- | --- |
| ``Linear(in, out, bias)`` | ``Linear(in, out, bias)`` | W (out, in) on both sides |
| ``Sequential(...)`` | ``Sequential(...)`` | layers named "0", "1", ... on both sides |
| ``ReLU``, ``LeakyReLU(slope)``, ``Sigmoid``, ``Tanh``, ``Softplus``, ``Identity`` | the same | |
| ``Dropout(p)`` | ``Dropout(p)`` | the masks come from different generators |
| ``Flatten(start_dim)`` | ``Flatten(start_dim, -1)`` | |
| ``Unflatten(dim, size)`` | ``Unflatten(dim, size)`` | |
| ``Conv2d(in, out, k, stride, padding, bias)`` | the same | W (out, in, kH, kW) |
| ``ConvTranspose2d(in, out, k, stride, padding, output_padding, bias)`` | the same | W (in, out, kH, kW) |
| ``MaxPool2d(k, stride)`` | ``MaxPool2d(k, stride)`` | no padding, floor mode |
| ``Upsample(f)`` | ``Upsample(scale_factor=f, mode="nearest")`` | |
| ``GRUCell``, ``LSTMCell`` | ``GRUCell``, ``LSTMCell`` | the same gate order and weights |
| ``GRU(in, H)`` | ``GRU(in, H, batch_first=True)`` | the weights are renamed (below) |
| ``Embedding(n, d)`` | ``Embedding(n, d)`` | |

Names. Parameters keep their names, with one exception: nanoae's GRU runs a
GRUCell, so its weights are ``cell.weight_ih``, ``cell.bias_hh``, ...;
torch's ``nn.GRU`` numbers its stacked layers, so the same weights are
``weight_ih_l0``, ``bias_hh_l0``, ... (layer 0, the only one).
:func:`parameter_names` gives the name on each side.

A GRU's ``lengths``. nanoae's ``GRU(x, h0, lengths)`` stops each sequence
after its last real step; ``torch.nn.GRU`` takes no lengths but a packed
batch, which does the same (for lengths >= 1; torch refuses empty sequences)::

    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    packed_out, h_last = gru(packed, h0[None])                  # h_last (1, N, H)
    out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=x.shape[1])

``out`` (N, T, H) is zero past each length and ``h_last[0]`` is nanoae's h_last.
The mirror of the sequence autoencoder encodes this way (``seq2seq.py``).
"""
import torch

from nanoae import nn

# How to build the torch counterpart of each nanoae layer, from the layer's own settings.
# Exact types only: a subclass of nn.Linear may compute something else, so it has no counterpart.
LAYERS = {
    nn.Linear: lambda m: torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None),
    nn.ReLU: lambda m: torch.nn.ReLU(),
    nn.LeakyReLU: lambda m: torch.nn.LeakyReLU(m.negative_slope),
    nn.Sigmoid: lambda m: torch.nn.Sigmoid(),
    nn.Tanh: lambda m: torch.nn.Tanh(),
    nn.Softplus: lambda m: torch.nn.Softplus(),
    nn.Identity: lambda m: torch.nn.Identity(),
    nn.Dropout: lambda m: torch.nn.Dropout(m.p),
    nn.Flatten: lambda m: torch.nn.Flatten(m.start_dim, -1),
    nn.Unflatten: lambda m: torch.nn.Unflatten(m.dim, m.unflattened_size),
    nn.Conv2d: lambda m: torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                                         bias=m.bias is not None),
    nn.ConvTranspose2d: lambda m: torch.nn.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride,
                                                           m.padding, m.output_padding, bias=m.bias is not None),
    nn.MaxPool2d: lambda m: torch.nn.MaxPool2d(m.kernel_size, m.stride),
    nn.Upsample: lambda m: torch.nn.Upsample(scale_factor=m.scale_factor, mode="nearest"),
    nn.GRUCell: lambda m: torch.nn.GRUCell(m.input_size, m.hidden_size, bias=m.bias_ih is not None),
    nn.LSTMCell: lambda m: torch.nn.LSTMCell(m.input_size, m.hidden_size, bias=m.bias_ih is not None),
    nn.GRU: lambda m: torch.nn.GRU(m.input_size, m.hidden_size, bias=m.cell.bias_ih is not None,
                                   batch_first=True),
    nn.Embedding: lambda m: torch.nn.Embedding(m.num_embeddings, m.embedding_dim),
}


def layer_to_torch(layer, where="model"):
    """The torch.nn module of the same kind and shape as the nanoae ``layer``, its weights not yet set.

    ``where`` is the layer's place in the model (``model.encoder.3``), for the error
    raised when a layer has no counterpart.
    """
    if type(layer) is nn.Sequential:
        return torch.nn.Sequential(*(layer_to_torch(m, f"{where}.{name}") for name, m in layer._modules.items()))
    build = LAYERS.get(type(layer))
    if build is None:
        raise TypeError(f"to_torch: no PyTorch counterpart for {type(layer).__name__} (in {where})")
    return build(layer)


def parameter_names(module, prefix=""):
    """{nanoae name: torch name} for every parameter of the nanoae ``module``, in ``named_parameters()`` order.

    The torch name is the key in the ``state_dict()`` of ``to_torch(module)``: the
    same name but inside a GRU (module docstring), ``encoder.cell.weight_ih`` ->
    ``encoder.weight_ih_l0``.
    """
    if type(module) is nn.GRU:
        return {f"{prefix}cell.{name}": f"{prefix}{name}_l0" for name, _ in module.cell.named_parameters()}
    names = {prefix + name: prefix + name for name in module._parameters}
    for name, child in module._modules.items():
        names.update(parameter_names(child, f"{prefix}{name}."))
    return names
