"""The autoencoders, one file each, all with the same interface.

| name       | class                    | file             | loss terms                   |
| ---------- | ------------------------ | ---------------- | ---------------------------- |
| ``ae``     | ``Autoencoder``          | ``autoencoder.py`` | recon                      |
| ``dae``    | ``DenoisingAutoencoder`` | ``denoising.py`` | recon (of the clean x)       |
| ``sparse`` | ``SparseAutoencoder``    | ``sparse.py``    | recon, sparsity              |
| ``cae``    | ``ContractiveAutoencoder`` | ``contractive.py`` | recon, contractive       |
| ``vae``    | ``VAE``                  | ``vae.py``       | recon, kl                    |
| ``conv-ae`` | ``ConvAutoencoder``     | ``conv.py``      | recon                        |
| ``aae``    | ``AdversarialAutoencoder`` | ``aae.py``     | recon, disc, gen (trained in phases) |

Every model is built from its config dataclass (``Model(config=None)`` uses
the defaults) and has ``encode``, ``decode`` (pixels), ``decode_logits``,
``forward``, ``reconstruct`` (deterministic), ``code`` (what plots show) and
``loss(x) -> (total, terms)``: each term is per example (summed over pixels or
units, averaged over the batch) and ``total`` is their weighted sum, with the
weight named in the config (``beta``, ``lam``). ``mlp.py`` builds the layers.
"""
from nanoae.models.aae import AAEConfig, AdversarialAutoencoder
from nanoae.models.autoencoder import Autoencoder, AutoencoderConfig
from nanoae.models.contractive import ContractiveAutoencoder, ContractiveConfig
from nanoae.models.conv import ConvAutoencoder, ConvAutoencoderConfig
from nanoae.models.denoising import DenoisingAutoencoder, DenoisingConfig
from nanoae.models.sparse import SparseAutoencoder, SparseConfig
from nanoae.models.vae import VAE, VAEConfig

MODELS = {
    "ae": Autoencoder,
    "dae": DenoisingAutoencoder,
    "sparse": SparseAutoencoder,
    "cae": ContractiveAutoencoder,
    "vae": VAE,
    "conv-ae": ConvAutoencoder,
    "aae": AdversarialAutoencoder,
}

__all__ = ["MODELS", "Autoencoder", "AutoencoderConfig", "DenoisingAutoencoder", "DenoisingConfig",
           "SparseAutoencoder", "SparseConfig", "ContractiveAutoencoder", "ContractiveConfig", "VAE", "VAEConfig",
           "ConvAutoencoder", "ConvAutoencoderConfig", "AdversarialAutoencoder", "AAEConfig"]
