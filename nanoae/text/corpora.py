"""The real corpora, read at run time from Debian's packages; nothing of their text is stored in nanoae.

| name | what | package | licence |
| --- | --- | --- | --- |
| ``web`` | the World English Bible, modern English, ~0.8 M words | ``sword-text-web`` (and PyPI ``pysword``) | public domain |
| ``gcide-wordnet`` | the GNU Collaborative International Dictionary of English and WordNet's glosses, ~10 M words | ``dict-gcide``, ``wordnet-base`` | GPL; WordNet's licence |

Each loader returns a :class:`Corpus`, which can be read as many times as
training needs (once to count words, once per epoch), one sentence (a list
of words, :func:`~nanoae.text.tokenizer.tokenize`) at a time. A package that
is missing is a :class:`CorpusNotInstalled` error naming the one command
that installs it.

GCIDE is under the GPL: vectors trained on it are a work derived from it.
Read it here at run time; do not commit its text or such vectors. WordNet's
notice: "WordNet 3.0 Copyright 2006 by Princeton University. All rights
reserved." (the licence is in /usr/share/doc/wordnet-base/copyright).
"""
import gzip
import html
import os
import re
from pathlib import Path

from nanoae.data.dataset import data_home
from nanoae.text.tokenizer import tokenize

SWORD_LIBRARY = Path("/usr/share/sword")
WEB_MODULE = "engWEB2015eb"
WEB_FOLDER = SWORD_LIBRARY / "modules" / "texts" / "ztext" / WEB_MODULE
GCIDE = Path("/usr/share/dictd/gcide.dict.dz")
WORDNET = Path("/usr/share/wordnet")
WORDNET_NOTICE = ("WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. "
                  "(licence: /usr/share/doc/wordnet-base/copyright)")


class CorpusNotInstalled(FileNotFoundError):
    """A corpus's package is not installed; the message names the command that installs it."""


class Corpus:
    """A named corpus that yields its sentences (lists of words) each time it is iterated."""

    def __init__(self, name, read_sentences, notice=""):
        self.name, self.notice = name, notice
        self._read_sentences = read_sentences

    def __iter__(self):
        return iter(self._read_sentences())

    def __repr__(self):
        return f"Corpus({self.name!r})"


def _require(path, package, install):
    if not Path(path).exists():
        raise CorpusNotInstalled(f"{path} is missing: the {package} package is not installed; install it with: "
                                 f"{install}")


# --- the World English Bible -------------------------------------------------------

NOTE = re.compile(r"<note\b.*?</note>|<reference\b.*?</reference>", re.DOTALL)   # footnotes, verse references
WORD_TAG = re.compile(r"</?w\b[^>]*>")                                           # <w lemma="...">word</w>
OTHER_TAG = re.compile(r"<[^>]*>")


def clean_osis(verse):
    """The words of one verse of OSIS markup: footnotes and references become a space (so the words on
    either side stay apart, which pysword's ``clean=True`` does not ensure), word tags vanish, every
    other tag is a space, and entities (&amp;) are decoded."""
    text = WORD_TAG.sub("", NOTE.sub(" ", verse))
    return html.unescape(OTHER_TAG.sub(" ", text))


def _web_verses_from_pysword():
    try:
        from pysword.modules import SwordModules
    except ImportError:
        raise CorpusNotInstalled("the web corpus is read with pysword, which is not installed; install it with: "
                                 "pip install pysword") from None
    _require(WEB_FOLDER, "sword-text-web", "sudo apt-get install sword-text-web")
    modules = SwordModules(str(SWORD_LIBRARY))
    modules.parse_modules()
    bible = modules.get_bible_from_module(WEB_MODULE)
    return bible.get_iter(clean=False)


def web_cache_file():
    """Where the tokenized verses are kept after the first read: pysword decompresses a whole book
    for every verse, about a minute for the Bible. (Public-domain text, on this machine only.)"""
    return data_home() / "text" / f"{WEB_MODULE}.tokens.txt"


def _read_web():
    cache = web_cache_file()
    if not cache.exists():
        lines = (" ".join(tokenize(clean_osis(verse))) for verse in _web_verses_from_pysword())
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        partial.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
        partial.replace(cache)
    with open(cache, encoding="utf-8") as f:
        for line in f:
            yield line.split()


def load_web():
    """The World English Bible, one verse per sentence."""
    _require(WEB_FOLDER, "sword-text-web", "sudo apt-get install sword-text-web")
    return Corpus("web", _read_web, notice="World English Bible (public domain), from sword-text-web")


# --- GCIDE and WordNet --------------------------------------------------------------

ACCENT = re.compile(r"\[[\"'`^~=.,]?([a-z]{1,2})\]")    # pre["e]minence -> preeminence, [ae]
BRACKETED = re.compile(r"\[[^\]]*\]")                   # etymologies, [1913 Webster], [PJC]
PRONUNCIATION = re.compile(r"\\[^\\\n]*\\")             # \King\


def clean_gcide(paragraph):
    """A GCIDE paragraph as plain words: accent codes to their letters, bracketed etymologies and
    source marks dropped, pronunciations dropped. Braces ({Kin}) and citations (--Shak.) are left to
    the tokenizer."""
    return PRONUNCIATION.sub(" ", BRACKETED.sub(" ", ACCENT.sub(r"\1", paragraph)))


def _read_gcide():
    text = gzip.open(GCIDE, "rb").read().decode("utf-8", errors="replace")   # dictzip is gzip
    for paragraph in re.split(r"\n\s*\n", text):
        words = tokenize(clean_gcide(paragraph))
        if words:
            yield words


def _read_wordnet_glosses():
    """One sentence per WordNet synset: its words (plant_life -> plant life) and its gloss."""
    for part in ("noun", "verb", "adj", "adv"):
        with open(WORDNET / f"data.{part}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(" "):      # the licence header
                    continue
                fields, _, gloss = line.partition(" | ")
                parts = fields.split()
                count = int(parts[3], 16)
                words = " ".join(parts[4:4 + 2 * count:2]).replace("_", " ")
                yield tokenize(f"{words} {gloss}")


def _read_gcide_wordnet():
    yield from _read_gcide()
    yield from _read_wordnet_glosses()


def load_gcide_wordnet():
    """GCIDE (a paragraph per sentence) followed by WordNet's glosses (a synset per sentence)."""
    _require(GCIDE, "dict-gcide", "sudo apt-get install dict-gcide")
    _require(WORDNET / "data.noun", "wordnet-base", "sudo apt-get install wordnet-base")
    return Corpus("gcide-wordnet", _read_gcide_wordnet,
                  notice="GCIDE (GPL: do not publish vectors trained on it) and " + WORDNET_NOTICE)
