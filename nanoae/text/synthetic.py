"""A small corpus with planted relations, made by a grammar: no download, the same text for a seed.

Two families of word pairs, each pair with words of its own around it:

- **gender**: (king, queen), (prince, princess), (man, woman), ... Each pair
  shares an *identity* word (king and queen: "throne"), and each word goes
  with the pronouns of its gender (he, his, him / she, her, hers). So the
  contexts of "queen" are those of "king" with the male pronouns swapped for
  the female ones, and king - man + woman should land on queen.
- **capitals**: (france, paris), (italy, rome), ... Each pair shares its
  people ("french"); a country goes with country words (country, nation,
  border), a capital with city words (city, capital, streets). So paris -
  france + italy should land on rome.

Sentences mix a few shared filler words (the, of, loved, ...) as real text
does. :func:`synthetic_analogies` lists every question the two families
plant, in the format of word2vec's questions-words file (a b c d: d = b - a + c).
With a vocabulary of about sixty words every word is frequent: train with
``sample=0`` and ``min_count=1``.
"""
import itertools

from nanoae import backend

xp = backend.array_module_for("cpu")  # text is read, counted and sampled on the CPU

# (male, female, identity word of the pair)
GENDER_PAIRS = [("king", "queen", "throne"), ("prince", "princess", "palace"), ("man", "woman", "village"),
                ("boy", "girl", "school"), ("father", "mother", "home"), ("son", "daughter", "cradle"),
                ("brother", "sister", "sibling"), ("husband", "wife", "marriage"), ("uncle", "aunt", "cousin")]
PRONOUNS = {"male": ("he", "his", "him"), "female": ("she", "her", "hers")}
# (country, capital, its people)
CAPITAL_PAIRS = [("france", "paris", "french"), ("italy", "rome", "italian"), ("spain", "madrid", "spanish"),
                 ("germany", "berlin", "german"), ("japan", "tokyo", "japanese"), ("egypt", "cairo", "egyptian"),
                 ("greece", "athens", "greek"), ("russia", "moscow", "russian")]
PLACE_WORDS = {"country": ("country", "nation", "border"), "capital": ("city", "capital", "streets")}
VERBS = ("loved", "saw", "kept", "visited", "left", "found")


def _gender_sentence(rng):
    male, female, identity = GENDER_PAIRS[rng.integers(len(GENDER_PAIRS))]
    word, gender = (male, "male") if rng.random() < 0.5 else (female, "female")
    subject, possessive, obj = PRONOUNS[gender]
    verb = VERBS[rng.integers(len(VERBS))]
    templates = (f"the {word} {verb} {possessive} {identity}", f"{subject} is the {word} of the {identity}",
                 f"the {identity} {verb} the {word} and {obj}")
    return templates[rng.integers(len(templates))].split()


def _capital_sentence(rng):
    country, capital, people = CAPITAL_PAIRS[rng.integers(len(CAPITAL_PAIRS))]
    word, kind = (country, "country") if rng.random() < 0.5 else (capital, "capital")
    place = PLACE_WORDS[kind][rng.integers(3)]
    verb = VERBS[rng.integers(len(VERBS))]
    templates = (f"the {place} of {word} {verb} the {people}", f"{people} {word} is a {place}",
                 f"the {people} {verb} {word} the {place}")
    return templates[rng.integers(len(templates))].split()


def synthetic_corpus(sentences=6000, seed=0):
    """``sentences`` sentences (lists of words), half about gender pairs and half about capitals."""
    rng = xp.random.default_rng(seed)
    return [_gender_sentence(rng) if rng.random() < 0.5 else _capital_sentence(rng) for _ in range(sentences)]


def synthetic_analogies():
    """The planted questions by section, as questions-words has them: {section: [(a, b, c, d), ...]}.

    "family": (man, woman, king, queen) asks man : woman = king : ?, answer
    queen, for every ordered two different gender pairs. "capital-common-countries":
    (paris, france, rome, italy), capital : country, for every two capitals.
    """
    family = [(a[0], a[1], b[0], b[1]) for a, b in itertools.permutations(GENDER_PAIRS, 2)]
    capitals = [(a[1], a[0], b[1], b[0]) for a, b in itertools.permutations(CAPITAL_PAIRS, 2)]
    return {"family": family, "capital-common-countries": capitals}
