"""Ingest: user files (CSV, TSV, JSONL, JSON, Parquet, `datasets` dirs) -> records + quarantine + report."""

from privtune.ingest.stage import QUARANTINE, RECORDS, REPORT, iter_input_records, run_ingest

__all__ = ["QUARANTINE", "RECORDS", "REPORT", "iter_input_records", "run_ingest"]
