"""Graders for chapter 09, latent arithmetic and learning from codes.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``slerp(z0, z1, t)`` | the point at t on the arc from z0 to z1, (J,) | the closed form below; t = 0 and t = 1 give the ends |
| ``attribute_vector(codes, labels, source, target)`` | mean code of class target minus that of class source, (J,) | class means computed one example at a time |
| ``few_labels_split(labels, per_class, rng)`` | indices of per_class examples of each class, drawn with rng | counts, repeats, reproducibility, uniformity |

Slerp, with w the angle between the codes, cos(w) = <z0, z1> / (|z0| |z1|):

    z(t) = sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1

The split must hold per_class distinct examples of each class and valid
indices; the same seed must give the same split and other seeds other
splits; over many seeds every example must be picked about equally often.

Codes have both signs, N != J, and the classes have different sizes, so that
a mean over the wrong axis or a sum instead of a mean changes the answer.
When an answer is wrong, the grader also tries the usual mistakes and names
the one the answer matches.
"""
from nanoae import backend
from nanoae.exercises import Mismatch, as_numpy, compare, diagnose, grader, passed_within, random_array

TOL = 1e-9      # the references are closed forms in float64: a right answer agrees to ~1e-15
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64


# --- exercise 1: slerp ----------------------------------------------------------------------

def _slerp(z0, z1, t):
    omega = xp.arccos(xp.clip(z0 @ z1 / (xp.linalg.norm(z0) * xp.linalg.norm(z1)), -1.0, 1.0))
    return (xp.sin((1 - t) * omega) * z0 + xp.sin(t * omega) * z1) / xp.sin(omega)


def _slerp_cases():
    """(z0, z1, t, what): codes of both signs, unequal and equal norms, several t."""
    cases = []
    for seed, latent, scale, t in ((90, 5, 2.5, 0.3), (91, 8, 0.4, 0.75), (92, 3, 1.0, 0.5)):
        z0, z1 = random_array(latent, seed), scale * random_array(latent, seed + 1)
        cases.append((z0, z1, t, f"J={latent}, t={t}"))
    z0, z1 = random_array(6, 95), random_array(6, 96)
    z1 = z1 * (xp.linalg.norm(z0) / xp.linalg.norm(z1))                 # equal norms
    cases.append((z0, z1, 0.4, "J=6, t=0.4, |z0| = |z1|"))
    return cases


@grader("slerp")
def grade_slerp(slerp):
    worst = 0.0
    for z0, z1, t, what in _slerp_cases():
        got = as_numpy(slerp(z0.copy(), z1.copy(), t))
        expected = _slerp(z0, z1, t)
        unit0, unit1 = z0 / xp.linalg.norm(z0), z1 / xp.linalg.norm(z1)
        omega = xp.arccos(unit0 @ unit1)
        try:
            worst = max(worst, compare(got, expected, TOL, f"your slerp ({what})"))
        except Mismatch as mismatch:
            diagnose(got, [
                ((1 - t) * z0 + t * z1, "that is the straight line (1 - t) z0 + t z1; slerp follows the arc: "
                                        "sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1"),
                (_slerp(unit0, unit1, t), "you returned a point on the unit sphere: compute the angle from the "
                                          "normalized codes, but combine z0 and z1 themselves"),
                ((xp.sin(t * omega) * z0 + xp.sin((1 - t) * omega) * z1) / xp.sin(omega),
                 "the two weights are swapped: at t = 0 the answer must be z0, "
                 "so z0's weight is sin((1 - t) w) / sin(w)"),
                (xp.sin((1 - t) * omega) * z0 + xp.sin(t * omega) * z1,
                 "the division by sin(w) is missing"),
            ], mismatch)
    z0, z1, _, _ = _slerp_cases()[0]
    for t, end, name in ((0.0, z0, "z0"), (1.0, z1, "z1")):
        compare(as_numpy(slerp(z0.copy(), z1.copy(), t)), end, 1e-7, f"your slerp at t={t:g} (it must be {name})")
    return (passed_within(worst, TOL) + " against sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1; "
            "t = 0 and t = 1 give the ends")


# --- exercise 2: the attribute vector ----------------------------------------------------------

def _labelled_codes(seed):
    """Codes (23, 4) of both signs and labels 0..3 with classes of sizes 4, 7, 3 and 9."""
    codes = random_array((23, 4), seed) + 0.5
    labels = xp.repeat(xp.arange(4), [4, 7, 3, 9])
    order = backend.new_generator(seed + 1).permutation(23)
    return codes[order], labels[order]


@grader("attribute_vector")
def grade_attribute_vector(attribute_vector):
    worst = 0.0
    for seed, source, target in ((70, 1, 3), (71, 2, 0)):
        codes, labels = _labelled_codes(seed)
        means = {c: sum(codes[i] for i in range(len(codes)) if labels[i] == c) / int((labels == c).sum())
                 for c in range(4)}
        got = as_numpy(attribute_vector(codes.copy(), labels.copy(), source, target))
        what = f"your attribute vector (source {source}, target {target})"
        if got.shape != (codes.shape[1],):
            raise Mismatch(f"{what} has shape {got.shape}: return one vector of the code's length, "
                           f"({codes.shape[1]},), a mean over the examples (axis 0)")
        try:
            worst = max(worst, compare(got, means[target] - means[source], TOL, what))
        except Mismatch as mismatch:
            sums = {c: codes[labels == c].sum(axis=0) for c in (source, target)}
            diagnose(got, [
                (means[source] - means[target], "the sign is wrong: the vector goes from source to target, "
                                                "mean(target) - mean(source)"),
                (sums[target] - sums[source], "you summed the codes of each class: take their means (the classes "
                                              "have different sizes)"),
                (means[target] - codes.mean(axis=0), "you subtracted the mean of all codes: subtract the mean of "
                                                     "the source class"),
                (means[target], "you returned the target class's mean: subtract the source class's mean"),
                (means[target] + means[source], "you added the two means: subtract the source class's mean"),
            ], mismatch)
    return passed_within(worst, TOL) + " against the class means computed one example at a time"


# --- exercise 3: a few labels per class ---------------------------------------------------------

def _few_label_data():
    """Labels of 3 classes with 12, 8 and 15 members, shuffled."""
    labels = xp.repeat(xp.arange(3), [12, 8, 15])
    return labels[backend.new_generator(60).permutation(len(labels))]


def _split(few_labels_split, labels, per_class, seed):
    """The student's indices for a generator seeded with ``seed``, checked: a NumPy int array."""
    answer = few_labels_split(labels.copy(), per_class, backend.new_generator(seed))
    chosen = backend.to_numpy(answer) if hasattr(answer, "shape") else xp.asarray(answer)
    if chosen.ndim != 1:
        raise Mismatch(f"return a 1-D array of indices, got shape {chosen.shape}")
    if chosen.dtype.kind == "b":
        raise Mismatch("return the indices of the chosen examples, not a boolean mask")
    if chosen.dtype.kind not in "iu":
        raise Mismatch(f"return integer indices, got dtype {chosen.dtype}")
    classes = int(labels.max()) + 1
    if len(chosen) != per_class * classes:
        hint = " (per_class is the number for EACH class)" if len(chosen) == per_class else ""
        raise Mismatch(f"you returned {len(chosen)} indices for {classes} classes and per_class={per_class}; "
                       f"expected {per_class * classes}{hint}")
    if int(chosen.min()) < 0 or int(chosen.max()) >= len(labels):
        raise Mismatch(f"an index is outside 0 ... {len(labels) - 1}: return positions in labels")
    if len(set(chosen.tolist())) != len(chosen):
        raise Mismatch(f"an example was picked twice (seed {seed}): draw without replacement (replace=False)")
    counts = [int((labels[chosen] == c).sum()) for c in range(classes)]
    if counts != [per_class] * classes:
        raise Mismatch(f"the chosen examples have {counts} members of classes 0 ... {classes - 1}; expected "
                       f"{per_class} of each")
    return chosen


@grader("few_labels_split")
def grade_few_labels_split(few_labels_split):
    labels = _few_label_data()
    per_class = 6
    first = _split(few_labels_split, labels, per_class, seed=1)
    again = _split(few_labels_split, labels, per_class, seed=1)
    if sorted(again.tolist()) != sorted(first.tolist()):
        raise Mismatch("two generators with the same seed gave different splits: draw only from rng, the "
                       "generator passed in (not numpy.random), so that a seed fixes the choice")
    draws = 300
    picked = xp.zeros(len(labels))
    splits = set()
    for seed in range(2, 2 + draws):
        chosen = _split(few_labels_split, labels, per_class, seed)
        picked[chosen] += 1
        splits.add(tuple(sorted(chosen.tolist())))
    if len(splits) == 1:
        raise Mismatch("every seed gave the same split: draw the examples at random with rng")
    sizes = xp.bincount(labels)
    expected = draws * per_class / sizes[labels]                       # each member of class c: draws * n / |c|
    spread = xp.sqrt(expected * (1 - per_class / sizes[labels]))      # binomial standard deviation
    worst = int(xp.abs(picked - expected).argmax())
    if abs(picked[worst] - expected[worst]) > 6 * spread[worst] + 3:
        raise Mismatch(f"over {draws} seeds, example {worst} (class {int(labels[worst])}) was picked "
                       f"{int(picked[worst])} times; a uniform draw picks it about {expected[worst]:.0f} times. "
                       "Pick every member of a class with the same chance")
    return (f"{per_class} distinct examples of each class; the same seed gives the same split; over {draws} seeds "
            f"every example is picked about equally often ({len(splits)} different splits)")
