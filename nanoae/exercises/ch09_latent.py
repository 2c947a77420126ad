"""Graders for chapter 09, latent arithmetic and learning from codes.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``slerp(z0, z1, t)`` | the point at t on the arc from z0 to z1, (J,) | the points stored for these inputs; t = 0 and t = 1 give the ends |
| ``attribute_vector(codes, labels, source, target)`` | mean code of class target minus that of class source, (J,) | the shape, and the vectors stored for these inputs |
| ``few_labels_split(labels, per_class, rng)`` | indices of per_class examples of each class, drawn with rng | counts, repeats, reproducibility, uniformity |

The split needs no reference: it must hold per_class distinct examples of
each class and valid indices; the same seed must give the same split and
other seeds other splits; over many seeds every example must be picked about
equally often.

Each exercise rules out the library call that would do it:
``nanoae.analysis.latent.interpolate`` for slerp,
``latent.attribute_vector`` and ``latent.class_means`` for the attribute
vector, ``latent.few_labels_split`` for the split.

Codes have both signs, N != J, and the classes have different sizes, so that
a mean over the wrong axis or a sum instead of a mean changes the answer.
When an answer is wrong, the grader names the usual mistake it matches
(their answers are stored for these inputs).
"""
from nanoae import backend
from nanoae.analysis import latent
from nanoae.exercises import Mismatch, StoredValues, as_numpy, compare, grader, passed_within, random_array

TOL = 1e-9      # the stored values are exact in float64: a right answer agrees to ~1e-15
CASES = (  # the inputs of the two exercises with stored values: (seed, J, scale of z1, t), (seed, source, target)
    {"slerp": (90, 5, 2.5, 0.3), "attribute": (70, 1, 3)},
    {"slerp": (91, 8, 0.4, 0.75), "attribute": (71, 2, 0)},
    {"slerp": (92, 3, 1.0, 0.5), "attribute": (72, 3, 1)},
    {"slerp": (95, 6, None, 0.4), "attribute": (73, 0, 2)},    # scale None: z1 gets the norm of z0
)
STORED = StoredValues("ch09_latent")
xp = backend.array_module_for("cpu")

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch09_latent.py).
MISTAKES = {
    "slerp": {
        "straight_line": "that is the straight line (1 - t) z0 + t z1; slerp follows the arc between the codes",
        "unit_sphere": "you returned a point on the unit sphere: compute the angle from the normalized codes, "
                       "but combine z0 and z1 themselves",
        "swapped_weights": "the two weights are swapped: at t = 0 the answer must be z0",
        "no_division": "the division by sin(w) is missing",
    },
    "attribute_vector": {
        "reversed": "the sign is wrong: the vector goes from source to target",
        "sums": "you summed the codes of each class: take their means (the classes have different sizes)",
        "mean_of_all": "you subtracted the mean of all codes: subtract the mean of the source class",
        "target_mean": "you returned the target class's mean: subtract the source class's mean",
        "means_added": "you added the two means: subtract the source class's mean",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def slerp_inputs(case):
    """(z0, z1, t): codes (J,) of both signs, of unequal norms, or equal ones where the case says so."""
    seed, latent_dim, scale, t = CASES[case]["slerp"]
    z0, z1 = random_array(latent_dim, seed), random_array(latent_dim, seed + 1)
    z1 = z1 * (xp.linalg.norm(z0) / xp.linalg.norm(z1)) if scale is None else scale * z1
    return z0, z1, t


def attribute_inputs(case):
    """(codes (23, 4) of both signs, labels 0..3 with classes of sizes 4, 7, 3 and 9, source, target)."""
    seed, source, target = CASES[case]["attribute"]
    codes = random_array((23, 4), seed) + 0.5
    labels = xp.repeat(xp.arange(4), [4, 7, 3, 9])
    order = backend.new_generator(seed + 1).permutation(23)
    return codes[order], labels[order], source, target


# --- exercise 1: slerp ----------------------------------------------------------------------

@grader("slerp", forbidden=(latent.interpolate,))
def grade_slerp(slerp):
    worst = 0.0
    for case in range(len(CASES)):
        z0, z1, t = slerp_inputs(case)
        equal = ", |z0| = |z1|" if CASES[case]["slerp"][2] is None else ""
        got = as_numpy(slerp(z0.copy(), z1.copy(), t))
        worst = max(worst, STORED.check(got, "slerp", case, MISTAKES["slerp"], TOL,
                                        f"your slerp (J={len(z0)}, t={t}{equal})"))
    z0, z1, _ = slerp_inputs(0)
    for t, end, name in ((0.0, z0, "z0"), (1.0, z1, "z1")):
        compare(as_numpy(slerp(z0.copy(), z1.copy(), t)), end, 1e-7, f"your slerp at t={t:g} (it must be {name})")
    return passed_within(worst, TOL) + "; t = 0 and t = 1 give the ends"


# --- exercise 2: the attribute vector ----------------------------------------------------------

@grader("attribute_vector", forbidden=(latent.attribute_vector, latent.class_means))
def grade_attribute_vector(attribute_vector):
    worst = 0.0
    for case in range(len(CASES)):
        codes, labels, source, target = attribute_inputs(case)
        got = as_numpy(attribute_vector(codes.copy(), labels.copy(), source, target))
        what = f"your attribute vector (source {source}, target {target})"
        if got.shape != (codes.shape[1],):
            raise Mismatch(f"{what} has shape {got.shape}: return one vector of the code's length, "
                           f"({codes.shape[1]},), a mean over the examples (axis 0)")
        worst = max(worst, STORED.check(got, "attribute_vector", case, MISTAKES["attribute_vector"], TOL, what))
    return passed_within(worst, TOL)


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


@grader("few_labels_split", forbidden=(latent.few_labels_split,))
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
