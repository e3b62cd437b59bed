"""`privtune watermark detect`: tokenize a text with the run's tokenizer and score its green tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privtune.errors import InputError


def detect_file(path: Path, run_dir: Path, config: Path | None) -> dict[str, Any]:
    from privtune.config import load_config
    from privtune.rundir import RunDir
    from privtune.secure.keys import load_key_provider
    from privtune.secure.store import open_store
    from privtune.serve.service import load_tokenizer
    from privtune.serve.watermark import KEY_PURPOSE, GreenList, detect

    cfg = load_config(config)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read as UTF-8 text ({type(exc).__name__})") from None
    store = open_store(RunDir(run_dir, create=False), cfg.security)
    tok = load_tokenizer(store)
    wm = cfg.serve.watermark
    green = GreenList(
        load_key_provider(cfg.security, create=False).derived_secret(KEY_PURPOSE), len(tok), wm.gamma
    )
    ids = tok(text, add_special_tokens=False)["input_ids"]
    if len(ids) < 2:
        raise InputError(f"{path}: too short to test (fewer than 2 tokens)")
    d = detect(ids, green, wm.z_threshold)
    return {**d.to_json(), "gamma": wm.gamma, "z_threshold": wm.z_threshold}
