"""PyTorch mirror of the vector-quantized VAE, ``nanoae/models/vq_vae.py`` ("vq-vae").

    z_e    = encoder(x)                                   # (B, D, h, w)
    k      = argmin_k ||z_e - e_k||^2 at each place       # (B, h, w)
    z_q    = e_k                                          # (B, D, h, w)
    logits = decoder(z_e + (z_q - z_e).detach())          # the straight-through estimator, as torch users write it
    recon  = 1/B sum BCE,   codebook = 1/B sum ||sg(z_e) - z_q||^2,   commitment = 1/B sum ||z_e - sg(z_q)||^2

With ``codebook_update="ema"`` the codebook is a constant in the loss, and
the EMA state (``ema_count``, ``ema_sum``) comes across as buffers. The EMA
update and the restarts of dead codes run between training steps in nanoae
(``after_step``); the mirror computes what one step computes, not those.
"""
import torch
import torch.nn.functional as F


class VQVAE(torch.nn.Module):
    """The mirror of ``nanoae.models.VQVAE``: ``loss(x)`` returns ``(total, {"recon", ["codebook",] "commitment"})``."""

    def __init__(self, config, encoder, codebook, decoder):
        super().__init__()
        self.config = config
        if config.codebook_update == "ema":       # nanoae's parameters without a gradient: buffers here
            self.register_buffer("ema_count", torch.empty(config.codebook_size))
            self.register_buffer("ema_sum", torch.empty(config.codebook_size, config.embedding_dim))
        self.encoder, self.codebook, self.decoder = encoder, codebook, decoder

    def encode(self, x):
        return self.encoder(x.reshape(len(x), *self.config.image_shape))     # (B, D, h, w)

    def quantize(self, z_e):
        """(z_q (B, D, h, w), k (B, h, w)), with the distances written as nanoae writes them."""
        b, d, h, w = z_e.shape
        rows = z_e.permute(0, 2, 3, 1).reshape(b * h * w, d)
        e = self.codebook.weight                                                 # (K, D)
        distances = (rows * rows).sum(1, keepdim=True) - 2 * rows @ e.T + (e * e).sum(1)
        k = distances.argmin(1).reshape(b, h, w)
        return self.lookup(k), k

    def lookup(self, k):
        e = self.codebook.weight.detach() if self.config.codebook_update == "ema" else self.codebook.weight
        return e[k].permute(0, 3, 1, 2)                                          # (B, D, h, w)

    def codes(self, x):
        return self.quantize(self.encode(x))[1]

    def decode_logits(self, z_q):
        return self.decoder(z_q).reshape(len(z_q), self.config.input_dim)

    def decode(self, z_q):
        return torch.sigmoid(self.decode_logits(z_q))

    def decode_codes(self, k):
        return self.decode(self.lookup(k))

    def forward(self, x):
        return self.decode(self.quantize(self.encode(x))[0])

    def reconstruct(self, x):
        return self.forward(x)

    def code(self, x):
        return self.quantize(self.encode(x))[0].reshape(len(x), -1)

    def loss(self, x):
        z_e = self.encode(x)
        z_q, _ = self.quantize(z_e)
        logits = self.decode_logits(z_e + (z_q - z_e).detach())
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        commitment = ((z_e - z_q.detach()) ** 2).sum() / len(x)
        terms = {"recon": recon}
        if self.config.codebook_update == "loss":
            terms["codebook"] = ((z_e.detach() - z_q) ** 2).sum() / len(x)
        terms["commitment"] = commitment
        total = recon + self.config.beta * commitment
        if "codebook" in terms:
            total = total + terms["codebook"]
        return total, terms
