"""Schema mapping and data minimization: a raw dict becomes a record, or a `BadRecord` naming the field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from privtune.ingest.config import IngestConfig
from privtune.records import CHAT_ROLES, SCHEMA_FIELDS


class BadRecord(Exception):
    """A record that fails the schema; carries a reason code, the field and a value-free message."""

    def __init__(self, code: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


@dataclass
class Mapped:
    content: dict[str, Any]
    user_id: str | None
    meta: dict[str, Any]
    dropped: list[str] = field(default_factory=list)


def _text(value: Any, name: str) -> str:
    if value is None:
        raise BadRecord("missing_field", name, "missing required field")
    if not isinstance(value, str):
        raise BadRecord("wrong_type", name, f"expected a string, got {type(value).__name__}")
    if not value.strip():
        raise BadRecord("empty_text", name, "empty text")
    return value


def _messages(value: Any, name: str) -> list[dict[str, str]]:
    if value is None:
        raise BadRecord("missing_field", name, "missing required field")
    if isinstance(value, str):  # CSV cells and some exports hold the list as a JSON string
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise BadRecord(
                "wrong_type", name, "expected a list of messages (or its JSON encoding)"
            ) from None
    if not isinstance(value, list):
        raise BadRecord("wrong_type", name, f"expected a list of messages, got {type(value).__name__}")
    if not value:
        raise BadRecord("empty_text", name, "no messages")
    out = []
    for i, msg in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(msg, dict):
            raise BadRecord(
                "wrong_type", where, f"expected an object with role and content, got {type(msg).__name__}"
            )
        role = msg.get("role")
        if role not in CHAT_ROLES:
            raise BadRecord("wrong_type", f"{where}.role", f"role must be one of {', '.join(CHAT_ROLES)}")
        content = msg.get("content")
        if not isinstance(content, str):
            code = "missing_field" if content is None else "wrong_type"
            raise BadRecord(code, f"{where}.content", "expected a string")
        out.append({"role": role, "content": content})
    if not any(m["content"].strip() for m in out):
        raise BadRecord("empty_text", name, "all messages are empty")
    return out


def map_record(value: dict[str, Any], cfg: IngestConfig) -> Mapped:
    renamed: dict[str, Any] = {}
    for key, v in value.items():
        target = cfg.rename.get(key, key)
        if target in renamed:
            raise BadRecord("duplicate_field", target, "two source fields map to this field after renaming")
        renamed[target] = v
    schema_fields = SCHEMA_FIELDS[cfg.record_schema]
    content: dict[str, Any] = {}
    for name in schema_fields:
        content[name] = (
            _messages(renamed.get(name), name) if name == "messages" else _text(renamed.get(name), name)
        )
    user_id = None
    if cfg.user_id_field:
        uid = renamed.get(cfg.user_id_field)
        if uid is None or (isinstance(uid, str) and not uid.strip()):
            raise BadRecord("missing_field", cfg.user_id_field, "missing user id")
        if not isinstance(uid, str | int) or isinstance(uid, bool):
            raise BadRecord(
                "wrong_type",
                cfg.user_id_field,
                f"user id must be a string or integer, got {type(uid).__name__}",
            )
        user_id = str(uid)
    meta = {k: renamed[k] for k in cfg.keep if k in renamed and k not in schema_fields}
    kept = set(schema_fields) | set(meta) | ({cfg.user_id_field} if cfg.user_id_field else set())
    dropped = [k for k, v in renamed.items() if k not in kept and v is not None]
    return Mapped(content, user_id, meta, dropped)


def canonical_content(content: dict[str, Any]) -> bytes:
    """Bytes that identify a record's training content (for exact duplicate removal)."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
