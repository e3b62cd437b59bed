"""Readers: one per input format, each yielding `RawItem`s with an exact location and raw bytes.

Readers never raise on a bad record: they yield it with an `error` so the stage can quarantine it
with its raw bytes. They raise InputError only for file-level problems (missing, unreadable, not the
format at all).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from privtune.errors import InputError
from privtune.fsutil import sha256_file

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "hf")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}

ByteCallback = Callable[[int], None]


@dataclass
class ReadContext:
    """Per-input reading state: a progress callback in, the input's SHA-256 out (computed in the same pass)."""

    on_progress: ByteCallback | None = None
    max_record_bytes: int = 1_000_000
    splits: tuple[str, ...] = ()
    sha256: str | None = None


@dataclass(slots=True)
class RawItem:
    """One input record before schema mapping. `locator` is ("line", n) 1-based or ("row", i) 0-based."""

    file: str
    locator: tuple[str, int]
    raw: bytes
    value: dict[str, Any] | None = None
    error: tuple[str, str | None, str] | None = None  # (reason code, field, message)


def detect_format(path: Path, fmt: str = "auto") -> str:
    if fmt != "auto":
        return fmt
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
            return "hf"
        raise InputError(
            f"{path}: a directory that is not a Hugging Face `datasets` directory "
            "(no state.json or dataset_dict.json)"
        )
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        return _EXTENSIONS[suffixes[-1]]
    raise InputError(f"{path}: unknown input format; use one of {', '.join(FORMATS)} (or pass --format)")


class _CountingReader(io.RawIOBase):
    """Counts and hashes the bytes read from disk (progress + input fingerprint in one pass)."""

    def __init__(self, fh: BinaryIO, on_bytes: ByteCallback | None) -> None:
        self._fh = fh
        self._on_bytes = on_bytes
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._fh.readinto(b)  # type: ignore[attr-defined]
        if n:
            self.sha.update(memoryview(b)[:n])
            if self._on_bytes:
                self._on_bytes(n)
        return n or 0

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_binary(path: Path, ctx: ReadContext) -> tuple[BinaryIO, _CountingReader]:
    """Buffered binary stream of the (possibly gzip-compressed) file plus its counting reader."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller through the returned stream
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    counter = _CountingReader(fh, ctx.on_progress)
    stream: BinaryIO = io.BufferedReader(counter, buffer_size=1 << 20)  # type: ignore[assignment]
    if path.name.lower().endswith(".gz"):
        stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
    return stream, counter


@contextlib.contextmanager
def _guard(path: Path, stream: BinaryIO, counter: _CountingReader, ctx: ReadContext) -> Iterator[None]:
    try:
        yield
        ctx.sha256 = counter.sha.hexdigest()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
    finally:
        stream.close()


def read_jsonl(path: Path, ctx: ReadContext) -> Iterator[RawItem]:
    stream, counter = open_binary(path, ctx)
    name = str(path)
    with _guard(path, stream, counter, ctx):
        for lineno, line in enumerate(stream, 1):
            body = line.rstrip(b"\r\n")
            if not body.strip():
                continue
            loc = ("line", lineno)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RawItem(
                    name, loc, body, error=("invalid_utf8", None, f"invalid UTF-8 at byte {exc.start}")
                )
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                msg = f"malformed JSON: {exc.msg} at column {exc.colno}"
                yield RawItem(name, loc, body, error=("malformed_json", None, msg))
                continue
            if not isinstance(value, dict):
                msg = f"expected a JSON object, got {type(value).__name__}"
                yield RawItem(name, loc, body, error=("not_an_object", None, msg))
                continue
            yield RawItem(name, loc, body, value)


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_delimited(path: Path, ctx: ReadContext, delimiter: str = ",") -> Iterator[RawItem]:
    stream, counter = open_binary(path, ctx)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    name = str(path)
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(text, delimiter=delimiter, strict=False)

    def raw_of(row: list[str]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(row)
        return buf.getvalue().rstrip("\n").encode("utf-8", "surrogateescape")

    with _guard(path, stream, counter, ctx):
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{path}:1: cannot parse the header row ({exc})") from None
        if any(_has_surrogates(h) for h in header):
            raise InputError(f"{path}:1: header row is not valid UTF-8")
        header = [h.strip().lstrip("\ufeff") for h in header]
        if len(set(header)) != len(header) or any(not h for h in header):
            raise InputError(f"{path}:1: header has empty or duplicate column names")
        prev_line = reader.line_num
        while True:
            start = prev_line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                prev_line = reader.line_num
                yield RawItem(
                    name, ("line", start), b"", error=("csv_error", None, f"unparseable row ({exc})")
                )
                continue
            prev_line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            loc = ("line", start)
            raw = raw_of(row)
            bad_col = next((h for h, v in zip(header, row, strict=False) if _has_surrogates(v)), None)
            if bad_col is not None or any(_has_surrogates(v) for v in row):
                yield RawItem(name, loc, raw, error=("invalid_utf8", bad_col, "invalid UTF-8"))
                continue
            if len(row) != len(header):
                msg = f"expected {len(header)} fields, found {len(row)}"
                yield RawItem(name, loc, raw, error=("wrong_field_count", None, msg))
                continue
            yield RawItem(name, loc, raw, dict(zip(header, row, strict=True)))


def read_json_array(path: Path, ctx: ReadContext) -> Iterator[RawItem]:
    """Stream the elements of a top-level JSON array without loading the file."""
    stream, counter = open_binary(path, ctx)
    max_record_bytes = ctx.max_record_bytes
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    dec = json.JSONDecoder()
    name = str(path)
    buf = ""
    pos = 0
    line = 1
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        chunk = stream.read(1 << 20)
        if not chunk:
            eof = True
            buf = buf[pos:] + decoder.decode(b"", final=True)
        else:
            buf = buf[pos:] + decoder.decode(chunk)
        pos = 0
        return bool(chunk)

    def skip_ws() -> None:
        nonlocal pos, line
        while True:
            n = len(buf)
            while pos < n and buf[pos] in " \t\r\n\ufeff":
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < n or eof or not fill():
                return

    with _guard(path, stream, counter, ctx):
        skip_ws()
        if pos >= len(buf):
            return
        if buf[pos] != "[":
            raise InputError(f"{path}:{line}: expected a JSON array of records (use .jsonl for one per line)")
        pos += 1
        index = 0
        while True:
            skip_ws()
            if pos < len(buf) and buf[pos] == "]":
                return
            start_line = line
            while True:
                try:
                    value, end = dec.raw_decode(buf, pos)
                    if end == len(buf) and not eof:
                        raise ValueError("element may continue")
                    break
                except (json.JSONDecodeError, ValueError) as exc:
                    if not eof and len(buf) - pos <= max_record_bytes + (1 << 20):
                        fill()
                        continue
                    rest = buf[pos:].encode("utf-8", "surrogateescape")
                    while not eof:
                        fill()
                        rest += buf.encode("utf-8", "surrogateescape")
                        buf, pos = "", 0
                    msg = getattr(exc, "msg", "element too large or truncated")
                    yield RawItem(
                        name,
                        ("line", start_line),
                        rest,
                        error=(
                            "malformed_json",
                            None,
                            f"malformed JSON ({msg}); the rest of the file is kept as raw bytes",
                        ),
                    )
                    return
            source = buf[pos:end]
            line += source.count("\n")
            pos = end
            raw = source.encode("utf-8", "surrogateescape")
            loc = ("line", start_line)
            if _has_surrogates(source):
                yield RawItem(name, loc, raw, error=("invalid_utf8", None, "invalid UTF-8"))
            elif not isinstance(value, dict):
                yield RawItem(
                    name,
                    loc,
                    raw,
                    error=("not_an_object", None, f"expected a JSON object, got {type(value).__name__}"),
                )
            else:
                yield RawItem(name, loc, raw, value)
            index += 1
            skip_ws()
            if pos < len(buf) and buf[pos] == ",":
                pos += 1
            elif pos < len(buf) and buf[pos] == "]":
                return
            else:
                tail = buf[pos:].encode("utf-8", "surrogateescape")
                yield RawItem(
                    name,
                    ("line", line),
                    tail,
                    error=(
                        "malformed_json",
                        None,
                        "expected ',' or ']' after an element; the rest is kept as raw bytes",
                    ),
                )
                return


def _row_item(name: str, index: int, row: dict[str, Any]) -> RawItem:
    raw = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8", "surrogateescape")
    return RawItem(name, ("row", index), raw, row)


def read_parquet(path: Path, ctx: ReadContext) -> Iterator[RawItem]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
    index = 0
    try:
        for batch in pf.iter_batches(batch_size=2048):
            for row in batch.to_pylist():
                yield _row_item(str(path), index, row)
                index += 1
            if ctx.on_progress:
                ctx.on_progress(batch.num_rows)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: corrupt Parquet data after row {index} ({type(exc).__name__})") from None
    ctx.sha256 = sha256_file(path)


def hf_arrow_files(path: Path, splits: list[str]) -> list[tuple[str, Path]]:
    """(label, arrow file) for a `datasets.save_to_disk` directory (Dataset or DatasetDict)."""

    def files_of(d: Path) -> list[Path]:
        try:
            state = json.loads((d / "state.json").read_text())
            return [d / f["filename"] for f in state["_data_files"]]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{d}: unreadable Hugging Face dataset state.json") from None

    if (path / "dataset_dict.json").exists():
        try:
            names = json.loads((path / "dataset_dict.json").read_text())["splits"]
        except (OSError, ValueError, KeyError):
            raise InputError(f"{path}: unreadable dataset_dict.json") from None
        unknown = [s for s in splits if s not in names]
        if unknown:
            raise InputError(f"{path}: no split named {', '.join(unknown)} (have {', '.join(names)})")
        return [(f"{path}/{s}", f) for s in (splits or names) for f in files_of(path / s)]
    return [(str(path), f) for f in files_of(path)]


def read_hf(path: Path, ctx: ReadContext) -> Iterator[RawItem]:
    import pyarrow as pa

    digest = hashlib.sha256()
    for label, arrow in hf_arrow_files(path, list(ctx.splits)):
        index = 0
        try:
            with pa.memory_map(str(arrow), "r") as source:
                try:
                    reader = pa.ipc.open_stream(source)
                except pa.ArrowInvalid:
                    reader = pa.ipc.open_file(source)
                batches = (
                    reader
                    if hasattr(reader, "__iter__")
                    else (reader.get_batch(i) for i in range(reader.num_record_batches))
                )
                for batch in batches:
                    for row in batch.to_pylist():
                        yield _row_item(label, index, row)
                        index += 1
                    if ctx.on_progress:
                        ctx.on_progress(batch.num_rows)
        except FileNotFoundError:
            raise InputError(f"{arrow}: data file listed in state.json is missing") from None
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"{arrow}: unreadable Arrow data after row {index} ({type(exc).__name__})"
            ) from None
        digest.update(bytes.fromhex(sha256_file(arrow)))
    ctx.sha256 = digest.hexdigest()


def progress_total(path: Path, fmt: str, ctx: ReadContext) -> tuple[int, str]:
    """(total, unit) for a progress bar: bytes on disk for text formats, rows for columnar ones."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows, "rows"
        except Exception:
            return 0, "rows"
    if fmt == "hf":
        import pyarrow as pa

        total = 0
        for _, arrow in hf_arrow_files(path, list(ctx.splits)):
            try:
                with pa.memory_map(str(arrow), "r") as src:
                    total += pa.ipc.open_stream(src).read_all().num_rows
            except Exception:
                return 0, "rows"
        return total, "rows"
    return path.stat().st_size, "bytes"


def read_items(path: Path, fmt: str, ctx: ReadContext) -> Iterator[RawItem]:
    if fmt == "jsonl":
        return read_jsonl(path, ctx)
    if fmt in ("csv", "tsv"):
        return read_delimited(path, ctx, "," if fmt == "csv" else "\t")
    if fmt == "json":
        return read_json_array(path, ctx)
    if fmt == "parquet":
        return read_parquet(path, ctx)
    if fmt == "hf":
        return read_hf(path, ctx)
    raise InputError(f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
