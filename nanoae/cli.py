"""The ``nanoae`` command line (also ``python -m nanoae``).

    nanoae train vae                         train a VAE on the embedded digits, figures in runs/vae
    nanoae train dae --noise 0.5 --epochs 20 a denoising autoencoder
    nanoae train vae --resume runs/vae/checkpoint.npz --epochs 20   continue a run
    nanoae train conv-ae --channels 16,32    a convolutional autoencoder
    nanoae train aae --prior mixture         an adversarial autoencoder, codes pushed to a ring of 10 Gaussians
    nanoae train ae --normal 0 --out runs/ae-normal0   train on class 0 only (the one-class setting)
    nanoae anomaly runs/ae-normal0/checkpoint.npz      score the test images, ROC and AUC against PCA
    nanoae sample runs/vae/checkpoint.npz    decode draws from the prior
    nanoae reconstruct runs/ae/checkpoint.npz
    nanoae gradcheck                         check every op and loss against finite differences

Every command has --help, which lists its options and their defaults.
"""
import argparse
import dataclasses
import os
import sys
import time

from nanoae import backend, plot
from nanoae.analysis import anomaly, metrics
from nanoae.autograd import no_grad
from nanoae.checkpoint import CHECKPOINT, HISTORY_FILES, load_checkpoint, model_from_checkpoint
from nanoae.data import DATASETS, load_dataset
from nanoae.gradcheck import GradcheckError, gradcheck
from nanoae.gradcheck_cases import CASES, make_inputs
from nanoae.models import MODELS, build_model
from nanoae.models.aae import PRIORS
from nanoae.models.denoising import NOISES
from nanoae.train import TrainConfig, fit

# The models `nanoae train` offers: those that read flat images, as every dataset here holds.
IMAGE_MODELS = sorted(name for name, cls in MODELS.items() if cls.input_kind == "images")


# --- argument types ------------------------------------------------------------------

def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def layer_sizes(text):
    """'400' -> (400,); '512,256' -> (512, 256); '' -> () (no hidden layer)."""
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of layer sizes") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be positive")
    return sizes


def class_list(text):
    """'3' -> [3]; '3,5' -> [3, 5]: class labels."""
    try:
        classes = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of class labels") from None
    if not classes or classes[0] < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: class labels are integers 0, 1, 2, ...")
    return classes


def fraction(text):
    value = positive(float)(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be below 1")
    return value


# --- the options that set a model's config: one table ------------------------------

def dest(flag):
    """The attribute argparse stores an option under: "--noise-type" -> "noise_type"."""
    return flag.lstrip("-").replace("-", "_")


@dataclasses.dataclass(frozen=True)
class ModelOption:
    """An option of `nanoae train` that sets a field of the model's config.

    ``fields``: the config fields it sets, in whichever model has them (--beta
    is the VAE's and the sparse autoencoder's beta, the contractive one's lam).
    An option given for a model that has none of them is an error.
    """
    flag: str
    fields: tuple
    type: object
    help: str
    choices: tuple = None

    @property
    def dest(self):
        return dest(self.flag)


MODEL_OPTIONS = (
    ModelOption("--latent", ("latent_dim",), positive(int), "code size (default: the model's, 20 for vae)"),
    ModelOption("--hidden", ("hidden",), layer_sizes,
                "hidden layer sizes, e.g. 400 or 512,256 (default: the model's, 400)"),
    ModelOption("--beta", ("beta", "lam"), positive(float),
                "weight of the regularizer: KL for vae and sparse, the Jacobian penalty for cae (default: the model's)"),
    ModelOption("--channels", ("channels",), layer_sizes,
                "conv-ae: output channels of the encoder's stride-2 convolutions, e.g. 16,32 (default: 16,32)"),
    ModelOption("--prior", ("prior",), str, "aae: the prior the codes are pushed toward, N(0, I) or a ring of "
                "Gaussians (default: gaussian)", PRIORS),
    ModelOption("--noise", ("noise_level",), fraction, "corruption level for dae (default: 0.3)"),
    ModelOption("--noise-type", ("noise",), str, "corruption for dae (default: gaussian)", NOISES),
)

# Options that choose the data; a resumed run keeps its checkpoint's, so these cannot change it either.
DATA_OPTIONS = ("--limit", "--normal")


# --- nanoae train ------------------------------------------------------------------

def model_config_from_args(args):
    """The model's default config, changed where an option of :data:`MODEL_OPTIONS` was given."""
    cls = MODELS[args.model].config_class
    fields = {f.name for f in dataclasses.fields(cls)}
    changes = {}
    for option in MODEL_OPTIONS:
        value = getattr(args, option.dest)
        if value is None:
            continue
        applies = [name for name in option.fields if name in fields]
        if not applies:
            raise ValueError(f"{option.flag} does not apply to the {args.model!r} model")
        changes.update({name: value for name in applies})
    return cls(**changes)


def options_given(args, flags):
    """The flags among ``flags`` that were given on the command line."""
    return [flag for flag in flags if getattr(args, dest(flag)) is not None]


def load_splits(name, limit):
    """Train and test sets of a dataset, both cut to ``limit`` examples when it is given."""
    return load_dataset(name, "train", limit=limit), load_dataset(name, "test", limit=limit)


def run_train(args):
    if args.resume:
        ignored = options_given(args, [option.flag for option in MODEL_OPTIONS] + list(DATA_OPTIONS))
        if ignored:
            raise ValueError(f"{', '.join(ignored)} cannot change a run that is resumed: the model and the "
                             "data and the training settings come from the checkpoint (only --epochs and --out apply)")
        state = load_checkpoint(args.resume)
        if state["model_name"] != args.model:
            raise ValueError(f"{args.resume} holds a {state['model_name']!r} model, not {args.model!r}")
        model_config = MODELS[args.model].config_class(**state["model_config"])
        config = TrainConfig(**{**state["train_config"], "epochs": args.epochs or state["train_config"]["epochs"]})
        meta = state["meta"]
        out = args.out or os.path.dirname(args.resume) or "."
    else:
        model_config = model_config_from_args(args)
        config = TrainConfig(epochs=args.epochs or 10, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             device=args.device)
        meta = {"dataset": args.dataset, "limit": args.limit, "normal": args.normal}
        out = args.out or os.path.join("runs", args.model)
    train_set, test_set = load_splits(meta["dataset"], meta["limit"])
    normal = meta.get("normal")                        # the one-class setting: train and test on these classes
    if normal is not None:
        train_set, test_set = train_set.only_classes(normal), test_set.only_classes(normal)
    train_x, test_x, test_labels = train_set.inputs(), test_set.inputs(), test_set.labels
    model = build_model(args.model, model_config, seed=config.seed)
    print(f"{args.model}: {type(model).__name__}({model_config}) on {meta['dataset']} "
          f"{'' if normal is None else f'classes {normal} '}({len(train_x)} train / {len(test_x)} test images), "
          f"{config.device}; writing to {out}")
    history = fit(model, train_x, test_x, config, out=out, resume=args.resume, progress=not args.quiet, meta=meta)
    if not history:
        print(f"nothing to do: the checkpoint is already at epoch {config.epochs}")
        return 0
    figures = plot.save_figures(model, test_x, test_labels, history, out, test_set.classes)
    last = history[-1]
    print(f"done: epoch {last['epoch']}, test loss {last.get('test_total', float('nan')):.4g} per image")
    print("wrote " + ", ".join(os.path.join(out, name) for name in (CHECKPOINT, *HISTORY_FILES)) + ", "
          + ", ".join(figures))
    return 0


# --- nanoae sample / reconstruct -----------------------------------------------------

def run_sample(args):
    model, _ = model_from_checkpoint(args.checkpoint, args.device)
    if not hasattr(model, "sample"):
        raise ValueError(f"a {type(model).name!r} model has no prior to sample from; sampling needs a vae or an aae")
    backend.manual_seed(args.seed)
    with no_grad():
        images = backend.to_numpy(model.eval().sample(args.n).data)
    out = args.out or os.path.join(os.path.dirname(args.checkpoint), "samples.png")
    print("wrote " + plot.image_grid(images, out, f"{args.n} samples from the prior {model.prior_description}"))
    return 0


def run_reconstruct(args):
    model, state = model_from_checkpoint(args.checkpoint, args.device)
    dataset = load_dataset(args.dataset or state["meta"].get("dataset", "fontdigits"), args.split, limit=args.n)
    x = dataset.inputs()
    x_hat = plot.run_on_array(model.eval().reconstruct, x, model)
    out = args.out or os.path.join(os.path.dirname(args.checkpoint), "reconstructions.png")
    title = f"{dataset.name} {args.split} images (top) and their reconstructions (bottom)"
    print("wrote " + plot.reconstruction_grid(x, x_hat, out, title))
    return 0


# --- nanoae anomaly --------------------------------------------------------------------

def run_anomaly(args):
    """Score every test image, normal classes against the rest: the model's ROC and AUC beside PCA's."""
    model, state = model_from_checkpoint(args.checkpoint, args.device)
    meta = state["meta"]
    normal = args.normal or meta.get("normal")
    if not normal:
        raise ValueError(f"{args.checkpoint} was not trained on chosen classes (nanoae train --normal); "
                         "say which classes are normal with --normal")
    name, limit = args.dataset or meta.get("dataset", "fontdigits"), args.limit or meta.get("limit")
    train_set, test_set = load_splits(name, limit)
    split = anomaly.one_class_split(train_set.inputs(), train_set.labels, test_set.inputs(), test_set.labels, normal)
    score_name, scores = anomaly.model_score(model, split.test_x)
    k = model.config.latent_dim
    pca_scores = anomaly.pca_reconstruction_error(split.train_x, split.test_x, k)
    curves = {f"{type(model).name} ({score_name})": scores, f"PCA, {k} components (baseline)": pca_scores}
    print(f"{name} test images: {int((split.test_is_anomaly == 0).sum())} normal (classes {normal}), "
          f"{int(split.test_is_anomaly.sum())} anomalies")
    rocs = {}
    for label, s in curves.items():
        auc = metrics.roc_auc(s, split.test_is_anomaly)
        print(f"  AUC {auc:.4f}  {label}")
        rocs[f"{label}: AUC {auc:.3f}"] = metrics.roc_curve(s, split.test_is_anomaly)[:2]
    out = args.out or os.path.join(os.path.dirname(args.checkpoint), "roc.png")
    print("wrote " + plot.roc_curves(rocs, out, f"Normal: classes {normal} of {name}; the rest are anomalies"))
    return 0


# --- nanoae gradcheck ----------------------------------------------------------------

def run_gradcheck(args):
    xp = backend.array_module_for("gpu" if args.backend == "cupy" else "cpu")
    failures = 0
    width = max(len(case.name) for case in CASES)
    print(f"{'op':<{width}}  {'inputs':<28}  result")
    print(f"{'-' * width}  {'-' * 28}  ------")
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        inputs = [xp.asarray(a) for a in make_inputs(case, seed=args.seed)]
        shapes = " ".join("x".join(map(str, shape)) or "()" for shape, _ in case.inputs)
        start = time.perf_counter()
        try:
            gradcheck(case.fn, inputs, seed=args.seed)
            result = f"ok ({(time.perf_counter() - start) * 1000:.0f} ms)"
        except GradcheckError as e:
            failures += 1
            result = f"FAILED: {e}"
        print(f"{case.name:<{width}}  {shapes:<28}  {result}")
    print(f"\n{failures} failed" if failures else "\nall passed")
    return 1 if failures else 0


# --- the parser ----------------------------------------------------------------------

class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: ...)" to an option's help, unless the help already says it or there is none."""

    def _get_help_string(self, action):
        if "default" in (action.help or "") or action.default is None or action.default is False \
                or action.default == argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, pointing to --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_device(parser):
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="gpu needs CuPy")


def add_train(commands):
    train = commands.add_parser("train", help="train an autoencoder; write a checkpoint, its history and figures",
                                formatter_class=HelpFormatter)
    train.add_argument("model", choices=IMAGE_MODELS,
                       help=", ".join(f"{name}: {MODELS[name].__name__}" for name in IMAGE_MODELS))
    train.add_argument("--dataset", choices=DATASETS, default="fontdigits",
                       help="fontdigits is embedded (no download); mnist and fashion-mnist are looked for on disk "
                            "and downloaded if missing")
    train.add_argument("--epochs", type=positive(int), default=None,
                       help="train up to this epoch (default: 10; with --resume, the checkpoint's setting)")
    train.add_argument("--batch-size", type=positive(int), default=128, help="examples per training step")
    train.add_argument("--lr", type=positive(float), default=1e-3, help="Adam's learning rate")
    for option in MODEL_OPTIONS:
        train.add_argument(option.flag, type=option.type, choices=option.choices, default=None, help=option.help)
    train.add_argument("--normal", type=class_list, default=None,
                       help="train (and report the test loss) on these classes only, e.g. 0 or 3,5: the one-class "
                            "setting of anomaly detection (then: nanoae anomaly CHECKPOINT)")
    train.add_argument("--seed", type=int, default=0, help="seeds the weights, the batch order and the noise")
    add_device(train)
    train.add_argument("--limit", type=positive(int), default=None,
                       help="use only the first N train and N test images (quick runs)")
    train.add_argument("--out", default=None, help="output folder (default: runs/MODEL)")
    train.add_argument("--resume", default=None, metavar="CHECKPOINT",
                       help="continue from a checkpoint.npz with its model, data and settings "
                            "(only --epochs and --out apply)")
    train.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    train.set_defaults(run=run_train)


def add_sample(commands):
    sample = commands.add_parser("sample", help="decode samples from a trained model's prior (vae, aae)",
                                 formatter_class=HelpFormatter)
    sample.add_argument("checkpoint", help="a checkpoint.npz written by nanoae train vae (or aae)")
    sample.add_argument("--n", type=positive(int), default=100, help="number of samples")
    sample.add_argument("--seed", type=int, default=0, help="seeds the draws from the prior")
    add_device(sample)
    sample.add_argument("--out", default=None, help="PNG file (default: samples.png beside the checkpoint)")
    sample.set_defaults(run=run_sample)


def add_reconstruct(commands):
    rec = commands.add_parser("reconstruct", help="draw images beside their reconstructions",
                              formatter_class=HelpFormatter)
    rec.add_argument("checkpoint", help="a checkpoint.npz written by nanoae train")
    rec.add_argument("--dataset", choices=DATASETS, default=None, help="default: the one the model was trained on")
    rec.add_argument("--split", choices=("train", "test"), default="test")
    rec.add_argument("--n", type=positive(int), default=20, help="number of images")
    add_device(rec)
    rec.add_argument("--out", default=None, help="PNG file (default: reconstructions.png beside the checkpoint)")
    rec.set_defaults(run=run_reconstruct)


def add_anomaly(commands):
    detect = commands.add_parser("anomaly", help="score test images by a model's reconstruction error (-ELBO for "
                                 "a vae): ROC and AUC, beside PCA's", formatter_class=HelpFormatter)
    detect.add_argument("checkpoint", help="a checkpoint.npz written by nanoae train --normal ...")
    detect.add_argument("--normal", type=class_list, default=None,
                        help="the normal classes (default: those the model was trained on)")
    detect.add_argument("--dataset", choices=DATASETS, default=None, help="default: the one the model was trained on")
    detect.add_argument("--limit", type=positive(int), default=None,
                        help="use only the first N train and N test images (default: as in training)")
    add_device(detect)
    detect.add_argument("--out", default=None, help="PNG file (default: roc.png beside the checkpoint)")
    detect.set_defaults(run=run_anomaly)


def add_gradcheck(commands):
    check = commands.add_parser("gradcheck", help="check every op and loss with finite differences",
                                formatter_class=HelpFormatter)
    check.add_argument("--backend", choices=["numpy", "cupy"], default="numpy", help="array backend")
    check.add_argument("--seed", type=int, default=0, help="seed for inputs and upstream gradients")
    check.add_argument("--only", default="", help="check only ops whose name contains this text")
    check.set_defaults(run=run_gradcheck)


def build_parser():
    parser = Parser(prog="nanoae", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for add in (add_train, add_sample, add_reconstruct, add_anomaly, add_gradcheck):
        add(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (OSError, RuntimeError, ValueError, FloatingPointError) as e:
        # Missing files, no GPU, a bad checkpoint, a loss that became NaN: one line, no traceback.
        print(f"nanoae {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nanoae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
