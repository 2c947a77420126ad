"""PyTorch mirror of the sequence-to-sequence autoencoder, ``nanoae/models/seq2seq.py`` ("seq2seq").

    h_T = GRU_enc(x_1 .. x_L)      the state after each sequence's last real step, (N, H)
    z   = to_code(h_T)             (N, latent_dim)
    s_0 = tanh(from_code(z))       the decoder's initial state
    y   = output(GRU_dec(z, z, ..., z; s_0))      z is the input at every step, (N, T, out_dim)

The two GRUs are ``torch.nn.GRU(batch_first=True)``, whose weights are named
``weight_ih_l0``, ... where nanoae's are ``cell.weight_ih``, ... (``layers.py``).
torch's GRU takes no ``lengths``: the encoder packs the batch instead, which
stops each sequence at its length as nanoae's GRU does. Lengths must be >= 1
here (torch refuses empty sequences; nanoae gives them the code of h_0 = 0).
"""
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence


def sequence_mask(lengths, steps, device):
    """(N, T) booleans, True at the real steps t < lengths[n]; None when lengths is None."""
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths, device=device)
    return torch.arange(steps, device=device)[None, :] < lengths[:, None]


class Seq2SeqAutoencoder(torch.nn.Module):
    """The mirror of ``nanoae.models.Seq2SeqAutoencoder``: ``loss(x, lengths=None)`` returns ``(recon, {"recon"})``."""

    def __init__(self, config, encoder, to_code, from_code, decoder, output, embedding=None):
        super().__init__()
        self.config = config
        if embedding is not None:                     # first, as in nanoae, so the state_dict keys come in its order
            self.embedding = embedding
        self.encoder, self.to_code, self.from_code = encoder, to_code, from_code
        self.decoder, self.output = decoder, output

    def encode(self, x, lengths=None):
        """x (N, T, input_dim) frames or (N, T) tokens -> z (N, latent_dim)."""
        steps = self.embedding(x) if self.config.tokens else x                    # (N, T, step_size)
        if lengths is not None:
            steps = pack_padded_sequence(steps, torch.as_tensor(lengths).cpu(), batch_first=True,
                                         enforce_sorted=False)
        _, h_last = self.encoder(steps)                                           # (1, N, H): one layer
        return self.to_code(h_last[0])

    def decode_logits(self, z, steps):
        s0 = torch.tanh(self.from_code(z))                                        # (N, H)
        inputs = z[:, None, :].expand(len(z), steps, self.config.latent_dim)      # (N, steps, latent_dim)
        outputs, _ = self.decoder(inputs, s0[None])                               # (N, steps, H)
        return self.output(outputs)                                               # (N, steps, out_dim)

    def decode(self, z, steps):
        logits = self.decode_logits(z, steps)
        if self.config.recon == "bce":
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=-1) if self.config.tokens else logits

    def forward(self, x, lengths=None):
        return self.decode(self.encode(x, lengths), x.shape[1])

    def code(self, x, lengths=None):
        return self.encode(x, lengths)

    def reconstruct(self, x, lengths=None):
        """Frames, zero past each length; or the likeliest token ids, -1 past it."""
        out = self.forward(x, lengths)
        mask = sequence_mask(lengths, x.shape[1], out.device)
        if self.config.tokens:
            ids = out.argmax(dim=-1)                                              # (N, T)
            return ids if mask is None else torch.where(mask, ids, -1)
        return out if mask is None else out * mask[:, :, None]

    def reconstruction_loss(self, logits, x, lengths=None):
        """Summed over the real steps (and a frame's features), averaged over the sequences."""
        c = self.config
        n, steps = logits.shape[0], logits.shape[1]
        mask = sequence_mask(lengths, steps, logits.device)                       # (N, T) or None
        if mask is not None:
            x = torch.where(mask if c.tokens else mask[:, :, None], x, 0)
        if c.tokens:
            per_step = F.cross_entropy(logits.reshape(n * steps, c.vocab_size), x.reshape(n * steps),
                                       reduction="none").reshape(n, steps)       # (N, T)
        elif c.recon == "bce":
            per_step = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=2)
        else:
            per_step = F.mse_loss(logits, x, reduction="none").sum(dim=2)
        if mask is not None:
            per_step = per_step * mask                                            # padding counts 0
        return per_step.sum() / n

    def loss(self, x, lengths=None):
        recon = self.reconstruction_loss(self.decode_logits(self.encode(x, lengths), x.shape[1]), x, lengths)
        return recon, {"recon": recon}
