"""A first run that works anywhere: DATASET = "auto", the one short error for a
dataset that is truly missing, downloads that try every mirror, and the
network block (tests/network_block) the notebook tests run under.

Mirrors are a small HTTP server on 127.0.0.1 run by these tests: it serves
files written with write_idx, a captive portal's page, or 404. Nothing here
reaches the network. Every test gets its own empty data folders ($NANOAE_DATA
and $HOME in tmp_path, /usr/share/datasets replaced by an empty folder) and
starts with no remembered "auto" choice.
"""
import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from nanoae import cli
from nanoae.checkpoint import load_checkpoint
from nanoae.data import (ChecksumError, DatasetNotFoundError, DownloadError, choose_dataset, download, forget_choices,
                         load_dataset, load_splits, mnist, write_idx)

REPO = Path(__file__).resolve().parents[1]
NETWORK_BLOCK = REPO / "tests" / "network_block"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
PORTAL_PAGE = b"<html><body>Welcome to the station's Wi-Fi. Please log in.</body></html>"
AUTO_LINE = 'dataset "auto" -> '


@pytest.fixture(autouse=True)
def private_folders(tmp_path, monkeypatch):
    """Empty $NANOAE_DATA, ~ and system folder; only file:// and 127.0.0.1 URLs may be opened."""
    monkeypatch.setenv("NANOAE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist, "SYSTEM_DIR", tmp_path / "system")
    real_urlopen = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        assert str(url).startswith(("file:", "http://127.0.0.1:")), f"a test tried to reach the network: {url}"
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
    forget_choices()
    yield tmp_path / "data"
    forget_choices()


def write_dataset(folder, value, n=6):
    """Both splits of an MNIST-style dataset in ``folder``: n images all equal to ``value``."""
    folder.mkdir(parents=True, exist_ok=True)
    for images_stem, labels_stem in mnist.FILES.values():
        write_idx(folder / f"{images_stem}.gz", np.full((n, 28, 28), value, np.uint8))
        write_idx(folder / f"{labels_stem}.gz", (np.arange(n) % 10).astype(np.uint8))
    return folder


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class MirrorHandler(http.server.BaseHTTPRequestHandler):
    """/files/NAME: the file NAME of the server's folder; /portal/...: a captive portal's page with
    200 OK, whatever was asked; anything else: 404."""

    def do_GET(self):
        self.server.requests.append(self.path)
        kind, _, name = self.path.lstrip("/").partition("/")
        if kind == "portal":
            body = PORTAL_PAGE
        elif kind == "files" and (self.server.folder / name).is_file():
            body = (self.server.folder / name).read_bytes()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # quiet


@pytest.fixture
def server(tmp_path):
    """A mirror on 127.0.0.1: ``server.url("files")`` is the base URL of the folder ``server.folder``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
    httpd.folder, httpd.requests = tmp_path / "served", []
    httpd.url = lambda kind: f"http://127.0.0.1:{httpd.server_address[1]}/{kind}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def mirror_mnist(monkeypatch, mirrors, folder=None):
    """Make MNIST's mirrors ``mirrors``, and its hashes those of the files in ``folder`` (if given)."""
    hashes = {path.name: sha256(path) for path in folder.iterdir()} if folder else mnist.SOURCES["mnist"].sha256
    monkeypatch.setitem(mnist.SOURCES, "mnist", mnist.Source(tuple(mirrors), hashes, mnist.DIGITS))


def auto_lines(capsys):
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith(AUTO_LINE)]


# --- the choice, in order ------------------------------------------------------------

def test_auto_takes_mnist_when_it_is_on_disk(private_folders, tmp_path, monkeypatch, capsys, server):
    folder = write_dataset(private_folders / "mnist", value=1)
    write_dataset(tmp_path / "system" / "fashion-mnist", value=2)
    mirror_mnist(monkeypatch, [server.url("files")])
    assert choose_dataset("auto") == ("mnist", f"MNIST is on disk in {folder}")
    data = load_dataset("auto", "train")
    assert data.name == "mnist" and (data.images == 1).all()
    assert server.requests == []  # nothing was downloaded
    assert auto_lines(capsys) == [f'{AUTO_LINE}mnist (MNIST is on disk in {folder}); to choose, set DATASET = '
                                  f'"mnist", "fashion-mnist" or "fontdigits" in the notebook\'s first cell '
                                  f'(nanoae train: --dataset NAME)']


def test_auto_downloads_mnist_when_it_can_before_taking_fashion_mnist(private_folders, tmp_path, monkeypatch,
                                                                      capsys, server):
    mirror_mnist(monkeypatch, [server.url("files")], write_dataset(server.folder, value=3))
    write_dataset(tmp_path / "system" / "fashion-mnist", value=2)
    train, test = load_splits("auto", limit=4)
    assert train.name == test.name == "mnist" and (train.images == 3).all() and len(test) == 4
    assert sorted(path.name for path in (private_folders / "mnist").iterdir()) == sorted(mnist.SOURCES["mnist"].sha256)
    assert len(server.requests) == 4  # each file once, for both splits
    assert f"(MNIST was downloaded into {private_folders / 'mnist'})" in auto_lines(capsys)[0]


@pytest.mark.parametrize("download", [True, False])
def test_auto_takes_fashion_mnist_on_disk_when_mnist_cannot_be_had(tmp_path, monkeypatch, capsys, server, download):
    mirror_mnist(monkeypatch, [server.url("missing")])  # answers 404
    fashion = write_dataset(tmp_path / "system" / "fashion-mnist", value=2)
    name, reason = choose_dataset("auto", download=download)
    assert name == "fashion-mnist" and reason.endswith(f"; Fashion-MNIST is on disk in {fashion}")
    if download:
        assert reason.startswith("MNIST is not on disk and could not be downloaded: HTTP 404")
    else:
        assert reason.startswith("MNIST is not on disk, and download=False") and server.requests == []
    assert (load_dataset("auto", "test", download=download).images == 2).all()


def test_auto_falls_back_to_fontdigits_when_nothing_is_on_disk(monkeypatch, capsys, closed_port_url):
    mirror_mnist(monkeypatch, [closed_port_url])
    data = load_dataset("auto", "test", limit=20)
    assert data.name == "fontdigits" and len(data) == 20
    [line] = auto_lines(capsys)
    assert line.startswith(f"{AUTO_LINE}fontdigits (MNIST is not on disk and could not be downloaded: ")
    assert "Connection refused" in line and "Fashion-MNIST is not on disk either" in line


def test_auto_prints_one_line_once_and_both_splits_agree(private_folders, monkeypatch, capsys, closed_port_url):
    mirror_mnist(monkeypatch, [closed_port_url])
    train, test = load_dataset("auto", "train", limit=10), load_dataset("auto", "test", limit=10)
    assert train.name == test.name == "fontdigits" and train.split == "train" and test.split == "test"
    assert len(auto_lines(capsys)) == 1

    # MNIST arriving now does not change the choice of this process: the splits stay one dataset ...
    write_dataset(private_folders / "mnist", value=5)
    assert load_dataset("auto", "test", limit=10).name == "fontdigits" and auto_lines(capsys) == []
    # ... until the choice is forgotten (a new kernel): then it is made, and printed, again.
    forget_choices()
    assert load_dataset("auto", "test", limit=10).name == "mnist" and len(auto_lines(capsys)) == 1


def test_a_named_dataset_stands_for_itself_and_unknown_names_are_refused():
    assert choose_dataset("fontdigits") == ("fontdigits", "asked for by name")
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'; the datasets are auto, fontdigits"):
        choose_dataset("cifar10")


def test_nanoae_train_takes_auto_and_records_the_dataset_it_chose(private_folders, tmp_path, capsys):
    write_dataset(private_folders / "mnist", value=200, n=20)
    quick = ["--epochs", "1", "--quiet", "--hidden", "16", "--latent", "2", "--out", str(tmp_path / "run")]
    assert cli.main(["train", "ae", "--dataset", "auto", *quick]) == 0
    assert load_checkpoint(tmp_path / "run" / "checkpoint.npz")["meta"]["dataset"] == "mnist"  # a resume loads it
    assert len(auto_lines(capsys)) == 1


# --- the error for a dataset that is truly missing ----------------------------------------

@pytest.mark.parametrize("fashion_on_disk", [True, False], ids=["fashion on disk", "nothing on disk"])
def test_a_missing_dataset_is_one_short_error_that_names_the_line_to_change(tmp_path, monkeypatch, server,
                                                                            closed_port_url, fashion_on_disk):
    mirror_mnist(monkeypatch, [server.url("portal"), closed_port_url])
    fashion = write_dataset(tmp_path / "system" / "fashion-mnist", value=2) if fashion_on_disk else None
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", "train")
    error = info.value
    assert error.__cause__ is None and error.__suppress_context__  # no chained traceback
    lines = str(error).splitlines()
    assert len(lines) <= 10, lines
    missing = lines[0]
    why = [line for line in lines if line.startswith("Downloading failed from ")]
    [change] = [line for line in lines if line.startswith("To go on, set DATASET = ")]
    assert missing.startswith("mnist (train) was not found: looked for train-images-idx3-ubyte(.gz)")
    assert why == [f"Downloading failed from {server.url('portal')}train-images-idx3-ubyte.gz: it answered with "
                   f"other bytes than the file (SHA-256 {hashlib.sha256(PORTAL_PAGE).hexdigest()[:12]}..., expected "
                   f"{mnist.SOURCES['mnist'].sha256['train-images-idx3-ubyte.gz'][:12]}...): a captive portal's "
                   f"log-in page?",
                   f"Downloading failed from {closed_port_url}train-images-idx3-ubyte.gz: [Errno 111] Connection "
                   f"refused"]
    assert lines.index(missing) < lines.index(why[0]) < lines.index(why[1]) < lines.index(change)
    fashion_status = (f"on disk here: yes, in {fashion}" if fashion_on_disk
                      else "on disk here: no; sudo apt-get install dataset-fashion-mnist")
    assert change == (f'To go on, set DATASET = "auto" (picks what is available), "fashion-mnist" ({fashion_status}) '
                      f'or "fontdigits" (no files needed) in the notebook\'s first cell (nanoae train: --dataset NAME).')


def test_a_missing_fashion_mnist_offers_mnist_and_the_apt_command(private_folders):
    write_dataset(private_folders / "mnist", value=1)
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion-mnist", "test", download=False)
    lines = str(info.value).splitlines()
    assert f'"mnist" (on disk here: yes, in {private_folders / "mnist"})' in lines[-3]
    assert '"fashion-mnist" (' not in str(info.value)  # not offered instead of itself
    assert lines[-1] == "On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_jupyter_shows_the_message_alone_instead_of_the_traceback():
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", "test", download=False)
    shown = info.value._render_traceback_()
    assert shown[0] == f"DatasetNotFoundError: {str(info.value).splitlines()[0]}"
    assert shown[1:] == str(info.value).splitlines()[1:] and len(shown) <= 10
    assert not any("Traceback" in line or 'File "' in line for line in shown)


# --- downloads: every mirror before giving up ----------------------------------------------

def test_a_mirror_answering_with_the_wrong_bytes_is_passed_over_for_the_next(tmp_path, server):
    server.folder.mkdir()
    (server.folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"the real file" * 100)
    target = tmp_path / "cache" / "t10k-labels-idx1-ubyte.gz"
    target.parent.mkdir()
    urls = [server.url("portal") + target.name, server.url("files") + target.name]
    download.download_file(urls, target, sha256(server.folder / target.name))
    assert target.read_bytes() == b"the real file" * 100
    assert server.requests == ["/portal/t10k-labels-idx1-ubyte.gz", "/files/t10k-labels-idx1-ubyte.gz"]
    assert [path.name for path in target.parent.iterdir()] == [target.name]  # no temporary file left


def test_when_every_mirror_fails_the_error_names_each_and_leaves_no_file(tmp_path, server, closed_port_url):
    target = tmp_path / "cache" / "train-images-idx3-ubyte.gz"
    target.parent.mkdir()
    urls = [server.url("portal") + "x.gz", server.url("missing") + "x.gz", closed_port_url + "x.gz"]
    with pytest.raises(DownloadError) as info:
        download.download_file(urls, target, "0" * 64)
    assert not isinstance(info.value, ChecksumError)  # not every mirror sent bytes
    assert [failure.url for failure in info.value.failures] == urls
    reasons = [failure.reason for failure in info.value.failures]
    assert reasons[0].startswith("it answered with other bytes than the file") and reasons[1] == "HTTP 404 Not Found"
    assert reasons[2] == "[Errno 111] Connection refused"
    assert all(url in str(info.value) for url in urls) and isinstance(info.value, OSError)
    assert list(target.parent.iterdir()) == []


def test_when_every_mirror_sends_wrong_bytes_it_is_a_checksum_error(tmp_path, server):
    urls = [server.url("portal") + "a.gz", server.url("portal") + "b.gz"]
    with pytest.raises(ChecksumError) as info:
        download.download_file(urls, tmp_path / "a.gz", "0" * 64)
    digest = hashlib.sha256(PORTAL_PAGE).hexdigest()
    assert str(info.value) == (f"{tmp_path / 'a.gz'}: downloaded from {urls[0]}, its SHA-256 is {digest}, expected "
                               f"{'0' * 64}; downloaded from {urls[1]}, its SHA-256 is {digest}, expected {'0' * 64}; "
                               f"the file was deleted")
    assert isinstance(info.value, OSError) and isinstance(info.value, ValueError)
    assert list(tmp_path.iterdir()) == []


def test_a_mirror_that_never_answers_is_given_up_after_the_timeout(tmp_path, monkeypatch, server):
    monkeypatch.setattr(download, "TIMEOUT", 0.5)
    server.folder.mkdir()
    (server.folder / "f.gz").write_bytes(b"content")
    with socket.socket() as silent:   # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        stalled = f"http://127.0.0.1:{silent.getsockname()[1]}/f.gz"
        hang_up = threading.Timer(5, silent.close)  # without a timeout, the test fails instead of hanging
        hang_up.start()
        start = time.monotonic()
        try:
            download.download_file([stalled, server.url("files") + "f.gz"], tmp_path / "f.gz",
                                   sha256(server.folder / "f.gz"))
            assert time.monotonic() - start < 3
            with pytest.raises(DownloadError, match=r"no answer within 0\.5 s"):
                download.download_file([stalled], tmp_path / "g.gz", "0" * 64)
        finally:
            hang_up.cancel()
    assert (tmp_path / "f.gz").read_bytes() == b"content"


def test_every_dataset_has_more_than_one_mirror_and_fashion_mnist_has_github():
    assert all(len(source.mirrors) >= 2 for source in mnist.SOURCES.values())
    assert mnist.SOURCES["fashion-mnist"].mirrors[1] == ("https://github.com/zalandoresearch/fashion-mnist/raw/master/"
                                                         "data/fashion/")
    assert download.TIMEOUT <= 15  # an offline or firewalled machine gives up within seconds


# --- the network block, for running notebooks offline --------------------------------------

def offline_env(tmp_path):
    """The environment of a process with no network and empty data folders (see network_block/sitecustomize.py)."""
    data, home = tmp_path / "empty-data", tmp_path / "empty-home"
    home.mkdir()  # an empty home, not a missing one: Jupyter and IPython write their settings there
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(NETWORK_BLOCK), str(REPO)]), NANOAE_DATA=str(data),
                HOME=str(home))


OFFLINE_SCRIPT = textwrap.dedent("""
    import json, socket, sys, time, urllib.request
    start = time.monotonic()
    try:
        urllib.request.urlopen("http://93.184.216.34/", timeout=30)
        refused = None
    except OSError as e:
        refused = str(e)
    seconds = time.monotonic() - start
    with socket.socket() as server:          # loopback still works
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        socket.create_connection(server.getsockname(), timeout=5).close()
    from nanoae.data import load_dataset
    print(json.dumps({"refused": refused, "seconds": seconds, "name": load_dataset("auto", "train", limit=10).name,
                      "block": sys.modules["sitecustomize"].__file__}))
""")


def test_the_network_block_refuses_the_network_at_once_and_auto_still_loads(tmp_path):
    result = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT], env=offline_env(tmp_path), capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    *printed, last = result.stdout.splitlines()
    report = json.loads(last)
    assert report["block"] == str(NETWORK_BLOCK / "sitecustomize.py")
    assert "network blocked by the nanoae tests" in report["refused"] and report["seconds"] < 2
    expected = "fashion-mnist" if (DEBIAN_FASHION / "t10k-labels-idx1-ubyte.gz").exists() else "fontdigits"
    assert report["name"] == expected
    [line] = [line for line in printed if line.startswith(AUTO_LINE)]
    assert line.startswith(f"{AUTO_LINE}{expected} (MNIST is not on disk and could not be downloaded: network "
                           f"blocked by the nanoae tests")


def test_a_notebook_kernel_inherits_the_block_and_shows_the_short_error(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for name, value in offline_env(tmp_path).items():
        monkeypatch.setenv(name, value)  # a kernel inherits its client's environment
    cells = ['from nanoae.data import load_dataset\nprint(load_dataset("auto", "train", limit=10).name)',
             'load_dataset("mnist", "test")']
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nbclient.NotebookClient(notebook, timeout=120, allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    auto_output = "".join(output.get("text", "") for output in notebook.cells[0].outputs)
    assert AUTO_LINE in auto_output
    [error] = [output for output in notebook.cells[1].outputs if output["output_type"] == "error"]
    assert error["ename"] == "DatasetNotFoundError"
    shown = "\n".join(error["traceback"]).splitlines()
    assert shown[0].startswith("DatasetNotFoundError: mnist (test) was not found") and len(shown) <= 10
    assert any(line.startswith("To go on, set DATASET = \"auto\"") for line in shown)
    assert sum("network blocked by the nanoae tests" in line for line in shown) == 2  # both of MNIST's mirrors
    assert not any("Traceback" in line or "mnist.py" in line for line in shown)
