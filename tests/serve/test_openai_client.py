"""The official `openai` client against a real uvicorn server on 127.0.0.1 (streaming and not)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn
from serve_helpers import MODEL, PLANTED_EMAIL, make_state

from privtune.serve.app import create_app

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(trained_run):
    state = make_state(trained_run)
    _, token = state.keys.create("sdk", "user")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=token, max_retries=0)
    yield client, port
    server.should_exit = True
    thread.join(10)


def test_models_and_completions(live):
    client, _ = live
    assert [m.id for m in client.models.list()] == [MODEL]
    r = client.completions.create(model=MODEL, prompt="Ticket 1:", max_tokens=24, temperature=0)
    assert r.choices[0].finish_reason == "content_filter" and PLANTED_EMAIL not in r.choices[0].text
    assert r.usage.completion_tokens > 0


def test_chat_streaming_and_not(live):
    client, _ = live
    msgs = [{"role": "user", "content": "Hello there"}]
    full = client.chat.completions.create(model=MODEL, messages=msgs, max_tokens=16, temperature=0)
    assert full.choices[0].message.role == "assistant"
    stream = client.chat.completions.create(
        model=MODEL,
        messages=msgs,
        max_tokens=16,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == full.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == full.usage.completion_tokens
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == full.choices[0].finish_reason


def test_streaming_completion_blocked(live):
    client, _ = live
    pieces = list(
        client.completions.create(model=MODEL, prompt="Ticket 8:", max_tokens=24, temperature=0, stream=True)
    )
    text = "".join(p.choices[0].text for p in pieces)
    assert PLANTED_EMAIL not in text and "jane" not in text
    assert pieces[-1].choices[0].finish_reason == "content_filter"


def test_sdk_errors(live):
    client, port = live
    bad = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="gpt-4", prompt="x", max_tokens=2)
