"""The chapter tools: what we do with an autoencoder once it is trained (chapters 02 and 07-10).

They stand beside the models: each works on codes, scores or arrays, and none
is needed to train a model. None of them imports NumPy: the array module comes
from the data, as in the engine.

| file | what is inside | chapter |
| --- | --- | --- |
| ``pca.py`` | ``PCA`` by SVD, the linear baseline | 02, 07, 08 |
| ``metrics.py`` | the ROC curve, its area (AUC), the threshold at a false-positive rate | 07 |
| ``anomaly.py`` | anomaly scores (reconstruction error, -ELBO, PCA's) and the one-class split | 07 |
| ``hashing.py`` | binary codes, Hamming distance, a hash table with Hamming-ball lookup, baseline hashes | 08 |
| ``retrieval.py`` | nearest neighbours by linear scan, precision@k | 08, 09 |
| ``latent.py`` | interpolation (linear, slerp), class means, attribute vectors, path measures | 09 |
| ``probe.py`` | a linear classifier on codes: how much a code says about the label | 09, 10 |
| ``sae.py`` | a sparse autoencoder's measures: normalized MSE, L0, dead latents, downstream loss, class mix | 16 |
| ``word_vectors.py`` | word vectors: nearest neighbours, analogies by 3CosAdd with coverage, Spearman's rho | 14 |

Import the file you need: ``from nanoae.analysis.metrics import roc_auc``.
"""
