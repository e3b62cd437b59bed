"""Regenerate the sample bundled in the package: src/privtune/data/tickets{,.gold}.jsonl.gz.

Run after changing the generator, then update BUNDLED_FAKER_VERSION if Faker was upgraded:
    .venv/bin/python scripts/make_bundled_sample.py
Prints JSON with the record count and the gold entity counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import faker

from privtune.sample import BUNDLED_FAKER_VERSION, BUNDLED_N, BUNDLED_SEED, generate_tickets
from privtune.sample.io import write_tickets

DATA = Path(__file__).resolve().parents[1] / "src" / "privtune" / "data"


def main() -> None:
    out = DATA / "tickets.jsonl.gz"
    stats = write_tickets(generate_tickets(BUNDLED_N, BUNDLED_SEED), out, "jsonl",
                          gold=DATA / "tickets.gold.jsonl.gz")
    for path in (out, DATA / "tickets.gold.jsonl.gz"):
        path.chmod(0o644)  # package data: readable by whoever installs the package
    print(json.dumps({
        "records": stats.records, "users": stats.users, "spans": stats.spans,
        "entity_counts": stats.entity_counts, "seed": BUNDLED_SEED, "faker": faker.VERSION,
        "faker_matches_constant": faker.VERSION == BUNDLED_FAKER_VERSION,
    }, indent=2))


if __name__ == "__main__":
    main()
