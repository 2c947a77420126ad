"""An MLP classifier: the trained model whose hidden layer chapter 16's sparse autoencoders take apart.

    h      = body(x)       # (B, hidden[-1]): ReLU after every layer, the activations we study
    logits = head(h)       # (B, num_classes)
    loss   = cross-entropy of softmax(logits) against the labels (nats per example)

It is split in two at the layer we study, so that ``head`` can also be run
on activations that did not come from ``body``: an SAE's reconstruction of
them, for the downstream loss (``nanoae.analysis.sae.downstream_loss``).

The training loop here is the plain one of a classifier, written out: it
needs labels, which :func:`nanoae.train.fit` (made for autoencoders) does not take.
"""
from dataclasses import dataclass

from tqdm.auto import tqdm

from nanoae import checks, functional as F, nn, optim
from nanoae.data import DataLoader
from nanoae.models.config import config_or_default
from nanoae.models.mlp import mlp
from nanoae.nn import Module


@dataclass
class ClassifierConfig:
    input_dim: int = 784
    hidden: tuple[int, ...] = (256, 64)   # the last is the layer the SAEs read
    num_classes: int = 10
    activation: str = "relu"

    def __post_init__(self):
        checks.positive_int("ClassifierConfig", "input_dim", self.input_dim)
        self.hidden = checks.sizes("ClassifierConfig", "hidden", self.hidden, example="(256, 64)")
        if not self.hidden:
            raise ValueError("ClassifierConfig: hidden needs at least one layer (its activations are studied)")
        checks.positive_int("ClassifierConfig", "num_classes", self.num_classes)
        checks.choice("ClassifierConfig", "activation", self.activation, tuple(nn.ACTIVATIONS))


class MLPClassifier(Module):
    """``hidden_activations(x)`` is the studied layer; ``head`` maps it to logits; ``loss(x, y)``."""

    name = "classifier"
    config_class = ClassifierConfig

    def __init__(self, config=None):
        super().__init__()
        c = self.config = config_or_default(self, config)
        self.body = mlp([c.input_dim, *c.hidden], c.activation, last=nn.ACTIVATIONS[c.activation]())
        self.head = nn.Linear(c.hidden[-1], c.num_classes)

    def hidden_activations(self, x):
        return self.body(x)                          # (B, hidden[-1])

    def forward(self, x):
        return self.head(self.body(x))               # (B, num_classes) logits

    def loss(self, x, labels):
        return F.cross_entropy(self.forward(x), labels)


def train_classifier(model, x, labels, epochs=5, batch_size=128, lr=1e-3, seed=0, device="cpu", progress=True):
    """Train ``model`` on images ``x`` (N, D) with integer ``labels`` (N,) by Adam; returns the mean
    training loss of each epoch. The batch order depends only on ``seed`` and the epoch."""
    model.to(device)
    model.train()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(x, labels, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    losses = []
    for epoch in range(1, epochs + 1):
        loader.set_epoch(epoch)
        total = 0.0
        for xb, yb in tqdm(loader, desc=f"classifier epoch {epoch}", leave=False, disable=not progress):
            optimizer.zero_grad()
            loss = model.loss(xb, yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / len(x))
    model.eval()
    return losses
