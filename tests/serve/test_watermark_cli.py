"""`privtune watermark detect` on server output (reference model, high entropy).

Text detection re-tokenizes; the random-init tiny model emits non-canonical token sequences that do
not survive a decode/encode round trip, so the positive case is tested at the token level
(test_watermark.py and below) and the CLI on unwatermarked text (no false positive) and on errors.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from serve_helpers import MODEL, bearer, make_state

from privtune.serve.app import create_app
from privtune.serve.generate import Generation, SamplingParams
from privtune.serve.watermark import detect

pytestmark = pytest.mark.slow


def test_server_watermarks_its_tokens(trained_run):
    state = make_state(trained_run, adapter="base", guard={"enabled": False}, watermark={"enabled": True})
    gen = Generation()
    params = SamplingParams(max_tokens=200, temperature=1.0, seed=3)
    "".join(state.sampler.stream_text("Hello", params, gen, state.watermark))
    assert len(gen.tokens) >= 50 and detect(gen.tokens, state.watermark.green).z > 4


def test_detect_cli_unwatermarked_text(trained_run, tmp_path, cli):
    state = make_state(trained_run, adapter="base", guard={"enabled": False})
    _, tok = state.keys.create("wm", "user")
    c = TestClient(create_app(state))
    body = {"model": MODEL, "prompt": "Ticket", "max_tokens": 200, "temperature": 1.0, "seed": 7}
    f = tmp_path / "out.txt"
    f.write_text(c.post("/v1/completions", headers=bearer(tok), json=body).json()["choices"][0]["text"])
    r = cli("watermark", "detect", f, "--run", trained_run, "--json")
    assert r.code == 0, r.err
    res = json.loads(r.out)
    assert res["watermarked"] is False and res["z"] < 4 and res["tokens_scored"] > 10
    assert cli("watermark", "detect", tmp_path / "missing.txt", "--run", trained_run).code == 2
