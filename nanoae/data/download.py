"""Download one file from a list of mirrors, checked against its SHA-256.

Every mirror is tried before giving up. A mirror can fail in two ways:

- it cannot be reached or does not answer: no network, a firewall, a file
  that is not there (HTTP 404), a connection that stalls;
- it answers, but with bytes that are not the file: their SHA-256 differs.
  A captive portal (the log-in page of a hotel's or a train's Wi-Fi)
  answers every request with "200 OK" and its own HTML page, so a wrong hash
  often says more about the network than about the mirror, and the next
  mirror may well give the right file.

Both are reasons to try the next mirror. Only when all of them failed is an
error raised, and it names every mirror and what went wrong with it.

Each connection waits at most :data:`TIMEOUT` seconds for an answer, so a
machine that is offline or behind a firewall gives up within seconds
instead of hanging.

The bytes go to a temporary file next to the target, which is renamed into
place only once its hash matches, and deleted on any failure: an
interrupted or tampered download never leaves a file that looks complete.
"""
import contextlib
import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

TIMEOUT = 10  # seconds a mirror may take to accept the connection, or to send the next block


@dataclass(frozen=True)
class Failure:
    """What went wrong with one mirror: ``reason`` is one short line. ``digest`` is the SHA-256
    of what the mirror sent when it answered with the wrong bytes, else None."""
    url: str
    reason: str
    digest: str | None = None


class DownloadError(OSError):
    """Every mirror of a file failed; ``failures`` holds one :class:`Failure` per mirror, in order."""

    def __init__(self, path, failures, message=None):
        self.path, self.failures = path, list(failures)
        super().__init__(message or f"could not download {path}: "
                         + "; ".join(f"{failure.url}: {failure.reason}" for failure in self.failures))

    def short_reason(self):
        """Why, in brief: the first mirror's reason, and that the others failed too (the message has each)."""
        first, others = self.failures[0].reason, len(self.failures) - 1
        if others == 0:
            return first
        return f"{first}; the other mirror failed too" if others == 1 else f"{first}; {others} other mirrors too"


class ChecksumError(DownloadError, ValueError):
    """Every mirror answered, and none with the expected bytes: a wrong SHA-256 from each."""

    def __init__(self, path, failures, sha256):
        parts = [f"downloaded from {failure.url}, its SHA-256 is {failure.digest}, expected {sha256}"
                 for failure in failures]
        super().__init__(path, failures, f"{path}: " + "; ".join(parts) + "; the file was deleted")


def download_file(urls, path, sha256):
    """Download ``path`` from the first of ``urls`` that sends the bytes whose SHA-256 is ``sha256``.

    Returns the path. If no mirror does, raises :class:`ChecksumError` when
    every one answered with other bytes, else :class:`DownloadError`; both
    are OSErrors and list every mirror tried.
    """
    path = Path(path).absolute()
    failures = []
    for url in urls:
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            digest = _fetch(url, tmp, label=path.name)
            if digest == sha256:
                os.replace(tmp, path)
                return path
            failures.append(Failure(url, f"it answered with other bytes than the file (SHA-256 {digest[:12]}..., "
                                         f"expected {sha256[:12]}...): a captive portal's log-in page?", digest))
        except (OSError, http.client.HTTPException) as e:  # URLError and timeouts are OSErrors
            failures.append(Failure(url, describe(e)))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    if failures and all(failure.digest for failure in failures):
        raise ChecksumError(path, failures, sha256)
    raise DownloadError(path, failures)


def describe(error):
    """A download error in one short line, without urllib's wrapping."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        return describe(error.reason)
    if isinstance(error, TimeoutError):
        return f"no answer within {TIMEOUT} s"
    if isinstance(error, socket.gaierror):
        return f"the server's name could not be looked up, no network? ({error})"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, http.client.HTTPException):
        return f"{type(error).__name__}: {error}"
    return str(error)


def _fetch(url, path, label):
    """Stream ``url`` into a new file ``path`` with a progress bar; return its SHA-256."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response, open(path, "xb") as f:
        size = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=size, unit="B", unit_scale=True, desc=label) as bar:
            while block := response.read(1 << 16):
                f.write(block)
                digest.update(block)
                bar.update(len(block))
    return digest.hexdigest()
