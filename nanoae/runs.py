"""Run folders: where a training run writes, so that no run ever overwrites or races another.

A run folder holds what :mod:`nanoae.checkpoint` writes (``checkpoint.npz``,
``history.json``, ``history.csv``) and the figures of :mod:`nanoae.plot`.

Everything goes through :func:`claim`, which a run holds while it writes:

- Naming. A fresh run never replaces an earlier one: the command line's
  default folder ``runs/vae`` becomes ``runs/vae-2``, ``runs/vae-3``, ... when
  it already holds a run, and a folder named with ``--out`` that holds a run
  is refused unless the caller asks to overwrite it.
- One writer at a time. A run holds an exclusive lock on the folder's
  ``.nanoae.lock`` file; a second run on the same folder is refused at once.
  The operating system drops the lock when its process ends, however it ends
  (even ``kill -9``), so a dead run never leaves the folder stuck.
- No litter. Every file is written to a uniquely named temporary file and
  renamed into place (:func:`nanoae.serialization.atomic_write`); a process
  killed mid-write leaves such a temporary file behind, and the next run that
  claims the folder removes it.
"""
import contextlib
import os
import re

from nanoae.checkpoint import CHECKPOINT, HISTORY_FILES
from nanoae.plot import FIGURES

LOCK = ".nanoae.lock"
# The temporary files of atomic_write: "<name>.<8 hex digits>.tmp".
TEMPORARY = re.compile(r".+\.[0-9a-f]{8}\.tmp")


class RunFolderError(RuntimeError):
    """A run folder cannot be used: another process is writing there, or it holds another run."""


class RunExistsError(RunFolderError):
    """The folder holds an earlier run, which is never overwritten unless the caller asks."""

    def __init__(self, folder):
        self.folder = folder
        super().__init__(f"{folder} holds an earlier run ({', '.join(map(os.path.basename, run_files(folder)))})")


def holds_run(folder):
    """Whether ``folder`` holds (part of) a training run: a checkpoint or history file."""
    return any(os.path.exists(os.path.join(folder, name)) for name in (CHECKPOINT, *HISTORY_FILES))


def run_files(folder):
    """The files of a run that are in ``folder``: checkpoint, history and figures."""
    names = (CHECKPOINT, *HISTORY_FILES, *FIGURES)
    return [os.path.join(folder, name) for name in names if os.path.exists(os.path.join(folder, name))]


@contextlib.contextmanager
def claim(folder, numbered=False, overwrite=False, resuming=False):
    """``with claim(folder) as out:`` makes the run folder ``out``, locks it for this process,
    and removes the temporary files an interrupted run left there.

    - ``numbered``: ``out`` is the first of ``folder``, ``folder-2``, ``folder-3``, ...
      that holds no run and is not in use (two runs started together get two folders);
    - otherwise ``out`` is ``folder``. A folder in use is refused at once, and one
      that holds a run is refused too, unless ``resuming`` it or ``overwrite``
      (its run files are then deleted first; other files are left alone).
    """
    for candidate in _numbered(folder) if numbered else [folder]:
        with _locked(candidate) as held:
            if not held:
                if numbered:
                    continue
                raise RunFolderError(f"{candidate} is in use: {_holder(candidate)} is writing there; wait for it "
                                     "to finish, or write somewhere else")
            if holds_run(candidate) and not resuming:
                if numbered:
                    continue
                if not overwrite:
                    raise RunExistsError(candidate)
                for path in run_files(candidate):
                    os.remove(path)
            remove_stale_temporaries(candidate)
            yield candidate
            return


def _numbered(base):
    """base, base-2, base-3, ..."""
    yield base
    number = 2
    while True:
        yield f"{base}-{number}"
        number += 1


@contextlib.contextmanager
def _locked(folder):
    """Make ``folder`` and try to lock it: yields whether this process holds the lock."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, LOCK), "a+") as f:
        if not _try_lock(f):
            yield False
            return
        f.truncate(0)
        f.write(f"nanoae run, process {os.getpid()}")
        f.flush()
        try:
            yield True
        finally:
            f.truncate(0)
            _unlock(f)


def _holder(folder):
    """Who holds the folder's lock, as its lock file says."""
    try:
        with open(os.path.join(folder, LOCK)) as f:
            return f.read().strip() or "another nanoae run"
    except OSError:
        return "another nanoae run"


def remove_stale_temporaries(folder):
    """Remove the temporary files an interrupted write left in ``folder``; returns their names.

    Call only while holding the folder's lock: then no live writer owns them.
    """
    stale = [name for name in os.listdir(folder) if TEMPORARY.fullmatch(name)]
    for name in stale:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, name))
    return stale


try:                                   # POSIX
    import fcntl

    def _try_lock(f):
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(f):
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)

except ImportError:                    # Windows: lock the file's first byte
    import msvcrt

    def _try_lock(f):
        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f):
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
