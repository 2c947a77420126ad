"""The ``nanoae`` command line (also ``python -m nanoae``).

    nanoae gradcheck             check every op and loss against finite differences
    nanoae gradcheck --backend cupy
"""
import argparse
import sys
import time

from nanoae import backend
from nanoae.gradcheck import GradcheckError, gradcheck
from nanoae.gradcheck_cases import CASES, make_inputs


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


def build_parser():
    parser = argparse.ArgumentParser(prog="nanoae", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("gradcheck", help="check every op and loss with finite differences",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    check.add_argument("--backend", choices=["numpy", "cupy"], default="numpy", help="array backend")
    check.add_argument("--seed", type=int, default=0, help="seed for inputs and upstream gradients")
    check.add_argument("--only", default="", help="check only ops whose name contains this text")
    check.set_defaults(run=run_gradcheck)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (RuntimeError, ValueError) as e:  # e.g. --backend cupy without a GPU
        print(f"nanoae {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
