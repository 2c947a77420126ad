"""Datasets and the DataLoader: the IDX format and its corruptions, where
MNIST-style files are found or downloaded (never from the network here),
the fontdigits generator, and batching.

Every test gets its own empty data folder ($NANOAE_DATA and $HOME point into
tmp_path), so nothing reads or writes the real cache.
"""
import gzip
import hashlib
import re
import struct
import tracemalloc
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import nanoae
from nanoae.data import (DATASETS, ChecksumError, DataLoader, Dataset, DatasetNotFoundError, IDXError,
                         fontdigits, load_dataset, mnist, read_idx, write_idx)
from nanoae.data.fontdigits import load_fontdigits

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_debian_fashion = pytest.mark.skipif(
    not (DEBIAN_FASHION / "train-labels-idx1-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist package is not installed")


@pytest.fixture(autouse=True)
def private_data_folders(tmp_path, monkeypatch):
    """$NANOAE_DATA and ~ in tmp_path, and only file:// URLs may be opened."""
    monkeypatch.setenv("NANOAE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    real_urlopen = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        assert str(url).startswith("file:"), f"a test tried to reach the network: {url}"
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
    return tmp_path / "data"


@pytest.fixture
def empty_system_dir(tmp_path, monkeypatch):
    """Pretend /usr/share/datasets is empty."""
    system = tmp_path / "system"
    system.mkdir()
    monkeypatch.setattr(mnist, "SYSTEM_DIR", system)
    return system


def fake_split(folder, split, n, value, gz=True):
    """Write n images all equal to ``value`` and labels 0, 1, ... as the split's IDX files."""
    folder.mkdir(parents=True, exist_ok=True)
    images_stem, labels_stem = mnist.FILES[split]
    suffix = ".gz" if gz else ""
    write_idx(folder / (images_stem + suffix), np.full((n, 28, 28), value, dtype=np.uint8))
    write_idx(folder / (labels_stem + suffix), (np.arange(n) % 10).astype(np.uint8))


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- IDX ----------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (0, 4)])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_idx_round_trip_keeps_dtype_shape_and_values(tmp_path, dtype, shape, suffix):
    values = np.random.default_rng(0).uniform(-100, 100, shape)
    array = (np.abs(values) if dtype == "uint8" else values).astype(dtype)
    path = tmp_path / f"array.idx{suffix}"
    write_idx(path, array)
    loaded = read_idx(path)
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)


def test_write_idx_writes_the_documented_big_endian_layout(tmp_path):
    write_idx(tmp_path / "a.idx", np.array([[1, 258, -2]], dtype=np.int16))
    assert (tmp_path / "a.idx").read_bytes() == bytes(
        [0, 0, 0x0B, 2,            # magic: two zeros, int16, 2 dimensions
         0, 0, 0, 1, 0, 0, 0, 3,   # sizes 1 and 3, big-endian
         0x00, 0x01, 0x01, 0x02, 0xFF, 0xFE])  # 1, 258, -2 big-endian


def test_write_idx_refuses_a_dtype_idx_cannot_store(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_idx(tmp_path / "a.idx", np.arange(3))


VALID = bytes([0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 4]) + bytes(range(12))  # uint8 (3, 4)
CORRUPTIONS = {
    "bad magic": (b"\x01" + VALID[1:], "bad magic number"),
    "wrong type code": (VALID[:2] + b"\x07" + VALID[3:], "unknown type code 0x07"),
    "zero dimensions": (VALID[:3] + b"\x00", "0 dimensions"),
    "truncated data": (VALID[:-1], "cut short: the header claims shape (3, 4) of uint8, "
                                   "12 bytes of data, the file holds 11"),
    "extra bytes": (VALID + b"\x00", "too long: the header claims shape (3, 4) of uint8, "
                                    "12 bytes of data, the file holds 13"),
    "truncated header": (VALID[:10], "truncated header"),
    "shorter than the magic number": (VALID[:2], "truncated header"),
    "empty": (b"", "the file is empty: 0 bytes"),
}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("case", CORRUPTIONS)
def test_read_idx_names_the_full_path_and_the_problem_for_each_corruption(tmp_path, case, gz):
    data, problem = CORRUPTIONS[case]
    path = tmp_path / ("broken.idx.gz" if gz else "broken.idx")
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IDXError) as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: ") and problem in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_idx_names_the_absolute_path_of_a_relative_one(tmp_path, monkeypatch):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "broken.idx").write_bytes(VALID[:-1])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(IDXError, match=re.escape(f"{tmp_path / 'cache' / 'broken.idx'}: cut short")):
        read_idx(Path("cache") / "broken.idx")


@pytest.mark.parametrize("name, cause", [("images", "its name should end in .gz"),
                                         ("images.gz", "it was compressed twice")])
def test_read_idx_says_when_idx_bytes_are_still_gzip_compressed(tmp_path, name, cause):
    path = tmp_path / name
    packed = gzip.compress(VALID)
    path.write_bytes(gzip.compress(packed) if name.endswith(".gz") else packed)
    with pytest.raises(IDXError, match=f"bad magic number: .*0x1f 0x8b, as gzip data does: {cause}"):
        read_idx(path)


def test_read_idx_refuses_a_header_that_claims_more_than_the_file_holds_before_allocating(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 60000, 28, 28) + b"abc")
    tracemalloc.start()
    try:
        with pytest.raises(IDXError) as info:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (f"{path}: cut short: the header claims shape (60000, 28, 28) of uint8, "
                               f"47040000 bytes of data, the file holds 3")
    assert peak < 1_000_000  # nothing near the 47 MB the header claims was allocated


@pytest.mark.parametrize("damage", ["cut short", "bytes flipped", "not gzip at all"])
def test_read_idx_reports_a_corrupt_gzip_file(tmp_path, damage):
    packed = gzip.compress(VALID * 50)
    if damage == "cut short":
        packed = packed[:len(packed) // 2]
    elif damage == "bytes flipped":
        packed = packed[:20] + bytes(b ^ 0xFF for b in packed[20:30]) + packed[30:]
    else:
        packed = VALID
    path = tmp_path / "images.gz"
    path.write_bytes(packed)
    with pytest.raises(IDXError, match=re.escape(f"{path}: not a valid gzip file")):
        read_idx(path)


def test_read_idx_returns_a_writable_native_array(tmp_path):
    write_idx(tmp_path / "a.idx", np.arange(4, dtype=np.int32))
    array = read_idx(tmp_path / "a.idx")
    array += 1  # not a read-only view of the file's bytes
    assert array.dtype.isnative


# --- MNIST and Fashion-MNIST: finding files ------------------------------------

@needs_debian_fashion
def test_fashion_mnist_loads_from_the_debian_folder():
    train = load_dataset("fashion-mnist", split="train")
    test = load_dataset("fashion-mnist", split="test")
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    # The first training image is an ankle boot, as in the Fashion-MNIST README.
    assert list(train.labels[:10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert list(test.labels[:10]) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert train.classes[train.labels[0]] == "Ankle boot" and len(train.classes) == 10
    assert list(np.bincount(train.labels)) == [6000] * 10
    inputs = test.inputs()
    assert inputs.shape == (10000, 784) and inputs.dtype == np.float32
    assert inputs.min() == 0.0 and inputs.max() == 1.0
    np.testing.assert_array_equal(inputs[0], test.images[0].ravel() / np.float32(255))


@needs_debian_fashion
def test_limit_keeps_the_first_examples():
    limited = load_dataset("fashion-mnist", split="test", limit=25)
    full = load_dataset("fashion-mnist", split="test")
    assert len(limited) == 25
    np.testing.assert_array_equal(limited.images, full.images[:25])


def test_search_order_is_root_then_nanoae_data_then_home_cache_then_system(
        tmp_path, private_data_folders, empty_system_dir):
    places = {"root": tmp_path / "root" / "fashion-mnist",
              "NANOAE_DATA": private_data_folders / "fashion-mnist",
              "home cache": tmp_path / "home" / ".cache" / "nanoae" / "fashion-mnist",
              "system": empty_system_dir / "fashion-mnist"}
    for value, folder in enumerate(places.values(), start=1):
        fake_split(folder, "test", n=5, value=value, gz=value % 2 == 0)  # plain and .gz both found
    for value, (place, folder) in enumerate(places.items(), start=1):
        data = load_dataset("fashion-mnist", split="test", root=tmp_path / "root", download=False)
        assert data.images[0, 0, 0] == value, f"expected the copy in {place}"
        for file in folder.iterdir():
            file.unlink()  # next time the next place must be used


def test_nanoae_data_beats_the_debian_folder(private_data_folders):
    fake_split(private_data_folders / "fashion-mnist", "test", n=5, value=7)
    data = load_dataset("fashion-mnist", split="test")
    assert len(data) == 5 and (data.images == 7).all()


def test_a_folder_with_only_half_of_a_split_is_passed_over(private_data_folders, empty_system_dir):
    fake_split(empty_system_dir / "mnist", "train", n=4, value=2)
    half = private_data_folders / "mnist"
    fake_split(half, "train", n=4, value=9)
    (half / "train-labels-idx1-ubyte.gz").unlink()
    assert (load_dataset("mnist", download=False).images == 2).all()


# Hostile splits: the files that replace those of a good test split of 5 images
# (an array is written with write_idx, bytes are gzip-compressed as they are),
# the files the error must name by full path, the first one first, and what it must say.
HOSTILE_SPLITS = {
    "10x10 images": ({"images": np.zeros((5, 10, 10), np.uint8)},
                     ["images"], "the images are 10x10, mnist images are 28x28"),
    "no images": ({"images": np.zeros((0, 28, 28), np.uint8), "labels": np.zeros(0, np.uint8)},
                  ["images"], "holds no images (the header gives shape (0, 28, 28))"),
    "empty images file": ({"images": b""}, ["images"], "the file is empty: 0 bytes"),
    "int16 images": ({"images": np.zeros((5, 28, 28), np.int16)},
                     ["images"], "expected uint8 images of shape (N, 28, 28), found int16 (5, 28, 28)"),
    "images cut short": ({"images": bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 5, 28, 28) + bytes(100)},
                         ["images"], "cut short: the header claims shape (5, 28, 28) of uint8, "
                                     "3920 bytes of data, the file holds 100"),
    "files swapped": ({"images": np.zeros(5, np.uint8), "labels": np.zeros((5, 28, 28), np.uint8)},
                      ["images"], "expected uint8 images of shape (N, 28, 28), found uint8 (5,)"),
    "labels with a bad magic number": ({"labels": b"\x01" + VALID[1:]}, ["labels"], "bad magic number"),
    "labels out of 0..9": ({"labels": np.array([0, 1, 12, 3, 10], np.uint8)},
                           ["labels"], "labels must lie in 0..9, found 12 at index 2; 2 of 5 labels lie outside"),
    "float labels": ({"labels": np.array([0, 1.5, 2, 3, 4], np.float32)},
                     ["labels"], "expected uint8 labels of shape (N,), found float32 (5,)"),
    "fewer labels than images": ({"labels": np.zeros(4, np.uint8)},
                                 ["labels", "images"], "holds 4 labels but"),
}


@pytest.mark.parametrize("case", HOSTILE_SPLITS)
def test_load_dataset_refuses_a_hostile_file_naming_its_full_path(tmp_path, monkeypatch, empty_system_dir,
                                                                   case):
    replacements, named, problem = HOSTILE_SPLITS[case]
    folder = tmp_path / "root" / "mnist"
    fake_split(folder, "test", n=5, value=1)
    paths = {"images": folder / "t10k-images-idx3-ubyte.gz", "labels": folder / "t10k-labels-idx1-ubyte.gz"}
    for kind, content in replacements.items():
        if isinstance(content, bytes):
            paths[kind].write_bytes(gzip.compress(content))
        else:
            write_idx(paths[kind], content)
    monkeypatch.chdir(tmp_path)  # a relative root: the message must still hold the full path
    with pytest.raises(IDXError) as info:
        load_dataset("mnist", split="test", root="root", download=False)
    message = str(info.value)
    assert message.startswith(str(paths[named[0]])) and problem in message
    assert all(str(paths[kind]) in message for kind in named)


def test_offline_error_says_where_it_looked_and_what_to_do(private_data_folders, empty_system_dir):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion-mnist", split="train", download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for folder in (private_data_folders, empty_system_dir):
        assert str(folder / "fashion-mnist") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "fontdigits" in message and "download=False" in message


def test_failed_download_gives_the_offline_error_with_the_reason(tmp_path, monkeypatch, empty_system_dir):
    unreachable = (tmp_path / "nowhere").as_uri() + "/"
    hashes = mnist.SOURCES["mnist"].sha256
    monkeypatch.setitem(mnist.SOURCES, "mnist", mnist.Source((unreachable,), hashes, mnist.DIGITS))
    with pytest.raises(DatasetNotFoundError, match="Downloading failed.*nowhere"):
        load_dataset("mnist", split="test")


# --- downloads, from file:// URLs ------------------------------------------------

def test_download_with_the_right_checksum_puts_the_file_in_place(tmp_path):
    source = tmp_path / "mirror" / "t10k-labels-idx1-ubyte.gz"
    source.parent.mkdir()
    source.write_bytes(b"the bytes of the file" * 1000)
    target = tmp_path / "cache" / "t10k-labels-idx1-ubyte.gz"
    target.parent.mkdir()
    mnist.download_file([source.as_uri()], target, sha256(source))
    assert target.read_bytes() == source.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left


def test_download_with_a_wrong_checksum_leaves_nothing_behind(tmp_path, monkeypatch):
    source = tmp_path / "mirror.gz"
    source.write_bytes(b"tampered")
    target = tmp_path / "cache" / "train-images-idx3-ubyte.gz"
    target.parent.mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ChecksumError) as info:
        mnist.download_file([source.as_uri()], Path("cache") / target.name, "0" * 64)
    assert str(info.value).startswith(f"{target}: downloaded from {source.as_uri()}")  # the full path
    assert "0" * 64 in str(info.value) and sha256(source) in str(info.value)
    assert list(target.parent.iterdir()) == []


def test_download_tries_the_next_mirror_when_one_is_unreachable(tmp_path):
    source = tmp_path / "good" / "file.gz"
    source.parent.mkdir()
    source.write_bytes(b"content")
    target = tmp_path / "file.gz"
    mnist.download_file([(tmp_path / "bad" / "file.gz").as_uri(), source.as_uri()], target, sha256(source))
    assert target.read_bytes() == b"content"
    with pytest.raises(OSError, match=re.escape(f"could not download {tmp_path / 'other.gz'}: ") + ".*bad.*bad"):
        mnist.download_file([(tmp_path / "bad" / "file.gz").as_uri()] * 2, tmp_path / "other.gz", "0" * 64)


def test_load_dataset_downloads_a_missing_split_once(tmp_path, monkeypatch, private_data_folders,
                                                     empty_system_dir):
    mirror = tmp_path / "mirror"
    fake_split(mirror, "test", n=6, value=3)
    hashes = {path.name: sha256(path) for path in mirror.iterdir()}
    monkeypatch.setitem(mnist.SOURCES, "mnist", mnist.Source((mirror.as_uri() + "/",), hashes, mnist.DIGITS))

    data = load_dataset("mnist", split="test")
    assert len(data) == 6 and (data.images == 3).all() and list(data.labels) == [0, 1, 2, 3, 4, 5]
    assert sorted(p.name for p in (private_data_folders / "mnist").iterdir()) == sorted(hashes)

    for path in mirror.iterdir():
        path.unlink()  # the second load must not need the mirror
    assert len(load_dataset("mnist", split="test")) == 6


# --- load_dataset and Dataset ------------------------------------------------------

def test_load_dataset_refuses_unknown_names_splits_and_limits():
    with pytest.raises(ValueError, match="auto, fontdigits, mnist, fashion-mnist"):
        load_dataset("cifar10")
    with pytest.raises(ValueError, match="'validation'"):
        load_dataset("fontdigits", split="validation")
    with pytest.raises(ValueError, match="limit"):
        load_dataset("fontdigits", limit=0)
    assert DATASETS == ("auto", "fontdigits", "mnist", "fashion-mnist")


def test_dataset_refuses_labels_outside_its_classes():
    with pytest.raises(ValueError, match="0..9, found 0..10"):
        Dataset("x", "train", np.zeros((2, 28, 28), np.uint8), np.array([0, 10]), [str(d) for d in range(10)])


# --- fontdigits -----------------------------------------------------------------

@pytest.fixture(scope="module")
def fontdigits_test_split():
    """The whole test split, made once for the tests that compare against it."""
    return fontdigits.generate("test", 10_000)


def test_bilinear_matches_hand_computed_values():
    stack = np.array([[[0.0, 1.0], [2.0, 3.0]], [[10.0, 10.0], [10.0, 10.0]]])
    x = np.array([[0.0, 1.0, 0.25, 0.5], [0.5, 0.5, 0.5, 0.5]])
    y = np.array([[0.0, 0.0, 0.0, 0.5], [0.5, 0.5, 0.5, 0.5]])
    values = fontdigits.bilinear(stack, np.array([0, 1]), x, y)
    np.testing.assert_allclose(values, [[0.0, 1.0, 0.25, 1.5], [10.0] * 4])


def test_fontdigits_has_mnist_shapes_types_and_balanced_labels():
    data = load_dataset("fontdigits", split="train", limit=2000)
    assert data.name == "fontdigits" and data.split == "train" and len(data) == 2000
    assert data.images.shape == (2000, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int64 and list(np.bincount(data.labels)) == [200] * 10
    assert data.classes == [str(d) for d in range(10)]
    assert (data.images.max(axis=(1, 2)) > 200).all()  # every image has ink
    edges = np.concatenate([data.images[:, 0], data.images[:, -1], data.images[:, :, 0], data.images[:, :, -1]], 1)
    assert (edges > 0).any(1).mean() < 0.005  # digits stay inside the frame, as in MNIST


def test_fontdigits_are_centred_and_sized_like_mnist():
    images = fontdigits.generate("train", 1000)[0].astype(np.float64)
    rows, cols = np.arange(28)[None, :, None], np.arange(28)[None, None, :]
    mass = images.sum((1, 2))
    centre_row = (images * rows).sum((1, 2)) / mass
    centre_col = (images * cols).sum((1, 2)) / mass
    assert abs(centre_row.mean() - 13.5) < 1 and abs(centre_col.mean() - 13.5) < 1
    inked = images > 64
    height = 28 - inked.any(2).argmax(1) - inked.any(2)[:, ::-1].argmax(1)
    width = 28 - inked.any(1).argmax(1) - inked.any(1)[:, ::-1].argmax(1)
    assert 17 <= np.maximum(height, width).mean() <= 22  # MNIST: 20


def test_fontdigits_is_deterministic_for_a_seed():
    first, labels = fontdigits.generate("train", 1000, seed=0)
    again, labels_again = fontdigits.generate("train", 1000, seed=0)
    other, _ = fontdigits.generate("train", 1000, seed=1)
    assert first.tobytes() == again.tobytes() and (labels == labels_again).all()
    assert (first != other).mean() > 0.1


def test_fontdigits_train_and_test_differ():
    train, _ = fontdigits.generate("train", 1000)
    test, _ = fontdigits.generate("test", 1000)
    assert (train != test).mean() > 0.1


def test_fontdigits_limit_is_a_prefix_of_the_full_split(fontdigits_test_split):
    images, labels = fontdigits_test_split
    small = load_dataset("fontdigits", split="test", limit=1500)
    np.testing.assert_array_equal(small.images, images[:1500])
    np.testing.assert_array_equal(small.labels, labels[:1500])


def test_fontdigits_full_split_is_cached_and_reused(monkeypatch, private_data_folders, fontdigits_test_split):
    path = fontdigits.cache_path("test")
    assert path.parent == private_data_folders / "fontdigits"
    assert f"v{fontdigits.GENERATOR_VERSION}" in path.name and "seed0" in path.name
    assert not path.exists()
    first = load_dataset("fontdigits", split="test")
    assert path.exists()
    np.testing.assert_array_equal(first.images, fontdigits_test_split[0])

    def no_generating(*args, **kwargs):
        raise AssertionError("the cache should have been read")

    monkeypatch.setattr(fontdigits, "generate", no_generating)
    np.testing.assert_array_equal(load_dataset("fontdigits", split="test").images, first.images)
    np.testing.assert_array_equal(load_dataset("fontdigits", split="test", limit=30).labels, first.labels[:30])


def test_fontdigits_cache_name_changes_with_seed_and_generator_version(monkeypatch):
    names = {fontdigits.cache_path("train", seed=0).name, fontdigits.cache_path("train", seed=1).name}
    monkeypatch.setattr(fontdigits, "GENERATOR_VERSION", fontdigits.GENERATOR_VERSION + 1)
    names.add(fontdigits.cache_path("train", seed=0).name)
    assert len(names) == 3


@pytest.mark.parametrize("damage", ["not a zip file", "wrong arrays"])
def test_fontdigits_corrupt_cache_is_made_again_with_a_warning(fontdigits_test_split, damage):
    path = fontdigits.cache_path("test")
    path.parent.mkdir(parents=True)
    if damage == "not a zip file":
        path.write_bytes(b"PK\x03\x04 not really a zip file")
    else:
        nanoae.save({"images": np.zeros((5, 28, 28), np.uint8), "labels": np.zeros(5, np.int64)}, path)
    with pytest.warns(UserWarning, match="damaged"):
        data = load_dataset("fontdigits", split="test")
    np.testing.assert_array_equal(data.images, fontdigits_test_split[0])
    assert nanoae.load(path)["images"].shape == (10_000, 28, 28)  # rewritten, now valid


def test_fontdigits_smaller_seeded_loads_do_not_write_a_cache():
    load_fontdigits("train", limit=100, seed=5)
    assert not fontdigits.cache_path("train", seed=5).exists()


def test_fontdigits_examples_of_a_class_vary():
    images, labels = fontdigits.generate("train", 1000)
    for digit in range(10):
        same = images[labels == digit].reshape(-1, 784).astype(np.float64)
        assert len(np.unique(same, axis=0)) == len(same)  # no two alike
        assert same.std(0).mean() > 30  # and not nearly alike either (values 0..255)


def test_fontdigits_nearest_class_mean_is_learnable_but_not_trivial(fontdigits_test_split):
    train_images, train_labels = fontdigits.generate("train", 3000)
    test_images, test_labels = fontdigits_test_split[0][:1000], fontdigits_test_split[1][:1000]
    x_train = train_images.reshape(-1, 784) / 255.0
    x_test = test_images.reshape(-1, 784) / 255.0
    means = np.stack([x_train[train_labels == d].mean(0) for d in range(10)])  # (10, 784)
    distances = ((x_test[:, None, :] - means[None]) ** 2).sum(-1)            # (1000, 10)
    accuracy = (distances.argmin(1) == test_labels).mean()
    assert 0.5 < accuracy < 0.99, accuracy


# --- DataLoader ------------------------------------------------------------------

def served(loader):
    """The batches of one pass as NumPy arrays."""
    return [tuple(t.numpy() for t in batch) if isinstance(batch, tuple) else batch.numpy()
            for batch in loader]


def device_of(xp):
    return "cpu" if xp is np else "gpu"


@pytest.mark.parametrize("drop_last, sizes", [(False, [3, 3, 3, 1]), (True, [3, 3, 3])])
def test_loader_batch_count_with_and_without_drop_last(drop_last, sizes):
    loader = DataLoader(np.arange(10), batch_size=3, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [len(batch) for batch in served(loader)] == sizes


def test_loader_serves_every_row_once_per_epoch_and_keeps_rows_together(xp):
    x = np.arange(23)
    loader = DataLoader(x, x * 10, batch_size=5, seed=3, device=device_of(xp))
    for _ in range(3):
        batches = served(loader)
        xs = np.concatenate([xb for xb, _ in batches])
        ys = np.concatenate([yb for _, yb in batches])
        assert sorted(xs) == list(x)
        np.testing.assert_array_equal(ys, xs * 10)  # each row of y stays with its row of x


def test_loader_order_is_the_documented_function_of_seed_and_epoch():
    loader = DataLoader(np.arange(50), batch_size=50, seed=7)
    loader.set_epoch(4)
    np.testing.assert_array_equal(served(loader)[0], np.random.default_rng([7, 4]).permutation(50))


def test_loader_passes_differ_and_set_epoch_replays_a_pass(xp):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    loader = DataLoader(x, batch_size=4, seed=1, device=device_of(xp))
    passes = [np.concatenate(served(loader)) for _ in range(3)]
    assert not np.array_equal(passes[0], passes[1]) and not np.array_equal(passes[1], passes[2])

    resumed = DataLoader(x, batch_size=4, seed=1, device=device_of(xp))
    resumed.set_epoch(1)
    np.testing.assert_array_equal(np.concatenate(served(resumed)), passes[1])
    np.testing.assert_array_equal(np.concatenate(served(resumed)), passes[2])  # then counts on


def test_loader_different_seeds_give_different_orders():
    a, b = DataLoader(np.arange(30), seed=0), DataLoader(np.arange(30), seed=1)
    assert not np.array_equal(served(a)[0], served(b)[0])


def test_loader_without_shuffle_serves_rows_in_order():
    loader = DataLoader(np.arange(7), batch_size=3, shuffle=False)
    assert [list(b) for b in served(loader)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_loader_yields_tensors_on_the_device(xp):
    x = np.ones((6, 4), dtype=np.float32)
    y = np.arange(6)
    xb, yb = next(iter(DataLoader(x, y, batch_size=4, device=device_of(xp))))
    assert isinstance(xb, nanoae.Tensor) and isinstance(yb, nanoae.Tensor)
    assert xb.shape == (4, 4) and yb.shape == (4,) and xb.dtype == np.float32
    assert not xb.requires_grad and xb.device == device_of(xp) == yb.device
    single = next(iter(DataLoader(x, batch_size=4, device=device_of(xp))))
    assert isinstance(single, nanoae.Tensor)  # one array: a Tensor, not a 1-tuple


@pytest.mark.parametrize("arrays, options, message", [
    ((np.zeros(5), np.zeros(4)), {}, r"same length.*\[5, 4\]"),
    ((np.zeros(5),), {"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ((np.zeros(5),), {"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5"),
    ((), {}, "at least one array"),
    ((np.zeros(0),), {}, "empty"),
    ((np.zeros(5),), {"batch_size": 8, "drop_last": True}, "no batch at all"),
    ((np.zeros(5),), {"device": "tpu"}, "device must be 'cpu' or 'gpu'"),
])
def test_loader_errors_name_the_cause(arrays, options, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(*arrays, **options)
