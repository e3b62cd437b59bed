"""Synthetic support tickets with gold PII spans: the demo dataset and the PII benchmark's labels.

`generate_tickets(n, seed, locales)` yields `(record, gold)`; `bundled_path()` / `bundled_gold_path()`
locate the ~2,000-record sample shipped in the package (made by `scripts/make_bundled_sample.py`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from privtune.sample.tickets import generate_tickets, template_count

BUNDLED_N = 2000
BUNDLED_SEED = 20240917
# The bundled files reproduce byte for byte only with the Faker release they were generated with.
BUNDLED_FAKER_VERSION = "40.54.0"

__all__ = ["BUNDLED_FAKER_VERSION", "BUNDLED_N", "BUNDLED_SEED", "bundled_gold_path", "bundled_path",
           "generate_tickets", "template_count"]


def _data_file(name: str) -> Path:
    ref = resources.files("privtune") / "data" / name
    path = Path(str(ref))
    if not path.is_file():
        from privtune.errors import PrivtuneError

        raise PrivtuneError(f"bundled sample file {name} is missing from the installed package")
    return path


def bundled_path() -> Path:
    """The bundled tickets (gzip JSONL, fields id/prompt/completion/user_id)."""
    return _data_file("tickets.jsonl.gz")


def bundled_gold_path() -> Path:
    """Gold PII spans for the bundled tickets (gzip JSONL, one `{"id", "spans"}` line per record)."""
    return _data_file("tickets.gold.jsonl.gz")
