"""Write result rows to a file: CSV, JSON lines or Parquet, batch by batch.

Rows arrive in batches (``results.stream``), so memory stays constant however
many there are. Parquet needs pyarrow: ``pip install 'chirpflow[parquet]'``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import orjson

from chirpflow.connectors.postgres.results import Kind
from chirpflow.errors import ChirpflowError

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "parquet")


class RowWriter(Protocol):
    def write(self, rows: list[dict[str, Any]]) -> None: ...
    def close(self) -> None: ...


def _cell(value: Any, kind: Kind) -> Any:
    """A CSV cell: lists joined by ';', JSON as JSON text, times in ISO 8601."""
    if value is None:
        return ""
    if kind == "list":
        return ";".join(value)
    if kind == "json":
        return orjson.dumps(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class CsvWriter:
    def __init__(self, out: IO[str], columns: dict[str, Kind]) -> None:
        self._out = out
        self._columns = columns
        self._csv = csv.writer(out)
        self._csv.writerow(list(columns))

    def write(self, rows: list[dict[str, Any]]) -> None:
        cols = self._columns
        self._csv.writerows([_cell(r[c], k) for c, k in cols.items()] for r in rows)

    def close(self) -> None:
        self._out.close()


class JsonLinesWriter:
    def __init__(self, out: IO[bytes], columns: dict[str, Kind]) -> None:
        self._out = out
        self._columns = list(columns)

    def write(self, rows: list[dict[str, Any]]) -> None:
        cols = self._columns
        self._out.write(b"".join(orjson.dumps({c: r[c] for c in cols}) + b"\n" for r in rows))

    def close(self) -> None:
        self._out.close()


class ParquetWriter:
    def __init__(self, path: Path, columns: dict[str, Kind]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as err:
            raise ChirpflowError(
                "--format parquet needs pyarrow: pip install 'chirpflow[parquet]'"
            ) from err
        types = {
            "int": pa.int64(),
            "text": pa.string(),
            "float": pa.float64(),
            "time": pa.timestamp("us", tz="UTC"),
            "list": pa.list_(pa.string()),
            "json": pa.string(),
        }
        self._pa = pa
        self._columns = columns
        self._schema = pa.schema([(c, types[k]) for c, k in columns.items()])
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="zstd")

    def write(self, rows: list[dict[str, Any]]) -> None:
        data = {
            c: [orjson.dumps(r[c]).decode() if r[c] is not None else None for r in rows]
            if k == "json"
            else [r[c] for r in rows]
            for c, k in self._columns.items()
        }
        self._writer.write_table(self._pa.table(data, schema=self._schema))

    def close(self) -> None:
        self._writer.close()


def open_writer(fmt: Format, path: Path, columns: dict[str, Kind]) -> RowWriter:
    """A writer for ``path``; a missing folder or pyarrow is one clear error."""
    if not path.parent.is_dir():
        raise ChirpflowError(f"cannot write {path}: folder {path.parent} does not exist")
    if fmt == "parquet":
        return ParquetWriter(path, columns)
    if fmt == "csv":
        return CsvWriter(path.open("w", newline="", encoding="utf-8"), columns)
    return JsonLinesWriter(path.open("wb"), columns)


def write_all(writer: RowWriter, batches: Iterable[list[dict[str, Any]]]) -> int:
    """Drain ``batches`` into ``writer`` and close it; returns the row count."""
    n = 0
    try:
        for rows in batches:
            writer.write(rows)
            n += len(rows)
    finally:
        writer.close()
    return n
