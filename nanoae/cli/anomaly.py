"""``nanoae anomaly``: score every test image, normal classes against the rest; the model's ROC and
AUC beside PCA's (the baseline), and roc.png."""
from nanoae import plot
from nanoae.analysis import anomaly, metrics
from nanoae.checkpoint import model_from_checkpoint
from nanoae.cli.arguments import HelpFormatter, add_device, class_list, positive
from nanoae.cli.sample import png_out
from nanoae.data import DATASETS, load_splits


def add_parser(commands):
    detect = commands.add_parser("anomaly", help="score test images by a model's reconstruction error (-ELBO for "
                                 "a vae): ROC and AUC, beside PCA's", formatter_class=HelpFormatter)
    detect.add_argument("checkpoint", help="a checkpoint.npz written by nanoae train --normal ...")
    detect.add_argument("--normal", type=class_list, default=None,
                        help="the normal classes (default: those the model was trained on)")
    detect.add_argument("--dataset", choices=DATASETS, default=None, help="default: the one the model was trained on")
    detect.add_argument("--limit", type=positive(int), default=None,
                        help="use only the first N train and N test images (default: as in training)")
    add_device(detect)
    detect.add_argument("--out", default=None, help="PNG file, or a folder to write roc.png in "
                                                    "(default: roc.png beside the checkpoint)")
    detect.set_defaults(run=run)


def run(args):
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
    out = png_out(args.out, args.checkpoint, "roc.png")
    print("wrote " + plot.roc_curves(rocs, out, f"Normal: classes {normal} of {name}; the rest are anomalies"))
    return 0
