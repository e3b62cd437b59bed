"""Every secure test gets its own privtune home so the real ~/.config is never touched."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def privtune_home(tmp_path, monkeypatch):
    home = tmp_path / "privtune-home"
    monkeypatch.setenv("PRIVTUNE_HOME", str(home))
    return home
