"""``nanoae sample``: decode draws from a trained model's prior (a VAE's or an AAE's) into one PNG grid."""
import os

from nanoae import backend, plot
from nanoae.autograd import no_grad
from nanoae.checkpoint import model_from_checkpoint
from nanoae.cli.arguments import HelpFormatter, add_device, non_negative_int, positive

MAX_IMAGES = 10_000          # one PNG grid: 100 x 100 images is already 2800 x 2800 pixels


def add_parser(commands):
    sample = commands.add_parser("sample", help="decode samples from a trained model's prior (vae, aae)",
                                 formatter_class=HelpFormatter)
    sample.add_argument("checkpoint", help="a checkpoint.npz written by nanoae train vae (or aae)")
    sample.add_argument("--n", type=positive(int, at_most=MAX_IMAGES), default=100,
                        help=f"number of samples, at most {MAX_IMAGES}")
    sample.add_argument("--seed", type=non_negative_int, default=0, help="seeds the draws from the prior")
    add_device(sample)
    sample.add_argument("--out", default=None, help="PNG file, or a folder to write samples.png in "
                                                    "(default: samples.png beside the checkpoint)")
    sample.set_defaults(run=run)


def png_out(out, checkpoint, name):
    """Where a command writes its PNG: ``out`` (in it, if it is a folder), else beside the checkpoint."""
    if out is None:
        return os.path.join(os.path.dirname(checkpoint), name)
    return os.path.join(out, name) if os.path.isdir(out) else plot.png_path(out)


def run(args):
    model, _ = model_from_checkpoint(args.checkpoint, args.device)
    if not hasattr(model, "sample"):
        raise ValueError(f"a {type(model).name!r} model has no prior to sample from; sampling needs a vae or an aae")
    backend.manual_seed(args.seed)
    with no_grad():
        images = backend.to_numpy(model.eval().sample(args.n).data)
    out = png_out(args.out, args.checkpoint, "samples.png")
    print("wrote " + plot.image_grid(images, out, f"{args.n} samples from the prior {model.prior_description}"))
    return 0
