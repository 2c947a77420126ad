"""``nanoae gradcheck``: check every op and loss of the engine against finite differences."""
import time

from nanoae import backend
from nanoae.cli.arguments import HelpFormatter, non_negative_int
from nanoae.gradcheck import GradcheckError, gradcheck
from nanoae.gradcheck_cases import CASES, make_inputs


def add_parser(commands):
    check = commands.add_parser("gradcheck", help="check every op and loss with finite differences",
                                formatter_class=HelpFormatter)
    check.add_argument("--backend", choices=["numpy", "cupy"], default="numpy", help="array backend")
    check.add_argument("--seed", type=non_negative_int, default=0, help="seed for inputs and upstream gradients")
    check.add_argument("--only", default="", help="check only ops whose name contains this text")
    check.set_defaults(run=run)


def run(args):
    cases = [case for case in CASES if args.only in case.name]
    if not cases:
        raise ValueError(f"no op's name contains {args.only!r}, so nothing was checked; the ops are "
                         + ", ".join(sorted({case.name.split('(')[0].strip() for case in CASES})))
    xp = backend.array_module_for("gpu" if args.backend == "cupy" else "cpu")
    failures = 0
    width = max(len(case.name) for case in cases)
    print(f"{'op':<{width}}  {'inputs':<28}  result")
    print(f"{'-' * width}  {'-' * 28}  ------")
    for case in cases:
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
    print(f"\n{failures} of {len(cases)} failed" if failures else f"\nall {len(cases)} passed")
    return 1 if failures else 0
