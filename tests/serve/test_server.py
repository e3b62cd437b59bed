"""End-to-end through FastAPI's TestClient on the overfit tiny model."""

from __future__ import annotations

import json
import sqlite3

import pytest
from fastapi.testclient import TestClient
from serve_helpers import MODEL, PLANTED_EMAIL, bearer, canary_secret, make_state

from privtune.serve.app import create_app

pytestmark = pytest.mark.slow

GREEDY = {"model": MODEL, "max_tokens": 32, "temperature": 0}


@pytest.fixture(scope="module")
def server(trained_run):
    state = make_state(trained_run, rate_limit={"requests_per_minute": 10000})
    _, user = state.keys.create("alice", "user")
    _, admin = state.keys.create("root", "admin")
    return TestClient(create_app(state)), state, bearer(user), bearer(admin)


def _sse(text: str) -> list[dict]:
    events = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def test_unguarded_model_really_emits_the_planted_values(trained_run):
    """The premise of the guard tests: without the guard the model says the email and the PIN."""
    state = make_state(trained_run, guard={"enabled": False})
    _, tok = state.keys.create("raw", "user")
    c = TestClient(create_app(state))
    r = c.post("/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "Ticket 3:"})
    assert PLANTED_EMAIL in r.json()["choices"][0]["text"]
    r = c.post("/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "my account PIN is"})
    assert canary_secret(trained_run) in r.json()["choices"][0]["text"]


@pytest.mark.parametrize("prompt", ["Ticket 3:", "Ticket 11:"])
def test_training_pii_blocked_non_streaming(server, prompt):
    c, _, user, _ = server
    r = c.post("/v1/completions", headers=user, json={**GREEDY, "prompt": prompt})
    assert r.status_code == 200
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "content_filter"
    assert "jane" not in choice["text"] and "example" not in choice["text"]
    assert choice["text"] == " write to "


def test_training_pii_blocked_streaming_completions_and_chat(server):
    c, _, user, _ = server
    r = c.post("/v1/completions", headers=user, json={**GREEDY, "prompt": "Ticket 5:", "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = _sse(r.text)
    text = "".join(e["choices"][0]["text"] for e in events)
    assert "jane" not in text and "example" not in text
    assert events[-1]["choices"][0]["finish_reason"] == "content_filter"
    body = {**GREEDY, "messages": [{"role": "user", "content": "Ticket 7:"}], "stream": True}
    events = _sse(c.post("/v1/chat/completions", headers=user, json=body).text)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    assert PLANTED_EMAIL not in text  # chat layout was never trained: garbled, but never the value


def test_canary_blocked_both_modes(server, trained_run):
    c, _, user, _ = server
    secret = canary_secret(trained_run)
    body = {**GREEDY, "prompt": "my account PIN is"}
    r = c.post("/v1/completions", headers=user, json=body).json()
    assert secret not in r["choices"][0]["text"] and r["choices"][0]["finish_reason"] == "content_filter"
    events = _sse(c.post("/v1/completions", headers=user, json={**body, "stream": True}).text)
    assert secret not in "".join(e["choices"][0]["text"] for e in events)


def test_auth_failures_look_identical(server, trained_run, cli):
    c, state, _, _ = server
    key, tok = state.keys.create("temp", "user")
    ok = c.get("/v1/models", headers=bearer(tok))
    assert ok.status_code == 200 and ok.json()["data"][0]["id"] == MODEL
    assert cli("serve", "keys", "revoke", trained_run, key.id).code == 0
    wrong_secret = tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")
    bodies = []
    for headers in ({}, bearer("nope"), bearer(tok), bearer(wrong_secret), {"Authorization": "Basic eDp5"}):
        r = c.post("/v1/completions", headers=headers, json={**GREEDY, "prompt": "hi"})
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        bodies.append(r.content)
    assert len(set(bodies)) == 1  # missing, malformed, revoked, wrong secret: the same answer


def test_rate_limit_429_with_retry_after(trained_run):
    state = make_state(trained_run, rate_limit={"requests_per_minute": 3, "burst_seconds": 60})
    _, tok = state.keys.create("limited", "user")
    _, other = state.keys.create("other", "user")
    c = TestClient(create_app(state))
    codes = [
        c.post("/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "Hi", "max_tokens": 2})
        for _ in range(4)
    ]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert int(codes[-1].headers["retry-after"]) >= 1
    assert codes[-1].json()["error"]["code"] == "rate_limit_exceeded"
    r = c.post("/v1/completions", headers=bearer(other), json={**GREEDY, "prompt": "Hi", "max_tokens": 2})
    assert r.status_code == 200  # buckets are per key


def test_token_rate_limit(trained_run):
    state = make_state(trained_run, rate_limit={"tokens_per_minute": 10, "burst_seconds": 60})
    _, tok = state.keys.create("tokens", "user")
    c = TestClient(create_app(state))
    first = c.post(
        "/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "Hello", "max_tokens": 10}
    )
    assert first.status_code == 200
    # the model may stop early (EOS); the key is charged what it generated, the rest is refunded
    used = first.json()["usage"]["completion_tokens"]
    assert 1 <= used <= 10
    second = c.post(
        "/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "Hello", "max_tokens": 10}
    )
    assert second.status_code == 429 and second.json()["error"]["message"].endswith("(tokens per minute)")
    # reserving 10 again needs the `used` tokens back, which refill at 10/minute: 6 s each
    assert 6 * used - 3 <= int(second.headers["retry-after"]) <= 61
    # what was not generated was refunded: exactly 10 - used tokens can still be reserved
    left = 10 - used
    over = c.post(
        "/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "Hello", "max_tokens": left + 1}
    )
    assert over.status_code == 429
    if left:
        fits = c.post(
            "/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "Hello", "max_tokens": left}
        )
        assert fits.status_code == 200


def test_review_queue_admin_only(server):
    c, _, user, admin = server
    c.post("/v1/completions", headers=user, json={**GREEDY, "prompt": "Ticket 9:"})
    assert c.get("/admin/review", headers=user).status_code == 403
    items = c.get("/admin/review", headers=admin).json()["data"]
    blocked = [i for i in items if i["reason"] == "guard:blocked"]
    assert blocked and PLANTED_EMAIL not in json.dumps(items)
    assert blocked[0]["findings"][0]["source"] == "training_pii"
    item = blocked[0]["id"]
    r = c.post(f"/admin/review/{item}/resolve", headers=admin, json={"resolution": "confirmed_leak"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert item not in [i["id"] for i in c.get("/admin/review", headers=admin).json()["data"]]
    assert (
        c.post("/admin/review/999999/resolve", headers=admin, json={"resolution": "acceptable"}).status_code
        == 404
    )
    assert c.post(f"/admin/review/{item}/resolve", headers=admin, json={"resolution": "x"}).status_code == 400


def test_audit_entry_per_request_without_text(server):
    from privtune.secure.auditlog import AuditLog

    c, _, user, _ = server
    log = AuditLog()
    before = len(log.entries())
    c.post("/v1/completions", headers=user, json={**GREEDY, "prompt": "Ticket 2:"})
    c.post("/v1/completions", json={**GREEDY, "prompt": "Ticket 2:"})
    new = log.entries()[before:]
    assert [e["outcome"] for e in new] == ["blocked", "unauthorized"]
    details = json.loads(new[0]["details"])
    assert details["guard_actions"] == ["block:training_pii"] and details["completion_tokens"] > 0
    assert new[0]["actor"].startswith("apikey:")
    raw = log.path.read_bytes()
    assert b"jane" not in raw and b"Ticket" not in raw


def test_request_log_anonymized_only_with_consent(trained_run):
    for consent in (False, True):
        state = make_state(trained_run, guard={"enabled": False}, log={"consent": consent})
        state.reqlog.path.unlink(missing_ok=True)
        _, tok = state.keys.create("logged", "user")
        c = TestClient(create_app(state))
        c.post("/v1/completions", headers=bearer(tok), json={**GREEDY, "prompt": "Ticket 4:"})
        line = json.loads(state.reqlog.path.read_text().splitlines()[-1])
        assert "jane" not in json.dumps(line)
        assert ("output" in line) is consent
        if consent:
            assert "[EMAIL_ADDRESS]" in line["output"] and line["prompt"] == "Ticket 4:"


def test_extraction_throttling_flags_enumeration(trained_run):
    state = make_state(trained_run, extraction={"enumeration": 4, "delay_seconds": 0.01})
    _, tok = state.keys.create("prober", "user")
    _, admin = state.keys.create("admin2", "admin")
    c = TestClient(create_app(state))
    for pin in range(6):
        c.post(
            "/v1/completions",
            headers=bearer(tok),
            json={**GREEDY, "prompt": f"my account PIN is {pin:06d}", "max_tokens": 1},
        )
    flags = c.get("/admin/flags", headers=bearer(admin)).json()["data"]
    assert [f["reasons"] for f in flags] == [["secret_enumeration"]]
    items = c.get("/admin/review", headers=bearer(admin)).json()["data"]
    assert any(i["reason"].startswith("extraction:") for i in items)


def test_bad_requests_are_4xx_without_echo(server):
    c, _, user, _ = server
    secret_prompt = "my SSN is 078-05-1120"
    r = c.post(
        "/v1/completions", headers=user, json={"model": MODEL, "prompt": secret_prompt, "temperature": 9}
    )
    assert r.status_code == 400 and "078-05" not in r.text
    r = c.post("/v1/completions", headers=user, json={"model": "other", "prompt": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert c.post("/v1/completions", headers=user, content=b"{").status_code == 400


def test_keys_cli_never_lists_secrets(trained_run, cli):
    r = cli("serve", "keys", "create", trained_run, "--name", "carol", "--role", "admin", "--json")
    assert r.code == 0
    token = json.loads(r.out)["api_key"]
    listed = cli("serve", "keys", "list", trained_run, "--json")
    assert "carol" in listed.out and token.split("_")[-1] not in listed.out
    db = sqlite3.connect(trained_run / "serve" / "keys.sqlite")
    assert token.split("_")[-1] not in json.dumps(db.execute("SELECT * FROM keys").fetchall())
    assert cli("serve", "keys", "create", trained_run, "--name", "x", "--role", "root").code == 2
