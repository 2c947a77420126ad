"""Words from text: lowercase letters, apostrophes kept inside words, possessives dropped.

    >>> tokenize("The King's sons didn't go to Jerusalem-gate.")
    ['the', 'king', 'sons', "didn't", 'go', 'to', 'jerusalem', 'gate']

Rules, in order:

1. lowercase, and the typographic apostrophes ’ and ‘ become the plain ';
2. a word is a run of letters a-z, possibly with apostrophes *inside* it
   ("didn't", "o'clock"); everything else separates words, so hyphens split
   ("jerusalem-gate" is two words), digits and punctuation vanish, and a
   quote mark at a word's edge ('tis, sons') is not part of the word;
3. a final "'s" is the possessive and is dropped: "king's" is "king". (It also
   turns "it's" into "it"; for learning what words mean that loses little.)

Letters outside a-z (é, ö) split words too: the corpora here are English and
the few such letters are names.
"""
import re

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def tokenize(text):
    """The words of ``text``, by the rules above, as a list of strings."""
    words = WORD.findall(text.lower().translate(APOSTROPHES))
    return [word[:-2] if word.endswith("'s") else word for word in words]
