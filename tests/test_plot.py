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


def test_latent_scatter_draws_a_1d_code_as_a_strip_and_a_single_image(tmp_path):
    """Cases that raised IndexError: a 1-D code (--latent 1), one test image (--limit 1), one class."""
    labels = np.array([3, 3, 5, 5, 5])
    written = [plot.latent_scatter(np.linspace(-1, 1, 5)[:, None], labels, str(tmp_path / "strip.png")),
               plot.latent_scatter(np.ones((1, 20)), np.array([7]), str(tmp_path / "one.png")),
               plot.latent_scatter(np.random.default_rng(0).normal(size=(6, 4)), np.zeros(6, int),
                                   str(tmp_path / "one-class.png"))]
    assert all((tmp_path / name).stat().st_size > 1000 for name in ("strip.png", "one.png", "one-class.png"))
    assert written[0] == str(tmp_path / "strip.png")


def test_pca_2d_pads_a_single_example_with_zeros():
    np.testing.assert_array_equal(plot.pca_2d(np.arange(5.0)[None, :]), [[0.0, 0.0]])


def test_a_path_without_extension_gets_png_and_the_path_written_is_returned(tmp_path):
    path = plot.image_grid(np.zeros((3, 784)), str(tmp_path / "samples"), "three blank images")
    assert path == str(tmp_path / "samples.png") and (tmp_path / "samples.png").exists()


class Broken:
    """A stand-in model whose code cannot be computed: the latent figure fails, the others must not."""

    def __init__(self):
        self.device = "cpu"

    def eval(self):
        return self

    def train(self):
        return self

    def reconstruct(self, x):
        return x

    def code(self, x):
        raise RuntimeError("no code today")


def test_a_failing_figure_is_skipped_with_a_note_and_the_others_are_written(tmp_path):
    x = np.random.default_rng(1).random((4, 784)).astype(np.float32)
    written, skipped = plot.save_figures(Broken(), x, np.arange(4), [{"epoch": 1, "train_total": 1.0,
                                                                       "seconds": 0.1}], str(tmp_path))
    assert [p.rsplit("/", 1)[-1] for p in written] == ["reconstructions.png", "loss.png"]
    assert skipped == ["latent.png: RuntimeError: no code today"]


def test_a_model_with_codes_gets_its_code_usage_figure_counted_over_every_test_image(tmp_path, monkeypatch):
    from nanoae.models import VQVAE, VQVAEConfig
    model = VQVAE(VQVAEConfig(channels=(4, 8), embedding_dim=3, codebook_size=8))
    x = np.random.default_rng(1).random((1100, 784)).astype(np.float32)
    counted = {}
    monkeypatch.setattr(plot, "code_usage", lambda counts, path, title: counted.update(counts=counts) or path)
    written, skipped = plot.save_figures(model, x, np.zeros(1100, dtype=int), [], str(tmp_path))
    assert not skipped and str(tmp_path / "code_usage.png") in written
    assert counted["counts"].sum() == 1100 * 49                        # every place of every image, in 2 batches
    np.testing.assert_array_equal(counted["counts"], np.bincount(
        plot.run_on_array(model.codes, x, model).reshape(-1), minlength=8))


def test_code_usage_draws_and_names_the_dead_codes(tmp_path):
    path = plot.code_usage(np.array([5, 0, 3, 0, 2, 0, 0, 0]), tmp_path / "usage", "Usage")
    assert path.endswith("usage.png") and (tmp_path / "usage.png").stat().st_size > 0
