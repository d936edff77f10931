"""Content-addressed files of dedup ids, so a snapshot can carry names instead of ids.

A *segment* is the sorted ids of (part of) one time bucket as raw int64 bytes.
Its name is ``<bucket>-<hash of its bytes>``: the same ids always get the same
name, a written file never changes, and an old snapshot that names it can
still be loaded. Files are written to a temporary file, fsynced and renamed,
so a name that a snapshot carries always points at a whole file.

Files are deleted only when their bucket has left the window
(:meth:`SegmentStore.expire`): any snapshot Bytewax may resume from still
finds the files of every bucket it needs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

SUFFIX = ".ids"


class SegmentStore(Protocol):
    """Where sealed dedup ids live between snapshots."""

    def put(self, bucket: int, data: bytes) -> str:
        """Store ``data`` (ids of ``bucket``); its name. Writing the same data again is free."""
        ...

    def get(self, name: str) -> bytes | None:
        """The bytes stored under ``name``; None when the file is gone."""
        ...

    def expire(self, before_bucket: int) -> int:
        """Delete the segments of every bucket older than ``before_bucket``; how many."""
        ...

    def report_missing(self, names: list[str]) -> None:
        """Say (once per store) that snapshot segments could not be found."""
        ...


def bucket_of(name: str) -> int:
    """The time bucket a segment name belongs to."""
    return int(name.split("-", 1)[0])


def _bucket_or_none(name: str) -> int | None:
    try:
        return bucket_of(name)
    except ValueError:
        return None


def segment_name(bucket: int, data: bytes) -> str:
    return f"{bucket}-{hashlib.blake2b(data, digest_size=16).hexdigest()}"


class DirSegmentStore:
    """Segments as files in one directory (``dedup/`` inside the recovery directory).

    Safe to share between the dedup shards and worker threads of one process.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._expired_below: int | None = None
        self._reported = False
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}{SUFFIX}"

    def put(self, bucket: int, data: bytes) -> str:
        name = segment_name(bucket, data)
        path = self._path(name)
        if path.exists():
            return name
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)
        return name

    def get(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def expire(self, before_bucket: int) -> int:
        with self._lock:
            if self._expired_below is not None and before_bucket <= self._expired_below:
                return 0
            self._expired_below = before_bucket
        gone = 0
        if not self.directory.is_dir():
            return 0
        for path in self.directory.iterdir():
            if path.suffix != SUFFIX or _bucket_or_none(path.stem) is None:
                continue  # not ours (or a temporary file being written)
            if bucket_of(path.stem) < before_bucket:
                path.unlink(missing_ok=True)
                gone += 1
        return gone

    def report_missing(self, names: list[str]) -> None:
        with self._lock:
            first, self._reported = not self._reported, True
        (log.warning if first else log.debug)(
            "dedup state: %d id file(s) named by the recovery snapshot are missing from %s"
            " (e.g. %s%s; later shards are not reported again): their tweet ids are forgotten,"
            " so a repeat of one may pass dedup once (it is still stored once)",
            len(names),
            self.directory,
            names[0],
            SUFFIX,
        )
