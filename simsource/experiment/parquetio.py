"""Low-level file safety: atomic writes, checksums and a streaming Parquet writer.

Every file the experiment layer writes goes through :func:`atomic_write_bytes` or
:class:`StreamingParquetWriter`: the bytes land in a temporary file in the same folder, are
fsync'ed and then renamed over the target, so a reader (or a resumed run) sees either the old file
or the complete new one, never half a file.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

TMP_PREFIX = ".tmp-"
COMPRESSION = "zstd"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tmp_path(path: Path) -> Path:
    """A temporary sibling of ``path`` (same folder, so ``os.replace`` is atomic)."""
    return path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort on systems without directory fds)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file, fsync, rename, fsync of the folder."""
    tmp = tmp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def table_bytes(table: pa.Table, plain: bool = False) -> bytes:
    """A table as Parquet bytes (deterministic for equal tables). ``plain``: without dictionary
    pages and column statistics, for the store's own chunk files (a few rows, up to a hundred
    columns, read back only by simsource: a third faster to write and to read)."""
    buf = io.BytesIO()
    if plain:
        pq.write_table(table, buf, compression=COMPRESSION, use_dictionary=False,
                       write_statistics=False)
    else:
        pq.write_table(table, buf, compression=COMPRESSION)
    return buf.getvalue()


class StreamingParquetWriter:
    """Append tables to one Parquet file chunk by chunk, with memory flat in the total size.

    Row groups have a fixed number of rows (``group_rows``), whatever the sizes of the appended
    tables, so the file's bytes depend only on its content — not on how the rows were chunked
    (that is what makes ``-j 1`` and ``-j 8`` give byte-identical files). The file appears at
    ``path`` atomically on :meth:`close`; on an error the temporary file is removed.
    """

    def __init__(self, path: Path, group_rows: int = 65_536) -> None:
        self.path = path
        self.group_rows = group_rows
        self._tmp = tmp_path(path)
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if self._schema is None:
            self._schema = table.schema
        elif table.schema != self._schema:
            table = table.select(self._schema.names).cast(self._schema)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= self.group_rows:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self._pending or self._schema is None:
            return
        data = pa.concat_tables(self._pending)
        keep = 0 if final else data.num_rows % self.group_rows
        out = data.slice(0, data.num_rows - keep)
        if out.num_rows:
            if self._writer is None:
                self._writer = pq.ParquetWriter(self._tmp, self._schema, compression=COMPRESSION)
            self._writer.write_table(out, row_group_size=self.group_rows)
            self.rows += out.num_rows
        rest = data.slice(data.num_rows - keep)
        self._pending = [rest] if keep else []
        self._pending_rows = keep

    def close(self) -> None:
        self._flush(final=True)
        if self._writer is None:
            if self._schema is None:
                raise ValueError(f"{self.path}: nothing to write")
            self._writer = pq.ParquetWriter(self._tmp, self._schema, compression=COMPRESSION)
        self._writer.close()
        with open(self._tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(self._tmp, self.path)
        fsync_dir(self.path.parent)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> StreamingParquetWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
