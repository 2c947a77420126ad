"""The ``nanoae`` command line (also ``python -m nanoae``), one file per command.

    nanoae train vae                         train a VAE on the embedded digits, figures in runs/vae
    nanoae train dae --noise 0.5 --epochs 20 a denoising autoencoder
    nanoae train vae --resume runs/vae/checkpoint.npz --epochs 20   continue a run
    nanoae train conv-ae --channels 16,32    a convolutional autoencoder
    nanoae train aae --prior mixture         an adversarial autoencoder, codes pushed to a ring of 10 Gaussians
    nanoae train ae --normal 0 --out runs/ae-normal0   train on class 0 only (the one-class setting)
    nanoae anomaly runs/ae-normal0/checkpoint.npz      score the test images, ROC and AUC against PCA
    nanoae sample runs/vae/checkpoint.npz    decode draws from the prior
    nanoae reconstruct runs/ae/checkpoint.npz
    nanoae export runs/vae/checkpoint.npz --to vae.safetensors   the weights, for PyTorch and the model hubs
    nanoae gradcheck                         check every op and loss against finite differences
    nanoae course build handout --edition student   the notebooks to hand out, without the answers

Every command has --help, which lists its options and their defaults. Every
error is one line that names its cause, and the exit code says how it went:
0 done, 1 an error, 2 a mistake on the command line, 130 interrupted.
"""
import sys

from nanoae.cli import anomaly, course, export, gradcheck, reconstruct, sample, train
from nanoae.cli.arguments import HelpFormatter, Parser

COMMANDS = (train, sample, reconstruct, anomaly, export, gradcheck, course)


def build_parser():
    parser = Parser(prog="nanoae", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (OSError, RuntimeError, ValueError, FloatingPointError, MemoryError) as e:
        # Missing files, no GPU, a bad checkpoint, a loss that became NaN, a model too large: one line.
        print(f"nanoae {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nanoae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
