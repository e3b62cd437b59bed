"""The record shapes ingest produces and every later stage consumes.

One JSON object per line of `ingest/records.jsonl`::

    {"id": 0, "text": "..."}                                       schema: text
    {"id": 1, "prompt": "...", "completion": "..."}                 schema: prompt_completion
    {"id": 2, "messages": [{"role": "user", "content": "..."}]}     schema: chat
    + optional "user_id": str, "meta": {kept field: value}, "source": {"file": str, "line": int}

`id` is the 0-based position in the output. Text-bearing fields are addressed by a field name:
`text`, `prompt`, `completion`, `messages.<i>.content`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SCHEMA_FIELDS = {
    "text": ("text",),
    "prompt_completion": ("prompt", "completion"),
    "chat": ("messages",),
}
CHAT_ROLES = ("system", "user", "assistant", "tool")


def text_fields(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field name, value) for every text-bearing field of a record, in a stable order."""
    for key in ("text", "prompt", "completion"):
        value = record.get(key)
        if isinstance(value, str):
            yield key, value
    messages = record.get("messages")
    if isinstance(messages, list):
        for i, msg in enumerate(messages):
            if isinstance(msg, dict) and isinstance(msg.get("content"), str):
                yield f"messages.{i}.content", msg["content"]


def get_field(record: dict[str, Any], field: str) -> str:
    if field.startswith("messages."):
        _, idx, key = field.split(".")
        return record["messages"][int(idx)][key]
    return record[field]


def set_field(record: dict[str, Any], field: str, value: str) -> None:
    if field.startswith("messages."):
        _, idx, key = field.split(".")
        record["messages"][int(idx)][key] = value
    else:
        record[field] = value
