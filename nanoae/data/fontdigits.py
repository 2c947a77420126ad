"""fontdigits: MNIST-like digits drawn on the spot from the fonts matplotlib ships.

MNIST has to be downloaded; fontdigits needs nothing but nanoae's own
dependencies, so every example and test works offline. It has MNIST's format:
28x28 uint8 images, white digits on black, labels 0-9, 60,000 train and
10,000 test images, each digit's longer side about 20 px and its centre of
mass in the middle.

How an image is made:

1. Templates (once per process). Each digit of each font in ``FONTS`` is
   drawn large by FreeType (through matplotlib's ``FT2Font``), thickened,
   and blurred. Thickening every stroke by the same few pixels keeps the
   hairlines of fonts such as cmr10 from vanishing and makes the strokes
   look more like a pen's. The blur turns the sharp glyph into a smooth
   field that falls from 1 inside the strokes to 0 outside; cutting it at a
   low level gives thick strokes, at a higher level thin ones.
2. A random geometry per image. A 2x2 matrix ``A`` (rotation, shear,
   aspect) maps template coordinates, taken from the template's centre of
   mass, to the digit's shape; a scale makes the digit's longer side ``BOX``
   px; the centre of mass goes to the middle of the image (moved inwards if
   the digit would touch the edge); a smooth random displacement field
   (elastic distortion) bends it.
3. Sampling, backwards. For every output pixel ``p`` the code asks where it
   comes from in the template, ``u = A^-1 ((p + displacement - centre) / scale)
   + centre_of_mass``, and reads the template there with bilinear
   interpolation, for a whole chunk of images at once.
4. Ink. The field read is cut at a random level (stroke thickness), with a
   soft edge so strokes are anti-aliased, and gets a little multiplicative
   noise, so the background stays exactly 0 as in MNIST.

Reproducible in pieces: chunk ``i`` (``CHUNK`` images) of a split is drawn
from ``numpy.random.default_rng([seed, split_id, i])`` alone, so the first
``n`` images are the same whether 100 or all 60,000 are made, and a small
``limit`` only makes the chunks it needs. Full splits are cached as
``.npz`` under ``<data_home>/fontdigits``; the file name holds
``GENERATOR_VERSION`` and the seed, so a changed generator never reads an
old cache.
"""
import functools
import math
import warnings
from collections import namedtuple
from pathlib import Path

import matplotlib
import numpy
from matplotlib.ft2font import FT2Font
from tqdm.auto import tqdm

from nanoae.data.dataset import DIGITS, Dataset, data_home
from nanoae.serialization import load, save

# Bump when anything below changes the images, so old caches are not read.
# (The glyphs come from FreeType, so another matplotlib may shift a few pixel values.)
GENERATOR_VERSION = 1

# split -> (id in the seed, number of images)
SPLITS = {"train": (0, 60_000), "test": (1, 10_000)}
CHUNK = 1000

# matplotlib's fonts whose digits look like digits (cmmi10 has old-style
# figures, the Display and NonUnicode fonts have no digits at all).
FONTS = (
    "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
    "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique", "DejaVuSansMono-BoldOblique",
    "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
    "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta",
    "cmr10", "cmb10", "cmss10", "cmtt10", "cmti10",
)

SIZE = 28               # px, output images are SIZE x SIZE
TEMPLATE = 96           # px, each template is TEMPLATE x TEMPLATE
FONT_PX = 64            # px per em when drawing: digits come out about 45 px tall
THICKEN = 2             # px (template), added to every stroke on each side
BLUR = 2.0              # px (template), std of the Gaussian blur
OUTLINE_LEVEL = 0.4     # field level (mid-LEVEL) that counts as the digit when scaling it to BOX

ROTATION = 0.25         # radians, uniform in +-ROTATION (about 14 degrees)
SHEAR = (-0.4, 0.15)    # x += shear * y; y points down, so negative leans the digit forward
ASPECT = 0.15           # log of the width : height stretch, uniform in +-ASPECT
BOX = (18.0, 20.5)      # px, the digit's longer side (MNIST: 20)
SHIFT = 0.5             # px, std of the centre's distance from the middle of the image
MARGIN = 2.0            # px, the least room left between the (undistorted) digit and the edge
ELASTIC = 1.0           # px, std of the displacement at each knot of a coarse grid
KNOTS = 4               # knots per side of that grid; between knots it is interpolated
LEVEL = (0.25, 0.6)     # where the field is cut: low = thick strokes, high = thin ones
EDGE = 0.25             # field values over which the ink rises from 0 to 1 (soft edges)
INK = (0.9, 1.2)        # ink gain per image (values above 1 saturate at 255)
NOISE = 0.05            # std of the multiplicative ink noise per pixel

Templates = namedtuple("Templates", "fields centres outlines")


def _draw_glyph(font_path, char):
    """The glyph of ``char`` as a float32 array in [0, 1], cropped to its ink."""
    font = FT2Font(str(font_path))
    font.set_size(FONT_PX, 72)  # points at 72 dpi: FONT_PX pixels per em
    font.set_text(char)
    font.draw_glyphs_to_bitmap(antialiased=True)
    glyph = numpy.asarray(font.get_image(), dtype=numpy.float32) / 255
    rows, cols = numpy.nonzero(glyph)
    return glyph[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def _thicken(images, radius):
    """Each pixel becomes the largest value within ``radius`` of it (a dilation)."""
    thick = images.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy <= radius * radius:
                # roll wraps around the edges: harmless, the canvas has an empty margin
                thick = numpy.maximum(thick, numpy.roll(images, (dy, dx), axis=(1, 2)))
    return thick


def _blur(images, sigma):
    """Gaussian blur of a stack (T, H, W): one 1-D kernel along each axis."""
    radius = math.ceil(3 * sigma)
    taps = numpy.arange(-radius, radius + 1)
    kernel = numpy.exp(-0.5 * (taps / sigma) ** 2)
    kernel /= kernel.sum()
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = numpy.pad(images, pad)
        length = images.shape[axis]
        images = sum(w * padded.take(numpy.arange(i, i + length), axis=axis) for i, w in enumerate(kernel))
    return images.astype(numpy.float32)


def _row_ends(mask):
    """(2 * rows, 2) x, y of the first and last pixel of each row of ``mask``.

    A linear function along a row is largest and smallest at the row's ends,
    so these points alone give the exact extent of the digit after any
    linear map, at a fraction of the cost of all its pixels.
    """
    rows = numpy.arange(mask.shape[0])
    first = mask.argmax(1)
    last = mask.shape[1] - 1 - mask[:, ::-1].argmax(1)
    inked = mask.any(1)
    ends = numpy.concatenate([numpy.stack([first, rows], 1)[inked], numpy.stack([last, rows], 1)[inked]])
    return numpy.resize(ends, (2 * mask.shape[0], 2))  # pad by repetition to one length for all


@functools.lru_cache(maxsize=1)
def templates():
    """The blurred glyphs, drawn once per process.

    ``fields`` (T, TEMPLATE, TEMPLATE) float32, template ``t`` is digit
    ``t % 10`` of font ``FONTS[t // 10]``; ``centres`` (T, 2) the x, y of
    each centre of mass; ``outlines`` (T, P, 2) points giving each digit's
    extent, relative to its centre of mass.
    """
    font_dir = Path(matplotlib.get_data_path(), "fonts", "ttf")
    canvas = numpy.zeros((len(FONTS) * 10, TEMPLATE, TEMPLATE), numpy.float32)
    for t in range(len(canvas)):
        glyph = _draw_glyph(font_dir / f"{FONTS[t // 10]}.ttf", str(t % 10))
        height, width = glyph.shape
        top, left = (TEMPLATE - height) // 2, (TEMPLATE - width) // 2
        canvas[t, top:top + height, left:left + width] = glyph
    fields = _blur(_thicken(canvas, THICKEN), BLUR)
    y, x = numpy.mgrid[0:TEMPLATE, 0:TEMPLATE]
    mass = fields.sum((1, 2))
    centres = numpy.stack([(fields * x).sum((1, 2)) / mass, (fields * y).sum((1, 2)) / mass], 1)
    outlines = numpy.stack([_row_ends(f > OUTLINE_LEVEL) for f in fields]) - centres[:, None, :]
    return Templates(fields, centres.astype(numpy.float32), outlines.astype(numpy.float32))


def bilinear(stack, index, x, y):
    """Read image ``stack[index[i]]`` at the points ``(x[i, j], y[i, j])``.

    stack (T, H, W); index (n,); x, y (n, m) in pixels, x along columns.
    Each value mixes the four pixels around the point, weighted by how close
    it lies to each. Points outside the image read its border, which is 0
    for the templates.
    """
    _, height, width = stack.shape
    x = numpy.clip(x, 0, width - 1)
    y = numpy.clip(y, 0, height - 1)
    # The pixel to the upper left; on the last column or row, the one before
    # it, so that the four pixels always exist (the weight of the far ones is 0).
    x0 = numpy.minimum(x.astype(numpy.int64), width - 2)  # int64 rounds down, as x >= 0
    y0 = numpy.minimum(y.astype(numpy.int64), height - 2)
    fx, fy = x - x0, y - y0
    flat = stack.reshape(-1)
    top_left = (index[:, None] * height + y0) * width + x0  # (n, m) positions in flat
    top = flat.take(top_left) * (1 - fx) + flat.take(top_left + 1) * fx
    bottom = flat.take(top_left + width) * (1 - fx) + flat.take(top_left + width + 1) * fx
    return top * (1 - fy) + bottom * fy


def _linear_interpolation_matrix(n_out, n_in):
    """(n_out, n_in) weights that linearly interpolate n_in evenly spread knots at n_out points."""
    position = numpy.linspace(0, n_in - 1, n_out)
    return numpy.maximum(0, 1 - abs(position[:, None] - numpy.arange(n_in))).astype(numpy.float32)


_UPSAMPLE = _linear_interpolation_matrix(SIZE, KNOTS)     # (SIZE, KNOTS)
_GRID_Y, _GRID_X = numpy.mgrid[0:SIZE, 0:SIZE].reshape(2, -1).astype(numpy.float32)  # (SIZE*SIZE,) each


def _random_shapes(rng, n):
    """(n, 2, 2) matrices: rotation @ shear @ stretch, acting on (x, y) columns."""
    angle = rng.uniform(-ROTATION, ROTATION, n)
    shear = rng.uniform(*SHEAR, n)
    stretch = numpy.exp(rng.uniform(-ASPECT, ASPECT, n))
    cos, sin, zero, one = numpy.cos(angle), numpy.sin(angle), numpy.zeros(n), numpy.ones(n)
    rotation = numpy.stack([cos, -sin, sin, cos], 1).reshape(n, 2, 2)
    shearing = numpy.stack([one, shear, zero, one], 1).reshape(n, 2, 2)
    stretching = numpy.stack([stretch, zero, zero, 1 / stretch], 1).reshape(n, 2, 2)
    return rotation @ shearing @ stretching


def make_chunk(rng, n=CHUNK):
    """``n`` new examples: images (n, SIZE, SIZE) uint8 and labels (n,) int64.

    Each label occurs ``n // 10`` times when 10 divides ``n`` (in random order).
    """
    tmpl = templates()
    labels = rng.permutation(numpy.arange(n) % 10)
    template = rng.integers(len(FONTS), size=n) * 10 + labels                   # (n,)
    shape = _random_shapes(rng, n)                                               # (n, 2, 2)

    # Scale the digit, as it is once shaped, to a longer side of BOX px.
    outline = tmpl.outlines[template] @ shape.transpose(0, 2, 1)                # (n, P, 2)
    extent = (outline.max(1) - outline.min(1)).max(1)                           # (n,)
    scale = (rng.uniform(*BOX, n) / extent).astype(numpy.float32)[:, None]      # (n, 1)
    centre = (SIZE - 1) / 2 + rng.normal(0, SHIFT, (n, 2))                      # (n, 2) x, y
    # A lopsided digit centred by its mass can stick out of the image: push it back in.
    low = centre + scale * outline.min(1)
    high = centre + scale * outline.max(1)
    centre += numpy.maximum(MARGIN - low, 0) - numpy.maximum(high - (SIZE - 1 - MARGIN), 0)
    centre = centre.astype(numpy.float32)
    knots = rng.normal(0, ELASTIC, (n, 2, KNOTS, KNOTS)).astype(numpy.float32)
    displacement = (_UPSAMPLE @ knots @ _UPSAMPLE.T).reshape(n, 2, SIZE * SIZE)  # smooth, in px

    # Backwards: for every output pixel, the point of the template it shows.
    x = (_GRID_X + displacement[:, 0] - centre[:, :1]) / scale                  # (n, SIZE*SIZE)
    y = (_GRID_Y + displacement[:, 1] - centre[:, 1:]) / scale
    inverse = numpy.linalg.inv(shape).astype(numpy.float32)                     # (n, 2, 2)
    template_x = inverse[:, 0, :1] * x + inverse[:, 0, 1:] * y + tmpl.centres[template, :1]
    template_y = inverse[:, 1, :1] * x + inverse[:, 1, 1:] * y + tmpl.centres[template, 1:]
    field = bilinear(tmpl.fields, template, template_x, template_y)             # (n, SIZE*SIZE)

    level = rng.uniform(*LEVEL, (n, 1)).astype(numpy.float32)
    ink = numpy.clip((field - level) / EDGE, 0, 1)
    ink *= rng.uniform(*INK, (n, 1)) + rng.normal(0, NOISE, ink.shape)
    images = numpy.round(numpy.clip(ink, 0, 1) * 255).astype(numpy.uint8)
    return images.reshape(n, SIZE, SIZE), labels.astype(numpy.int64)


def generate(split, n, seed=0, progress=False):
    """The first ``n`` images and labels of ``split``, made chunk by chunk."""
    split_id, _ = SPLITS[split]
    chunks = range(math.ceil(n / CHUNK))
    if progress:
        chunks = tqdm(chunks, desc=f"making fontdigits {split}", unit="chunk", leave=False)
    made = [make_chunk(numpy.random.default_rng([seed, split_id, i])) for i in chunks]
    images = numpy.concatenate([images for images, _ in made])[:n]
    labels = numpy.concatenate([labels for _, labels in made])[:n]
    return images, labels


def cache_path(split, seed=0, root=None):
    """Where the full ``split`` is cached: the generator version and seed are in the name."""
    return data_home(root) / "fontdigits" / f"fontdigits-v{GENERATOR_VERSION}-seed{seed}-{split}.npz"


def _read_cache(path, size):
    """The cached (images, labels), or None (with a warning) if the file is damaged."""
    try:
        cached = load(path)
        images, labels = cached["images"], cached["labels"]
        if images.shape != (size, SIZE, SIZE) or images.dtype != numpy.uint8 or labels.shape != (size,):
            raise ValueError(f"unexpected arrays {images.dtype} {images.shape} and {labels.shape}")
    except (OSError, ValueError, KeyError) as e:
        warnings.warn(f"fontdigits: the cache {path} is damaged ({e}); making the images again",
                      stacklevel=3)
        return None
    return images, labels


def load_fontdigits(split="train", limit=None, root=None, seed=0):
    """The fontdigits ``split`` ("train" or "test"), its first ``limit`` images if given.

    A full split is read from the cache, or made (seconds) and cached; a
    smaller ``limit`` reads a slice of the cache if there is one and
    otherwise makes only the chunks it needs, without caching them.
    """
    _, size = SPLITS[split]
    n = size if limit is None else min(limit, size)
    path = cache_path(split, seed, root)
    cached = _read_cache(path, size) if path.exists() else None
    if cached is not None:
        images, labels = cached[0][:n], cached[1][:n]
    elif n < size:
        images, labels = generate(split, n, seed)
    else:
        images, labels = generate(split, n, seed, progress=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save({"images": images, "labels": labels}, path)
        except OSError as e:  # e.g. a read-only home: the data is still good, only not kept
            warnings.warn(f"fontdigits: could not write the cache {path} ({e})", stacklevel=2)
    return Dataset("fontdigits", split, images, labels, list(DIGITS))
