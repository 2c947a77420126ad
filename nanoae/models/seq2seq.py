"""The sequence-to-sequence autoencoder: a GRU reads a sequence into one code, another GRU rebuilds it.

For a batch of N sequences of up to T steps (padded; ``lengths`` (N,) says
how many steps are real):

    encoder:  h_T = GRU_enc(x_1 .. x_L)          the state after the last real step, (N, H)
              z   = W_z h_T + b_z                the code, one fixed-length vector, (N, latent_dim)
    decoder:  s_0 = tanh(W_s z + b_s)            the decoder's initial state, (N, H)
              s_t = GRUCell_dec(z, s_{t-1})      t = 1 .. T, the code is the input at EVERY step
              y_t = W_o s_t + b_o                logits of step t, (N, out_dim)

The decoder sees nothing of x but z. The other common choice, teacher
forcing, feeds the decoder the true previous step x_{t-1} while training; it
trains faster, but a decoder that is shown the previous row of an image can
copy it and lean less on the code, and at reconstruction time it must feed
back its own guesses instead, a computation it was never trained on. Feeding
z at every step keeps training and reconstruction the same computation, and
every bit of the reconstruction has to pass through the code (the
unconditioned decoder of Srivastava et al. 2015).

Three kinds of sequences, chosen by ``recon``:

- ``"bce"``: frames of ``input_dim`` numbers in [0, 1] (e.g. the rows of an
  image); sigmoid outputs, binary cross-entropy from the logits;
- ``"mse"``: frames of real numbers (e.g. a noisy sine wave, ``input_dim=1``);
  linear outputs, squared error;
- ``"cross_entropy"``: integer tokens in [0, vocab_size), read through an
  :class:`~nanoae.nn.Embedding`; the outputs are logits over the vocabulary.

The loss is summed over the real steps (and the features of a frame) and
averaged over the sequences: nats (or squared error) per sequence. Padding
counts for nothing: the encoder stops at each sequence's length, and the
decoder's outputs past it are masked out of the loss.
"""
from dataclasses import dataclass

from nanoae import checks, functional as F, nn
from nanoae.models.config import config_or_default
from nanoae.autograd import ShapeError, Tensor


@dataclass
class Seq2SeqConfig:
    input_dim: int = 28          # numbers per frame (recon "bce" or "mse"); unused for tokens
    vocab_size: int = 0          # tokens in [0, vocab_size) for recon="cross_entropy"; 0 for frames
    embedding_dim: int = 16      # the size of a token's vector (tokens only)
    hidden_size: int = 128       # the state size of both GRUs
    latent_dim: int = 32         # the code: one vector per sequence
    recon: str = "bce"           # "bce" (frames in [0, 1]), "mse" (real frames) or "cross_entropy" (tokens)

    def __post_init__(self):
        checks.choice("Seq2SeqConfig", "recon", self.recon, ("bce", "mse", "cross_entropy"))
        for field in ("input_dim", "embedding_dim", "hidden_size", "latent_dim"):
            checks.positive_int("Seq2SeqConfig", field, getattr(self, field))
        if (self.recon == "cross_entropy") != (self.vocab_size > 0):
            raise ValueError(f"Seq2SeqConfig: tokens need recon='cross_entropy' and vocab_size > 0 together, "
                             f"got recon={self.recon!r} and vocab_size={self.vocab_size}")

    @property
    def tokens(self):
        return self.vocab_size > 0


def sequence_mask(lengths, steps, xp):
    """(N, T) booleans, True at the real steps t < lengths[n] (all True when lengths is None)."""
    if lengths is None:
        return None
    lengths = xp.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    return xp.arange(steps)[None, :] < lengths[:, None]


class Seq2SeqAutoencoder(nn.Module):
    """GRU encoder -> one code z -> GRU decoder; ``loss(x, lengths=None)`` returns ``(total, {"recon": ...})``."""

    name = "seq2seq"
    config_class = Seq2SeqConfig
    input_kind = "sequences"     # (N, T, input_dim) frames or (N, T) tokens, not flat images

    def __init__(self, config=None):
        super().__init__()
        self.config = config_or_default(self, config)
        c = self.config
        step_size = c.input_dim
        if c.tokens:
            self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)
            step_size = c.embedding_dim
        self.encoder = nn.GRU(step_size, c.hidden_size)
        self.to_code = nn.Linear(c.hidden_size, c.latent_dim)
        self.from_code = nn.Linear(c.latent_dim, c.hidden_size)
        self.decoder = nn.GRU(c.latent_dim, c.hidden_size)
        self.output = nn.Linear(c.hidden_size, c.vocab_size if c.tokens else c.input_dim)

    def _check(self, x):
        c = self.config
        if c.tokens and (x.ndim != 2 or x.dtype.kind not in "iu"):
            raise ShapeError(f"Seq2SeqAutoencoder: tokens must be integers of shape (N, T), "
                             f"got shape {x.shape} and dtype {x.dtype}")
        if not c.tokens and (x.ndim != 3 or x.shape[2] != c.input_dim):
            raise ShapeError(f"Seq2SeqAutoencoder: frames must have shape (N, T, {c.input_dim}), got {x.shape}")

    def encode(self, x, lengths=None):
        """x (N, T, input_dim) frames or (N, T) tokens -> the code z (N, latent_dim)."""
        self._check(x)
        steps = self.embedding(x) if self.config.tokens else x          # (N, T, step_size)
        _, h_last = self.encoder(steps, lengths=lengths)                  # (N, H): after each last real step
        return self.to_code(h_last)                                       # (N, latent_dim)

    def decode_logits(self, z, steps):
        """The code z (N, latent_dim) -> logits (N, steps, out_dim), out_dim = input_dim or vocab_size."""
        s0 = F.tanh(self.from_code(z))                                    # (N, H)
        inputs = z.reshape(len(z), 1, self.config.latent_dim).broadcast_to(
            (len(z), steps, self.config.latent_dim))                      # z at every step, (N, steps, latent)
        outputs, _ = self.decoder(inputs, s0)                             # (N, steps, H)
        return self.output(outputs)                                       # (N, steps, out_dim)

    def decode(self, z, steps):
        """Frames in [0, 1] ("bce"), real frames ("mse") or token probabilities (softmax over the vocabulary)."""
        logits = self.decode_logits(z, steps)
        if self.config.recon == "bce":
            return F.sigmoid(logits)
        return F.softmax(logits, axis=-1) if self.config.tokens else logits

    def forward(self, x, lengths=None):
        return self.decode(self.encode(x, lengths), x.shape[1])

    def code(self, x, lengths=None):
        """The code shown in plots: encode(x)."""
        return self.encode(x, lengths)

    def reconstruct(self, x, lengths=None):
        """Frames (N, T, input_dim), zero past each length; or token ids (N, T), the likeliest ones, -1 past it."""
        out = self.forward(x, lengths)
        mask = sequence_mask(lengths, x.shape[1], out.xp)
        if self.config.tokens:
            ids = out.data.argmax(axis=-1)                                # (N, T)
            return Tensor(ids if mask is None else out.xp.where(mask, ids, -1))
        return out if mask is None else out * Tensor(mask[:, :, None].astype(out.dtype))

    def reconstruction_loss(self, logits, x, lengths=None):
        """Summed over the real steps (and a frame's features), averaged over the sequences."""
        c = self.config
        n, steps = logits.shape[0], logits.shape[1]
        mask = sequence_mask(lengths, steps, logits.xp)                               # (N, T) or None
        if mask is not None:   # padding may hold anything: it is no target (and counts 0 below)
            x = Tensor(x.xp.where(mask if c.tokens else mask[:, :, None], x.data, 0).astype(x.dtype))
        if c.tokens:
            per_step = F.cross_entropy(logits.reshape(n * steps, c.vocab_size), x.reshape(n * steps),
                                       reduction="none").reshape(n, steps)          # (N, T)
        elif c.recon == "bce":
            per_step = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(axis=2)
        else:
            per_step = F.mse_loss(logits, x, reduction="none").sum(axis=2)           # (N, T)
        if mask is not None:
            per_step = per_step * Tensor(mask.astype(per_step.dtype))               # padding counts 0
        return per_step.sum() / n

    def loss(self, x, lengths=None):
        recon = self.reconstruction_loss(self.decode_logits(self.encode(x, lengths), x.shape[1]), x, lengths)
        return recon, {"recon": recon}
