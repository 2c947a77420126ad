"""Draw docs/fontdigits.png: ten fontdigits training images of each class, one row per class.

With nanoae installed (pip install -e .), from the repository root:

    python docs/make_fontdigits_grid.py
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw to a file, no window needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nanoae.data import load_dataset  # noqa: E402

COLUMNS = 10


def main(path=Path(__file__).with_name("fontdigits.png")):
    data = load_dataset("fontdigits", split="train", limit=1000)  # 100 of each class
    rows = [data.images[data.labels == label][:COLUMNS] for label in range(10)]
    padded = np.pad(np.stack(rows), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=80)  # grey frames
    grid = padded.transpose(0, 2, 1, 3).reshape(10 * 30, COLUMNS * 30)  # (rows*30, columns*30)

    fig, ax = plt.subplots(figsize=(6, 6.2), dpi=100)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_yticks(np.arange(10) * 30 + 14.5, data.classes)
    ax.set_xticks([])
    ax.set_title("fontdigits: the first ten training images of each class")
    fig.tight_layout()
    fig.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
