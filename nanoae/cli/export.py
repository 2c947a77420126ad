"""``nanoae export``: write a checkpoint's model weights to a file of their own, for PyTorch and the
model hubs (``.safetensors``) or for nanoae (``.npz``); the ending of ``--to`` chooses the format::

    nanoae export runs/vae/checkpoint.npz --to vae.safetensors
    nanoae export runs/vae/checkpoint.npz --to vae.npz

What the files hold, and how to build the model from one again: :mod:`nanoae.export`.

An existing file is replaced only with ``--overwrite``.
"""
import argparse
import os

from nanoae import backend
from nanoae.checkpoint import model_from_checkpoint
from nanoae.cli.arguments import HelpFormatter
from nanoae.export import WRITERS, export_model


def add_parser(commands):
    export = commands.add_parser("export", help="write a checkpoint's model weights as .safetensors (or .npz)",
                                 formatter_class=HelpFormatter)
    export.add_argument("checkpoint", help="a checkpoint.npz written by nanoae train")
    export.add_argument("--to", required=True, type=export_path, metavar="FILE",
                        help="the file to write: NAME.safetensors (for PyTorch and the model hubs) or NAME.npz "
                             "(nanoae's own format)")
    export.add_argument("--overwrite", action="store_const", const=True, help="replace the file --to if it exists")
    export.set_defaults(run=run)


def export_path(text):
    """An argument type: a path whose ending names one of the formats in WRITERS."""
    if os.path.splitext(text)[1] not in WRITERS:
        raise argparse.ArgumentTypeError(f"{text!r} must end in {' or '.join(WRITERS)}, which chooses the format")
    return text


def run(args):
    if os.path.exists(args.to) and os.path.samefile(args.to, args.checkpoint):
        raise FileExistsError(f"{args.to} is the checkpoint itself; choose another --to")
    if os.path.exists(args.to) and not args.overwrite:
        raise FileExistsError(f"{args.to} already exists; replace it with --overwrite, or choose another --to")
    model, _ = model_from_checkpoint(args.checkpoint)
    if os.path.dirname(args.to):
        os.makedirs(os.path.dirname(args.to), exist_ok=True)
    export_model(model, args.to)
    print(f"wrote {args.to} ({len(model.state_dict())} tensors, {backend.readable_size(os.path.getsize(args.to))})")
    return 0

