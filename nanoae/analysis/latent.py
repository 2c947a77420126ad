"""Working in a code space: interpolation, class means, attribute vectors, smooth paths.

An autoencoder maps an image x to a code z. Chapter 09 asks what the
geometry of that code space is good for:

- **interpolation**: decode the points between two codes z0 and z1. Linear,

      z(t) = (1 - t) z0 + t z1,                                   t in [0, 1]

  or spherical (slerp; Shoemake 1985, used for generative models by White 2016),
  which turns z0 into z1 along the great circle, at a constant angular speed:

      cos(omega) = <z0, z1> / (|z0| |z1|)
      z(t) = sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1

  For codes drawn from N(0, I) in many dimensions, almost all the mass sits near
  the sphere of radius sqrt(J); the midpoint of a straight line between two
  such codes is shorter by a factor of about 1/sqrt(2), a code the decoder
  rarely saw. Slerp keeps the norm close to that of the endpoints.
- **class means and attribute vectors**: the mean code of each class,
  m_c = mean of z over the examples labelled c, and the vector from one class
  to another, v = m_target - m_source. Adding v to the code of a source image
  asks the decoder for "the same image, but of the target class" (the spirit
  of "king - man + woman = queen" in word vectors, Mikolov et al. 2013).
- **path smoothness**: how evenly a decoded interpolation changes. For a path
  of S images x_0 ... x_{S-1} with pixel-space steps d_s = |x_{s+1} - x_s|,

      smoothness = max_s d_s / mean_s d_s          (1 = perfectly even, up to S - 1)
      detour     = sum_s d_s / |x_{S-1} - x_0|     (1 = a straight line in pixels)

  A path that jumps from one image to the other in a single step has
  smoothness S - 1; a path that wanders through unrelated images on its way
  has a large detour.
- **a few labels**: :func:`few_labels_split` picks n labelled examples per
  class, for training a classifier on codes with few labels (semi-supervised
  learning; the classifier is :func:`nanoae.analysis.probe.fit_classifier`).

Codes are arrays (NumPy or CuPy); the array module comes from the inputs.
"""
from nanoae import backend, checks

KINDS = ("linear", "slerp")


def interpolate(z0, z1, steps, kind="linear"):
    """``steps`` codes from z0 to z1, both ends included.

    z0, z1: arrays (J,) for one pair, or (N, J) for N pairs.
    Returns (steps, J) for one pair, (N, steps, J) for N pairs; row 0 is z0, the last row z1.
    ``kind``: "linear" or "slerp" (module docstring). Slerp falls back to the
    straight line where the two codes point the same way (omega near 0, where
    both formulas agree) or opposite ways (omega near pi, where no single great
    circle joins them).
    """
    _check_codes(z0, "interpolate", "z0")
    _check_codes(z1, "interpolate", "z1")
    if z0.shape != z1.shape:
        raise ValueError(f"interpolate: z0 and z1 must have the same shape, got {z0.shape} and {z1.shape}")
    if int(steps) != steps or steps < 2:
        raise ValueError(f"interpolate: steps must be an integer >= 2 (both ends are included), got {steps!r}")
    if kind not in KINDS:
        raise ValueError(f"interpolate: kind must be one of {KINDS}, got {kind!r}")
    xp = backend.get_array_module(z0, z1)
    single = z0.ndim == 1
    a, b = (z0[None], z1[None]) if single else (z0, z1)                # (N, J)
    dtype = a.dtype if a.dtype.kind == "f" else xp.float64
    a, b = a.astype(dtype), b.astype(dtype)
    t = xp.linspace(0, 1, int(steps), dtype=dtype)[None, :, None]     # (1, S, 1)
    a, b = a[:, None, :], b[:, None, :]                                # (N, 1, J)
    path = (1 - t) * a + t * b                                         # (N, S, J)
    if kind == "slerp":
        norms = xp.sqrt((a * a).sum(axis=2)) * xp.sqrt((b * b).sum(axis=2))     # (N, 1)
        if bool((norms == 0).any()):
            raise ValueError("interpolate: slerp needs nonzero codes (the angle to a zero vector is undefined)")
        cos = xp.clip((a * b).sum(axis=2) / norms, -1.0, 1.0)[..., None]        # (N, 1, 1)
        omega = xp.arccos(cos)
        sin = xp.sin(omega)
        curved = sin[:, 0, 0] > 1e-6                                            # (N,): not parallel
        safe = xp.where(sin > 1e-6, sin, 1.0)
        arc = (xp.sin((1 - t) * omega) * a + xp.sin(t * omega) * b) / safe     # (N, S, J)
        path = xp.where(curved[:, None, None], arc, path)
    return path[0] if single else path


def class_means(codes, labels, num_classes=None):
    """The mean code of each class: an array (C, J) whose row c is the mean of codes[labels == c].

    codes: (N, J); labels: integer classes (N,). ``num_classes`` defaults to
    max(labels) + 1; every class 0 ... C-1 needs at least one example.
    """
    _check_codes(codes, "class_means", "codes", batched=True)
    labels = checks.class_labels("class_means", labels, codes)
    xp = backend.get_array_module(codes)
    num_classes = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if int(labels.max()) >= num_classes:
        raise ValueError(f"class_means: labels go up to label {int(labels.max())} but num_classes={num_classes}")
    counts = xp.bincount(labels, minlength=num_classes)[:num_classes]
    empty = [c for c in range(num_classes) if int(counts[c]) == 0]
    if empty:
        raise ValueError(f"class_means: no example of class {empty} among the {len(labels)} labels")
    one_hot = (labels[None, :] == xp.arange(num_classes)[:, None]).astype(codes.dtype)   # (C, N)
    return one_hot @ codes / counts[:, None].astype(codes.dtype)                          # (C, J)


def attribute_vector(codes, labels, source, target):
    """The vector from class ``source`` to class ``target`` in code space: m_target - m_source, (J,).

    m_c is the mean of codes[labels == c]; codes (N, J), labels (N,).
    Adding it to the code of a source image moves that code by the average
    difference between the two classes.
    """
    _check_codes(codes, "attribute_vector", "codes", batched=True)
    labels = checks.class_labels("attribute_vector", labels, codes)
    means = []
    for name, c in (("source", source), ("target", target)):
        mask = labels == c
        if not bool(mask.any()):
            raise ValueError(f"attribute_vector: no example has the {name} label {c!r}")
        means.append(codes[mask].mean(axis=0))                          # (J,)
    return means[1] - means[0]


def step_lengths(path):
    """The pixel-space length of each step of a decoded path: |x_{s+1} - x_s|.

    path: (S, D) for one path of S images, or (N, S, D) for N paths.
    Returns (S - 1,) or (N, S - 1).
    """
    if not backend.is_array(path) or path.ndim not in (2, 3) or path.shape[-2] < 2:
        raise ValueError(f"step_lengths: expected a path (S, D) or paths (N, S, D) with S >= 2 images, got "
                         f"{getattr(path, 'shape', type(path).__name__)}")
    xp = backend.get_array_module(path)
    steps = path[..., 1:, :] - path[..., :-1, :]                        # (..., S-1, D)
    return xp.sqrt((steps * steps).sum(axis=-1))


def path_smoothness(path):
    """max_s d_s / mean_s d_s for the steps d_s of a decoded path (module docstring).

    1 when every step changes the image by the same amount; S - 1 when one
    step does all the changing. path: (S, D) -> a float, or (N, S, D) -> (N,).
    A path that does not move at all counts as perfectly even (1).
    """
    d = step_lengths(path)                                              # (..., S-1)
    xp = backend.get_array_module(d)
    mean = d.mean(axis=-1)
    ratio = d.max(axis=-1) / xp.where(mean > 0, mean, 1.0)
    ratio = xp.where(mean > 0, ratio, 1.0)
    return float(ratio) if path.ndim == 2 else ratio


def detour_ratio(path):
    """Path length over endpoint distance, sum_s d_s / |x_{S-1} - x_0| (>= 1; module docstring).

    path: (S, D) -> a float, or (N, S, D) -> (N,). Raises if the two ends are the same image.
    """
    d = step_lengths(path)                                              # (..., S-1)
    xp = backend.get_array_module(d)
    ends = path[..., -1, :] - path[..., 0, :]                           # (..., D)
    direct = xp.sqrt((ends * ends).sum(axis=-1))
    if bool((direct == 0).any()):
        raise ValueError("detour_ratio: a path starts and ends at the same image; its detour is undefined")
    ratio = d.sum(axis=-1) / direct
    return float(ratio) if path.ndim == 2 else ratio


def few_labels_split(labels, per_class, rng):
    """Indices of ``per_class`` examples of each class, drawn without repeats: the labelled set.

    labels: integer classes (N,), NumPy or CuPy; rng: a NumPy ``Generator``
    (e.g. ``numpy.random.default_rng(seed)``), so that a seed fixes the choice.
    Returns a NumPy int array (C * per_class,): the indices of class 0 first,
    then class 1, ...; each class's indices in the order they were drawn.
    """
    if not backend.is_array(labels) or labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) == 0:
        raise ValueError(f"few_labels_split: labels must be a non-empty 1-D integer array, got "
                         f"{getattr(labels, 'shape', type(labels).__name__)} {getattr(labels, 'dtype', '')}")
    if int(labels.min()) < 0:
        raise ValueError(f"few_labels_split: labels must be classes 0, 1, ..., got {int(labels.min())}")
    checks.positive_int("few_labels_split", "per_class", per_class)
    labels = backend.to_numpy(labels)
    chosen = []
    for c in range(int(labels.max()) + 1):
        members = (labels == c).nonzero()[0]
        if len(members) < per_class:
            raise ValueError(f"few_labels_split: class {c} has {len(members)} examples, fewer than "
                             f"per_class={per_class}")
        chosen.append(rng.choice(members, size=int(per_class), replace=False))
    return backend.get_array_module(*chosen).concatenate(chosen)


def _check_codes(z, name, what, batched=False):
    ok_dims = (2,) if batched else (1, 2)
    if not backend.is_array(z) or z.ndim not in ok_dims:
        expected = "(N, J)" if batched else "(J,) or (N, J)"
        raise ValueError(f"{name}: {what} must be an array of codes {expected}, got "
                         f"{getattr(z, 'shape', type(z).__name__)}")
    if batched and z.shape[0] == 0:
        raise ValueError(f"{name}: {what} has no rows (shape {z.shape})")
