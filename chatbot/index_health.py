"""Index health: tell apart why an embedded index cannot be opened, before Chroma touches it.

In: a build folder (``indexes/build-…`` holding ``chroma/chroma.sqlite3``). Out: one of
``HEALTHY``, ``UNREADABLE`` (the OS refuses to read it), ``BUSY`` (another process holds a lock
on it), ``CORRUPT`` (readable, but not an intact SQLite database), and whether the folder can be
written. Only ``CORRUPT`` calls for a rebuild; a folder that cannot be written is served from a
private read-only copy (Chroma writes to its files even to read them).

The probe uses the standard library's ``sqlite3`` in read-only mode with a bounded wait: Chroma
itself blocks without limit on a locked file.
"""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

HEALTHY = "healthy"
UNREADABLE = "unreadable"
BUSY = "busy"
CORRUPT = "corrupt"

DB_NAME = "chroma.sqlite3"
#: Private copies of read-only indexes made by this process, removed at exit.
_COPIES: list[Path] = []
_copies_lock = threading.Lock()


def writable(folder: Path) -> bool:
    """Can this process create files in ``folder``? False on a read-only mount, also for root."""
    folder = Path(folder)
    if not os.access(folder, os.W_OK):
        return False
    try:  # access() ignores some read-only mounts (and root passes it): try for real
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def probe(db: Path, wait: float) -> tuple[str, str]:
    """(state, detail) of the SQLite file ``db``; waits up to ``wait`` seconds for a lock."""
    db = Path(db)
    try:
        with open(db, "rb") as fh:
            fh.read(16)
    except FileNotFoundError:
        return CORRUPT, f"{DB_NAME} is missing"
    except IsADirectoryError:
        return CORRUPT, f"{DB_NAME} is a folder"
    except OSError as exc:
        return UNREADABLE, exc.strerror or errno.errorcode.get(exc.errno or 0, "error")
    uris = [f"file:{db}?mode=ro"]
    if not writable(db.parent):  # no -shm/-journal can be made beside it: read it as immutable
        uris.append(f"file:{db}?immutable=1")
    detail = ""
    for uri in uris:
        try:
            con = sqlite3.connect(uri, uri=True, timeout=wait)
        except sqlite3.Error as exc:
            detail = str(exc)
            continue
        try:
            row = con.execute("PRAGMA quick_check(1)").fetchone()
            if row and row[0] == "ok":
                return HEALTHY, ""
            return CORRUPT, f"integrity check failed ({row[0] if row else 'no result'})"
        except sqlite3.OperationalError as exc:
            detail = str(exc)
            if "locked" in detail or "busy" in detail:
                return BUSY, detail
            if "unable to open" in detail:
                continue
            return CORRUPT, detail
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            return CORRUPT, str(exc)
        finally:
            con.close()
    return UNREADABLE, detail or "cannot be opened"


def readonly_copy(chroma_dir: Path) -> Path:
    """A private copy of a read-only ``chroma`` folder in the temporary folder (removed at exit)."""
    root = Path(tempfile.mkdtemp(prefix="snapshot-qa-index-"))
    with _copies_lock:
        if not _COPIES:
            atexit.register(_remove_copies)
        _COPIES.append(root)
    target = root / "chroma"
    shutil.copytree(chroma_dir, target)
    for dirpath, _dirs, files in os.walk(target):  # the copy must be writable for Chroma
        os.chmod(dirpath, 0o700)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o600)
    return target


def _remove_copies() -> None:
    with _copies_lock:
        for root in _COPIES:
            shutil.rmtree(root, ignore_errors=True)
        _COPIES.clear()
