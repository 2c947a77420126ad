"""Swap a model's parameters for other tensors while it runs (imported by the model tests).

nanoae.gradcheck differentiates with respect to its own float64 copies of the
inputs; to check a whole model's gradient, the model must compute with those
copies, not with its parameters.
"""
import contextlib


@contextlib.contextmanager
def weights_set_to(model, tensors):
    """Run ``model`` with its parameters replaced by ``tensors`` (in ``parameters()`` order)."""
    slots = []
    for name, _ in model.named_parameters():
        *path, attribute = name.split(".")
        owner = model
        for step in path:
            owner = getattr(owner, step)
        slots.append((owner, attribute))
    saved = [getattr(owner, attribute) for owner, attribute in slots]
    try:
        for (owner, attribute), t in zip(slots, tensors):
            object.__setattr__(owner, attribute, t)  # bypass registration: a temporary swap
        yield
    finally:
        for (owner, attribute), p in zip(slots, saved):
            object.__setattr__(owner, attribute, p)
