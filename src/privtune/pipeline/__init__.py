"""The one-command pipeline (`runner.py`), its release step (`release.py`) and config (`config.py`).

Import `privtune.pipeline.runner` for `run_pipeline`; this package init stays empty so that
`privtune.config` can import the pure config module without a cycle.
"""
