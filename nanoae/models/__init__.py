"""The autoencoders, one file each, all with the same interface; ``MODELS`` names them all.

| name        | class                        | file                  | loss terms                           |
| ----------- | ---------------------------- | --------------------- | ------------------------------------ |
| ``ae``      | ``Autoencoder``              | ``autoencoder.py``    | recon                                |
| ``dae``     | ``DenoisingAutoencoder``     | ``denoising.py``      | recon (of the clean x)               |
| ``sparse``  | ``SparseAutoencoder``        | ``sparse.py``         | recon, sparsity                      |
| ``cae``     | ``ContractiveAutoencoder``   | ``contractive.py``    | recon, contractive                   |
| ``vae``     | ``VAE``                      | ``vae.py``            | recon, kl                            |
| ``conv-ae`` | ``ConvAutoencoder``          | ``conv.py``           | recon                                |
| ``aae``     | ``AdversarialAutoencoder``   | ``aae.py``            | recon, disc, gen (trained in phases) |
| ``hash``    | ``SemanticHashingAutoencoder`` | ``semantic_hashing.py`` | recon (from a noisy sigmoid code)  |
| ``seq2seq`` | ``Seq2SeqAutoencoder``       | ``seq2seq.py``        | recon (of sequences, not images)     |
| ``vq-vae``  | ``VQVAE``                    | ``vq_vae.py``         | recon, codebook, commitment          |

Every model is built from its config dataclass (``Model(config=None)`` uses
the defaults) and has ``encode``, ``decode`` (pixels), ``decode_logits``,
``forward``, ``reconstruct`` (deterministic), ``code`` (what plots show) and
``loss(x) -> (total, terms)``: each term is per example (summed over pixels or
units, averaged over the batch) and ``total`` is their weighted sum, with the
weight named in the config (``beta``, ``lam``). ``input_kind`` says what a
model reads: ``"images"`` (flat rows of pixels, (B, D)) or ``"sequences"``.
A model with a prior to sample from has ``sample(n)``.

Beside them, not in ``MODELS`` (it reads codes, not images): ``CodePrior``
(``code_prior.py``), the VQ-VAE's autoregressive prior over its grid of codes.

``mlp.py`` builds the dense layers; ``config.py`` holds what the configs share.

Not in ``MODELS``, since they do not read images: ``sae.py`` (``SAE``, the sparse autoencoders of a
trained model's activations) and ``classifier.py`` (``MLPClassifier``, the model they study), chapter 16.
"""
from nanoae import backend
from nanoae.models.aae import AAEConfig, AdversarialAutoencoder
from nanoae.models.autoencoder import Autoencoder, AutoencoderConfig
from nanoae.models.code_prior import CodePrior, CodePriorConfig
from nanoae.models.contractive import ContractiveAutoencoder, ContractiveConfig
from nanoae.models.conv import ConvAutoencoder, ConvAutoencoderConfig
from nanoae.models.denoising import DenoisingAutoencoder, DenoisingConfig
from nanoae.models.semantic_hashing import SemanticHashingAutoencoder, SemanticHashingConfig
from nanoae.models.seq2seq import Seq2SeqAutoencoder, Seq2SeqConfig
from nanoae.models.sparse import SparseAutoencoder, SparseConfig
from nanoae.models.vae import VAE, VAEConfig
from nanoae.models.vq_vae import VQVAE, VQVAEConfig

# Every model by its short name, which is also its class's ``name``.
MODELS = {cls.name: cls for cls in (Autoencoder, DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder,
                                    VAE, ConvAutoencoder, AdversarialAutoencoder, SemanticHashingAutoencoder,
                                    Seq2SeqAutoencoder, VQVAE)}


def build_model(name, model_config=None, seed=0):
    """A model from its short name ("ae", "vae", ...) and its config (a dataclass, a dict or None
    for the defaults), with weights drawn from ``seed``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    cls = MODELS[name]
    if isinstance(model_config, dict):
        model_config = cls.config_class(**model_config)
    backend.manual_seed(seed)
    return cls(model_config)


__all__ = ["MODELS", "build_model", "Autoencoder", "AutoencoderConfig", "DenoisingAutoencoder", "DenoisingConfig",
           "SparseAutoencoder", "SparseConfig", "ContractiveAutoencoder", "ContractiveConfig", "VAE", "VAEConfig",
           "ConvAutoencoder", "ConvAutoencoderConfig", "AdversarialAutoencoder", "AAEConfig",
           "SemanticHashingAutoencoder", "SemanticHashingConfig", "Seq2SeqAutoencoder", "Seq2SeqConfig",
           "VQVAE", "VQVAEConfig", "CodePrior", "CodePriorConfig"]
