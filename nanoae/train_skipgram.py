"""Training skip-gram on a corpus: the settings, the loop, the loss curve.

Skip-gram trains on text, not images, so it has its own loop rather than
:mod:`nanoae.train`'s: an epoch is not a pass over a fixed array of examples
but a fresh draw of (centre, context) pairs from the corpus (subsampling and
the dynamic window are random), and the learning rate falls linearly from
``lr`` to ``lr * min_lr_fraction`` over the whole run, as in word2vec.
One epoch, top to bottom::

    tokens kept   <- subsample(corpus tokens)                  frequent words dropped at random
    pairs         <- skipgram_pairs(tokens kept, window)       (centre, context), shuffled
    for each batch of B pairs:
        negatives <- k draws from the unigram^0.75 table per pair
        loss      <- model.loss(centres, contexts, negatives)  summed over the batch
        backward; SGD step on the touched rows, lr decayed
"""
import time
from dataclasses import dataclass


from nanoae import backend, optim
from nanoae.models.skipgram import SkipGram, SkipGramConfig
from nanoae.text.sampling import draw_negatives, keep_probabilities, skipgram_pairs, subsample, unigram_table
from nanoae.text.vocabulary import Vocabulary

xp = backend.array_module_for("cpu")  # pairs and negatives are drawn on the CPU, as the corpus lives there


@dataclass
class SkipGramTraining:
    """Every setting of a skip-gram run, word2vec's defaults where it has one."""
    dim: int = 100                   # D, the size of a word vector
    window: int = 5                  # the widest reach of the dynamic window
    negatives: int = 5               # k noise words per pair
    min_count: int = 5               # words seen fewer times get no vector
    sample: float = 1e-3             # subsampling threshold t (0: keep every word)
    epochs: int = 5
    lr: float = 0.025                # the first learning rate, falling linearly to lr * min_lr_fraction
    min_lr_fraction: float = 1e-4
    batch_size: int = 1024           # pairs per step; their losses are summed
    seed: int = 0
    sparse: bool = True              # row-sparse gradients (False: the dense path)

    @classmethod
    def for_corpus(cls, corpus, **changes):
        """The settings for corpus ``corpus`` (its entry of :data:`CORPUS_SETTINGS`), then ``changes``."""
        return cls(**{**CORPUS_SETTINGS.get(corpus, {}), **changes})


# Where a corpus needs other settings than word2vec's. The synthetic corpus has about
# 60 words, all frequent: no subsampling, no minimum count, small vectors, a short
# window (its sentences are short), and batches of 256 pairs, since summing the
# gradients of 1024 pairs over so few words makes steps too big and the run diverges.
CORPUS_SETTINGS = {"synthetic": {"dim": 30, "window": 3, "min_count": 1, "sample": 0.0, "batch_size": 256}}


def train_skipgram(corpus, settings=None, progress=True, vocab=None):
    """Train a SkipGram on ``corpus`` (an iterable of sentences, read more than once).

    Returns (model, vocab, history): history has one dict per epoch (mean loss
    per pair, pairs, seconds) and ``history[-1]["curve"]`` the mean loss of
    every stretch of steps, for the loss curve.
    """
    settings = settings or SkipGramTraining()
    rng = xp.random.default_rng(settings.seed)
    vocab = vocab or Vocabulary.build(corpus, settings.min_count)
    tokens, sentence_of = vocab.encode(corpus)
    keep = keep_probabilities(vocab.counts, settings.sample)
    table = unigram_table(vocab.counts)
    backend.manual_seed(settings.seed)                                # the initial vectors
    model = SkipGram(SkipGramConfig(len(vocab), settings.dim, settings.sparse))
    optimizer = optim.SGD(model.parameters(), lr=settings.lr)
    history, curve = [], []
    for epoch in range(settings.epochs):
        start = time.perf_counter()
        kept, kept_sentence = subsample(tokens, sentence_of, keep, rng)
        centres, contexts = skipgram_pairs(kept, kept_sentence, settings.window, rng)
        order = rng.permutation(len(centres))
        losses = train_epoch(model, optimizer, settings, centres[order], contexts[order], table, rng, epoch)
        curve += [float(chunk.mean()) for chunk in xp.array_split(losses, min(20, len(losses)))]
        record = {"epoch": epoch + 1, "loss": float(losses.mean()), "pairs": len(centres),
                  "seconds": time.perf_counter() - start, "lr": optimizer.lr}
        history.append(record)
        if progress:
            print(f"epoch {epoch + 1}/{settings.epochs}: loss {record['loss']:.4f} per pair, "
                  f"{record['pairs']} pairs, {record['seconds']:.1f} s")
    history[-1]["curve"] = curve
    return model, vocab, history


def train_epoch(model, optimizer, settings, centres, contexts, table, rng, epoch):
    """One pass over the shuffled pairs; returns each step's loss per pair (array)."""
    b = settings.batch_size
    steps = -(-len(centres) // b)
    losses = xp.empty(steps)
    for step in range(steps):
        done = (epoch + step / steps) / settings.epochs               # fraction of the whole run
        optimizer.lr = settings.lr * max(settings.min_lr_fraction, 1 - done)
        batch = slice(step * b, (step + 1) * b)
        negatives = draw_negatives(table, (len(centres[batch]), settings.negatives), rng)
        optimizer.zero_grad()
        loss = model.loss(centres[batch], contexts[batch], negatives)
        loss.backward()
        optimizer.step()
        losses[step] = loss.item() / len(centres[batch])
    return losses
