"""``nanoae reconstruct``: images beside a trained model's reconstructions, in one PNG."""
from nanoae import plot
from nanoae.checkpoint import model_from_checkpoint
from nanoae.cli.arguments import HelpFormatter, add_device, positive
from nanoae.cli.sample import MAX_IMAGES, png_out
from nanoae.data import DATASETS, load_dataset


def add_parser(commands):
    rec = commands.add_parser("reconstruct", help="draw images beside their reconstructions",
                              formatter_class=HelpFormatter)
    rec.add_argument("checkpoint", help="a checkpoint.npz written by nanoae train")
    rec.add_argument("--dataset", choices=DATASETS, default=None, help="default: the one the model was trained on")
    rec.add_argument("--split", choices=("train", "test"), default="test")
    rec.add_argument("--n", type=positive(int, at_most=MAX_IMAGES), default=20,
                     help=f"number of images, at most {MAX_IMAGES}")
    add_device(rec)
    rec.add_argument("--out", default=None, help="PNG file, or a folder to write reconstructions.png in "
                                                 "(default: reconstructions.png beside the checkpoint)")
    rec.set_defaults(run=run)


def run(args):
    model, state = model_from_checkpoint(args.checkpoint, args.device)
    dataset = load_dataset(args.dataset or state["meta"].get("dataset", "fontdigits"), args.split, limit=args.n)
    x = dataset.inputs()
    x_hat = plot.run_on_array(model.eval().reconstruct, x, model)
    out = png_out(args.out, args.checkpoint, "reconstructions.png")
    title = f"{dataset.name} {args.split} images (top) and their reconstructions (bottom)"
    print("wrote " + plot.reconstruction_grid(x, x_hat, out, title))
    return 0
