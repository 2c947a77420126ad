"""nanoae.plot: the tiling every image figure uses, and the latent grid's two kinds of spacing."""
import numpy as np

from nanoae import plot


def test_tile_places_images_row_by_row_and_leaves_missing_tiles_without_ink():
    images = np.stack([np.full((4, 4), v) for v in (0.2, 0.4, 0.6)])      # three 4x4 images
    canvas = plot.tile(images, rows=2, cols=2)
    assert canvas.shape == (8, 8)
    assert canvas[0, 0] == np.float32(0.2) and canvas[0, 4] == np.float32(0.4) and canvas[4, 0] == np.float32(0.6)
    assert (canvas[4:, 4:] == 0).all()                                     # white under gray_r


def test_manifold_grid_uses_gaussian_quantiles_by_default_and_an_even_span_when_asked(tmp_path):
    seen = []

    def decode(z):
        seen.append(z)
        return np.zeros((len(z), 784), np.float32)

    plot.manifold_grid(decode, str(tmp_path / "q.png"), n=5)
    plot.manifold_grid(decode, str(tmp_path / "s.png"), n=5, span=5.0)
    quantiles, even = np.unique(seen[0][:, 0]), np.unique(seen[1][:, 0])
    np.testing.assert_allclose(quantiles, [-1.6449, -0.5978, 0, 0.5978, 1.6449], atol=1e-4)  # 5%, 27.5%, ..., 95%
    np.testing.assert_allclose(even, [-5, -2.5, 0, 2.5, 5])
    assert (tmp_path / "q.png").stat().st_size > 1000 and (tmp_path / "s.png").stat().st_size > 1000
