from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    """Each test gets its own key file (created on first use)."""
    monkeypatch.setenv("PRIVTUNE_HOME", str(tmp_path / "home"))


@pytest.fixture
def regex_analyzer():
    from privtune.pii.analyzer import Analyzer
    from privtune.pii.config import PiiConfig

    cfg = PiiConfig()
    cfg.ner.model = "none"
    return Analyzer(cfg)
