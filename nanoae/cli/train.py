"""``nanoae train``: train a model on images, write its run folder, draw its figures.

A fresh run never overwrites an earlier one (:mod:`nanoae.runs`): without
``--out`` it goes to ``runs/MODEL``, or ``runs/MODEL-2``, ``-3``, ... if that
holds a run; an ``--out`` that holds a run is refused unless ``--overwrite``.

``--resume CHECKPOINT`` continues a run. Every option has one rule there
(:data:`HONOURED_ON_RESUME`, :data:`REFUSED_ON_RESUME`): options that change
how the run goes on from the checkpoint's epoch are honoured, and each change
is printed; options that would make it a different run are refused, naming
them. A resume with no epoch left to train writes nothing.
"""
import contextlib
import dataclasses
import os
import warnings

from nanoae import plot, runs
from nanoae.cli import skipgram
from nanoae.checkpoint import CHECKPOINT, HISTORY_FILES, CheckpointError, load_checkpoint
from nanoae.cli.arguments import (HelpFormatter, add_device, class_list, dest, fraction, layer_sizes,
                                      non_negative_int, options_given, positive)
from nanoae.data import DATASETS, load_splits
from nanoae.models import MODELS, build_model
from nanoae.models.aae import PRIORS
from nanoae.models.denoising import NOISES
from nanoae.train import TrainConfig, fit

# The models `nanoae train` offers: those that read flat images, as every dataset here holds.
IMAGE_MODELS = sorted(name for name, cls in MODELS.items() if cls.input_kind == "images")
DEFAULT_DATASET = "fontdigits"


# --- the options that set a model's config: one table ------------------------------

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


MODEL_OPTIONS = (
    ModelOption("--latent", ("latent_dim",), positive(int), "code size (default: the model's, 20 for vae)"),
    ModelOption("--hidden", ("hidden",), layer_sizes,
                "hidden layer sizes, e.g. 400 or 512,256 (default: the model's, 400)"),
    ModelOption("--beta", ("beta", "lam"), positive(float),
                "weight of the regularizer: KL for vae and sparse, the Jacobian penalty for cae, the commitment "
                "term for vq-vae (default: the model's)"),
    ModelOption("--channels", ("channels",), layer_sizes,
                "conv-ae, vq-vae: output channels of the encoder's stride-2 convolutions, e.g. 16,32 "
                "(default: 16,32 for conv-ae, 32,64 for vq-vae)"),
    ModelOption("--codebook-size", ("codebook_size",), positive(int),
                "vq-vae: K, the vectors of the codebook (default: 512)"),
    ModelOption("--embedding-dim", ("embedding_dim",), positive(int),
                "vq-vae: D, numbers per codebook vector (default: 16)"),
    ModelOption("--codebook-update", ("codebook_update",), str,
                "vq-vae: the codebook learns by its loss term or by moving averages (default: loss)", ("loss", "ema")),
    ModelOption("--restart-after", ("restart_after",), non_negative_int,
                "vq-vae: restart a code no training vector chose for this many steps; 0: never (default: 100)"),
    ModelOption("--prior", ("prior",), str, "aae: the prior the codes are pushed toward, N(0, I) or a ring of "
                "Gaussians (default: gaussian)", PRIORS),
    ModelOption("--noise", ("noise_level",), fraction, "corruption level for dae (default: 0.3)"),
    ModelOption("--noise-type", ("noise",), str, "corruption for dae (default: gaussian)", NOISES),
)

# What --resume does with every other option of `nanoae train` (a test checks that each has a rule).
# Honoured: it changes how the run goes on from the checkpoint's epoch; the change is printed.
HONOURED_ON_RESUME = ("--epochs", "--out", "--device", "--lr", "--batch-size", "--quiet")
# The options of skip-gram alone (nanoae/cli/skipgram.py): an image model refuses them, resumed or not.
SKIPGRAM_ONLY = ("--corpus", *skipgram.OPTIONS, "--dense")
# Refused: it would make another run (other data, model or noise); start a new run for that.
REFUSED_ON_RESUME = ("--dataset", "--seed", "--limit", "--normal", "--overwrite",
                     *(option.flag for option in MODEL_OPTIONS), *SKIPGRAM_ONLY)
# The TrainConfig fields that options set, by option.
TRAIN_CONFIG_OPTIONS = {"--epochs": "epochs", "--lr": "lr", "--batch-size": "batch_size", "--seed": "seed",
                        "--device": "device"}


def add_parser(commands):
    defaults = TrainConfig()
    train = commands.add_parser("train", help="train an autoencoder; write a checkpoint, its history and figures",
                                formatter_class=HelpFormatter)
    train.add_argument("model", choices=IMAGE_MODELS + ["skipgram"],
                       help=", ".join(f"{name}: {MODELS[name].__name__}" for name in IMAGE_MODELS)
                       + "; skipgram: word vectors from a corpus (its options below)")
    train.add_argument("--dataset", choices=DATASETS, help=f"fontdigits is embedded (no download); mnist and "
                       f"fashion-mnist are looked for on disk and downloaded if missing; auto takes MNIST if it is "
                       f"on disk or can be downloaded, else Fashion-MNIST on disk, else fontdigits "
                       f"(default: {DEFAULT_DATASET})")
    train.add_argument("--epochs", type=positive(int),
                       help=f"train up to this epoch (default: {defaults.epochs}; with --resume, the checkpoint's)")
    train.add_argument("--batch-size", type=positive(int),
                       help=f"examples per training step (default: {defaults.batch_size})")
    train.add_argument("--lr", type=positive(float), help=f"the optimizer's learning rate (default: {defaults.lr})")
    for option in MODEL_OPTIONS:
        train.add_argument(option.flag, type=option.type, choices=option.choices, help=option.help)
    train.add_argument("--normal", type=class_list,
                       help="train (and report the test loss) on these classes only, e.g. 0 or 3,5: the one-class "
                            "setting of anomaly detection (then: nanoae anomaly CHECKPOINT)")
    train.add_argument("--seed", type=non_negative_int,
                       help=f"seeds the weights, the batch order and the noise (default: {defaults.seed})")
    add_device(train, default=None, help=f"gpu needs CuPy (default: {defaults.device})")
    train.add_argument("--limit", type=positive(int), help="use only the first N train and N test images (quick runs)")
    train.add_argument("--out", help="output folder (default: runs/MODEL, or runs/MODEL-2, -3, ... if that holds "
                                     "a run; with --resume, the checkpoint's folder)")
    train.add_argument("--overwrite", action="store_const", const=True,
                       help="let a fresh run replace the run in --out (its checkpoint, history and figures)")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue from a checkpoint.npz; --epochs, --out, --device, --lr and --batch-size "
                            "may change, the model and data may not")
    train.add_argument("--quiet", action="store_const", const=True, help="no progress bars or per-epoch lines")
    skipgram.add_arguments(train)
    train.set_defaults(run=run)


# --- planning the run ------------------------------------------------------------

@dataclasses.dataclass
class Plan:
    """What a run will do: the configs, the data (``meta``), the folder, and the checkpoint it resumes."""
    model_config: object
    config: TrainConfig
    meta: dict
    out: str
    resume: str = None


def model_config_from_args(args):
    """The model's default config, changed where an option of :data:`MODEL_OPTIONS` was given."""
    cls = MODELS[args.model].config_class
    fields = {f.name for f in dataclasses.fields(cls)}
    changes = {}
    for option in MODEL_OPTIONS:
        value = getattr(args, dest(option.flag))
        if value is None:
            continue
        applies = [name for name in option.fields if name in fields]
        if not applies:
            raise ValueError(f"{option.flag} does not apply to the {args.model!r} model")
        changes.update({name: value for name in applies})
    return cls(**changes)


def train_config_given(args):
    """The TrainConfig fields set on the command line, {field: value}."""
    return {field: getattr(args, dest(flag)) for flag, field in TRAIN_CONFIG_OPTIONS.items()
            if getattr(args, dest(flag)) is not None}


def plan_fresh_run(args):
    given = train_config_given(args)
    meta = {"dataset": args.dataset or DEFAULT_DATASET, "limit": args.limit, "normal": args.normal}
    return Plan(model_config_from_args(args), TrainConfig(**given), meta, args.out)


def plan_resumed_run(args):
    """The run a checkpoint continues, with the honoured options applied; None if no epoch is left."""
    refused = options_given(args, REFUSED_ON_RESUME)
    if refused:
        raise ValueError(f"{', '.join(refused)} cannot change a run that is resumed: the model, the data and the "
                         f"seed come from the checkpoint (start a new run instead; it will not overwrite this one)")
    state = load_checkpoint(args.resume)
    if state["model_name"] != args.model:
        raise ValueError(f"{args.resume} holds a {state['model_name']!r} model, not {args.model!r}")
    check_meta(state["meta"], args.resume)
    try:
        saved = TrainConfig(**state["train_config"])
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{args.resume}: train_config: {e}") from None
    given = train_config_given(args)          # the refused --seed is not among them
    config = dataclasses.replace(saved, **given)
    if state["epoch"] >= config.epochs:
        print(f"nothing to do: {args.resume} is at epoch {state['epoch']} already; ask for more epochs with "
              f"--epochs N (N > {state['epoch']}). Nothing was written.")
        return None
    changes = [f"{field} {getattr(saved, field)} -> {value}" for field, value in given.items()
               if field != "epochs" and getattr(saved, field) != value]     # epochs is the goal, not a change
    if changes:
        print("resuming with " + ", ".join(changes))
    model_config = MODELS[args.model].config_class(**state["model_config"])
    out = args.out or os.path.dirname(args.resume) or "."
    return Plan(model_config, config, state["meta"], out, resume=args.resume)


def check_meta(meta, path):
    """The data a command-line run was trained on, as its checkpoint's meta says: checked, as the
    rest of the checkpoint is (a CheckpointError naming the file and the field)."""
    problems = []
    if meta.get("dataset") not in DATASETS:
        problems.append(f"dataset must be one of {', '.join(DATASETS)}, got {meta.get('dataset')!r}")
    limit = meta.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        problems.append(f"limit must be a positive integer or null, got {limit!r}")
    normal = meta.get("normal")
    if normal is not None and (not isinstance(normal, list) or not normal
                               or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in normal)):
        problems.append(f"normal must be a list of class labels or null, got {normal!r}")
    if problems:
        raise CheckpointError(f"{path}: meta: " + "; ".join(problems) + " (was it written by nanoae train?)")


def claim_folder(plan, args):
    """The run folder, locked while the run writes (a context manager); the rules are :func:`nanoae.runs.claim`'s."""
    if plan.out is None:
        return runs.claim(os.path.join("runs", args.model), numbered=True)
    if plan.resume is not None and os.path.realpath(os.path.dirname(plan.resume) or ".") == os.path.realpath(plan.out):
        return runs.claim(plan.out, resuming=True)
    return runs.claim(plan.out, overwrite=bool(args.overwrite))


# --- the command -----------------------------------------------------------------

# The options of images alone; skip-gram's own are SKIPGRAM_ONLY above.
IMAGE_ONLY = ("--dataset", "--normal", "--limit", "--resume", "--device", *(option.flag for option in MODEL_OPTIONS))


def run(args):
    # Skip-gram trains on a corpus, not on images: another loop, other options and files.
    if args.model == "skipgram":
        return skipgram.run(args, options_given(args, IMAGE_ONLY))
    given = options_given(args, SKIPGRAM_ONLY)
    if given:
        raise ValueError(f"{', '.join(given)} apply only to skipgram, not to the {args.model!r} model")
    plan = plan_resumed_run(args) if args.resume else plan_fresh_run(args)
    if plan is None:
        return 0
    train_set, test_set = load_splits(plan.meta["dataset"], plan.meta["limit"])
    plan.meta["dataset"] = train_set.name             # "auto" is recorded as the dataset it chose
    normal = plan.meta.get("normal")                  # the one-class setting: train and test on these classes
    if normal is not None:
        train_set, test_set = train_set.only_classes(normal), test_set.only_classes(normal)
    train_x, test_x = train_set.inputs(), test_set.inputs()
    with contextlib.ExitStack() as stack:
        try:
            out = stack.enter_context(claim_folder(plan, args))
        except runs.RunExistsError as e:
            raise runs.RunFolderError(f"{e}: continue it with --resume {os.path.join(e.folder, CHECKPOINT)}, "
                                      "replace it with --overwrite, or choose another --out") from None
        model = build_model(args.model, plan.model_config, seed=plan.config.seed)
        default = os.path.join("runs", args.model)
        moved = f" ({default} holds an earlier run)" if plan.out is None and out != default else ""
        print(f"{args.model}: {type(model).__name__}({plan.model_config}) on {plan.meta['dataset']} "
              f"{'' if normal is None else f'classes {normal} '}({len(train_x)} train / {len(test_x)} test images), "
              f"{plan.config.device}; writing to {out}{moved}")
        with warnings.catch_warnings():   # NumPy's overflow warnings: a non-finite value stops the run anyway
            warnings.simplefilter("ignore", RuntimeWarning)
            history = fit(model, train_x, test_x, plan.config, out=out, resume=plan.resume,
                          progress=not args.quiet, meta=plan.meta)
        figures, skipped = plot.save_figures(model, test_x, test_set.labels, history, out, test_set.classes)
    for note in skipped:
        print(f"skipped the figure {note}")
    last = history[-1]
    print(f"done: epoch {last['epoch']}, test loss {last['test_total']:.4g} per image")
    print("wrote " + ", ".join([os.path.join(out, name) for name in (CHECKPOINT, *HISTORY_FILES)] + figures))
    return 0
