"""A linear probe: how much a code says about the label, measured with a linear classifier.

An autoencoder never sees labels, yet its codes may make the classes easy to
tell apart. The standard test is to train the simplest classifier there is, a
softmax regression, on the codes of a few labelled examples and count how many
test examples it gets right. Chapters 09 and 10 compare codes with raw pixels
and PCA this way ("learning from codes", "transfer").

The classifier, for features f (D numbers) and C classes:

    s      = (f - mean) / std             standardize with the labelled set's statistics
    logits = s W^T + b                    (C,)
    p(y)   = softmax(logits)[y]
    loss   = mean over examples of -log p(label)  +  weight_decay/2 ||W||^2

The loss is convex in (W, b), so training from zero weights with full-batch
Adam is deterministic and finds the same answer however the features were
made; standardizing puts every kind of feature (pixels, codes) on one scale,
so one learning rate and one weight decay suit them all.
"""
from nanoae import backend, checks, functional as F, nn, optim
from nanoae.autograd import Tensor, no_grad


class LinearClassifier(nn.Module):
    """Softmax regression on standardized features; ``predict`` gives class labels."""

    def __init__(self, mean, std, num_classes):
        super().__init__()
        self.mean, self.std = mean, std                         # (D,) each, from the training features
        self.linear = nn.Linear(mean.shape[0], num_classes, dtype=mean.dtype)
        self.linear.weight.data[...] = 0
        self.linear.bias.data[...] = 0

    def forward(self, features):
        """Logits (N, C) for features (N, D) (an array or a Tensor)."""
        data = features.data if isinstance(features, Tensor) else features
        return self.linear(Tensor((data - self.mean) / self.std))

    def predict(self, features):
        """The most likely class of each row, an int array (N,)."""
        _check_features(features, "LinearClassifier.predict", self.mean.shape[0])
        with no_grad():
            return self.forward(features).data.argmax(axis=1)

    def accuracy(self, features, labels):
        """The fraction of rows whose predicted class is ``labels``."""
        return accuracy(self.predict(features), labels)


def fit_classifier(features, labels, num_classes=None, epochs=300, lr=0.05, weight_decay=1e-2):
    """A :class:`LinearClassifier` trained on ``features`` (N, D) with integer ``labels`` (N,).

    ``epochs`` full-batch Adam steps from zero weights; ``num_classes`` defaults
    to max(labels) + 1. The result depends only on the data and these settings.
    """
    _check_features(features, "fit_classifier")
    xp = backend.get_array_module(features)
    labels = checks.class_labels("fit_classifier", labels, features, "features")
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    features = features.astype(xp.float32) if features.dtype.kind != "f" else features
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    std[std < 1e-6] = 1                                   # constant features (a border pixel) stay 0
    model = LinearClassifier(mean, std, num_classes)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        weight = model.linear.weight
        loss = F.cross_entropy(model(features), labels) + 0.5 * weight_decay * (weight * weight).sum()
        loss.backward()
        optimizer.step()
    return model


def accuracy(predicted, labels):
    """The fraction of positions where ``predicted`` equals ``labels`` (both (N,))."""
    if predicted.shape != labels.shape:
        raise ValueError(f"accuracy: predicted has shape {predicted.shape} but labels has shape {labels.shape}")
    return float((predicted == labels).mean())


def _check_features(features, name, dim=None):
    if not backend.is_array(features) or features.ndim != 2:
        raise ValueError(f"{name}: features must be an array (N, D), got "
                         f"{getattr(features, 'shape', type(features).__name__)}")
    if dim is not None and features.shape[1] != dim:
        raise ValueError(f"{name}: features have {features.shape[1]} columns but the classifier was "
                         f"trained on {dim}")
