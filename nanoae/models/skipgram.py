"""Skip-gram with negative sampling (Mikolov et al. 2013): word vectors learned from the words around them.

A word w has two vectors: u_w, its *input* vector (the word vector we keep),
and v_w, its *output* vector (how it looks as a context word). For a pair
(centre c, context o) seen in the corpus and k noise words n_1..n_k drawn
from the unigram^0.75 table, the loss is the logistic loss of telling the
true context from the noise:

    loss = -log sigmoid(u_c . v_o) - sum_i log sigmoid(-u_c . v_{n_i})
         = sum over targets t of softplus(-y_t s_t),   s_t = u_c . v_t,  y = +1 (true), -1 (noise)

Its gradient is what word2vec's C code computes by hand:

    d loss / d s_t = -y_t sigmoid(-y_t s_t) = sigmoid(s_t) - label_t     (label 1 for o, 0 for noise)
    d loss / d u_c = sum_t (sigmoid(s_t) - label_t) v_t
    d loss / d v_t = (sigmoid(s_t) - label_t) u_c

The loss is one op, ``ops.negative_sampling_loss`` (``ops/loss.py``), whose
backward is these lines, and the embeddings are ``sparse=True``: each step touches only the rows of
the words in the batch (``ops/embedding.py``). The loss of a batch is the
*sum* over its pairs, not the mean: word2vec takes one SGD step per pair with
a learning rate of 0.025, and a batch of B pairs summed gives each row the
same total step; averaging would make it B times too small.

The input vectors start uniform in +-0.5/D and the output vectors at zero,
as in word2vec, so every score starts at 0 and every pair at loss (1+k) ln 2.
"""
from dataclasses import dataclass

from nanoae import backend, functional as F, nn, ops
from nanoae.nn import init


@dataclass
class SkipGramConfig:
    vocab_size: int
    dim: int = 100        # D, the size of a word vector
    sparse: bool = True   # row-sparse gradients (False: the dense path, for comparison)


class SkipGram(nn.Module):
    """Input and output embedding tables (V, D) and the negative-sampling loss above."""

    name = "skipgram"

    def __init__(self, config):
        super().__init__()
        self.config = config
        v, d = config.vocab_size, config.dim
        self.input_vectors = nn.Embedding(v, d, sparse=config.sparse)    # u: the word vectors
        self.output_vectors = nn.Embedding(v, d, sparse=config.sparse)   # v: the words as contexts
        init.uniform_(self.input_vectors.weight, -0.5 / d, 0.5 / d)
        init.zeros_(self.output_vectors.weight)

    def loss(self, centres, contexts, negatives):
        """The summed loss of B pairs: centres (B,), contexts (B,), negatives (B, k) word numbers."""
        xp = backend.get_array_module(contexts)                            # where the word numbers are
        targets = xp.concatenate([contexts[:, None], negatives], axis=1)   # (B, 1 + k): true context first
        return ops.negative_sampling_loss(self.input_vectors(centres), self.output_vectors(targets))

    def word_vectors(self):
        """The input vectors, (V, D), as a NumPy array on the CPU: what the model learned."""
        return self.input_vectors.weight.numpy()
