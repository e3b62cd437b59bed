"""Records -> token ids and label masks; held-out split; padded micro-batches; per-example loss.

Loss covers every token of a `text` record, only the completion of a prompt/completion record and
only assistant turns of a chat (rendered with the tokenizer's chat template when it has one).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

IGNORE = -100


@dataclass
class Example:
    record_id: Any
    unit: str  # the unit of privacy this example belongs to (user id or record id)
    input_ids: list[int]
    labels: list[int]


def _segments_plain(record: dict[str, Any], eos: str) -> list[tuple[str, bool]]:
    if "text" in record:
        return [(record["text"] + eos, True)]
    if "prompt" in record:
        return [(record["prompt"], False), (record["completion"] + eos, True)]
    segs = []
    for msg in record.get("messages", []):
        segs.append((f"<|{msg['role']}|>\n", False))
        segs.append((msg["content"] + eos + "\n", msg["role"] == "assistant"))
    return segs


def _encode_chat_template(record: dict[str, Any], tokenizer: Any) -> tuple[list[int], list[int]]:
    """Render with the chat template; label the characters each assistant turn adds."""
    msgs = record["messages"]
    full = tokenizer.apply_chat_template(msgs, tokenize=False)
    spans = []
    for i, m in enumerate(msgs):
        if m["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(msgs[:i], tokenize=False, add_generation_prompt=True) if i else ""
        upto = tokenizer.apply_chat_template(msgs[: i + 1], tokenize=False)
        if full.startswith(upto) and upto.startswith(before):
            spans.append((len(before), len(upto)))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    labels = [
        tid if any(s <= a and b <= e for s, e in spans) and b > a else IGNORE
        for tid, (a, b) in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
    ]
    return list(enc["input_ids"]), labels


def encode(record: dict[str, Any], tokenizer: Any, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (IGNORE where no loss), truncated to `max_length`."""
    if "messages" in record and getattr(tokenizer, "chat_template", None):
        ids, labels = _encode_chat_template(record, tokenizer)
    else:
        ids, labels = [], []
        for text, train in _segments_plain(record, tokenizer.eos_token or ""):
            part = tokenizer(text, add_special_tokens=False)["input_ids"]
            ids += part
            labels += part if train else [IGNORE] * len(part)
    return ids[:max_length], labels[:max_length]


def unit_of(record: dict[str, Any], by_user: bool) -> str:
    if by_user and record.get("user_id") is not None:
        return f"user:{record['user_id']}"
    return f"record:{record['id']}"


def split_validation(records: list[dict[str, Any]], fraction: float, seed: int, by_user: bool) -> tuple[list, list]:
    """Deterministic held-out split by hashed unit (a user's records stay on one side)."""
    if fraction <= 0 or len(records) < 2:
        return records, []
    cutoff = int(fraction * 2**32)

    def held(r: dict[str, Any]) -> bool:
        h = hashlib.sha256(f"{seed}:{unit_of(r, by_user)}".encode()).digest()
        return int.from_bytes(h[:4], "big") < cutoff

    train = [r for r in records if not held(r)]
    val = [r for r in records if held(r)]
    if not train or not val:  # tiny data: fall back to the last records
        k = max(1, round(fraction * len(records)))
        return records[:-k], records[-k:]
    return train, val


def collate(examples: list[Example], pad_id: int, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Right-padded batch with explicit per-example position ids."""
    t = max(1, max((len(e.input_ids) for e in examples), default=1))
    ids = torch.full((len(examples), t), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), t), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), t), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids, dtype=torch.long)
        labels[i, :n] = torch.tensor(e.labels, dtype=torch.long)
        mask[i, :n] = 1
    pos = torch.arange(t, dtype=torch.long).unsqueeze(0).expand(len(examples), t)
    out = {"input_ids": ids, "labels": labels, "attention_mask": mask, "position_ids": pos}
    return {k: v.to(device) for k, v in out.items()}


def per_example_loss(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean next-token loss per example (B,), number of loss tokens per example (B,))."""
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=batch["position_ids"]
    ).logits
    shift_logits = logits[:, :-1].float()
    shift_labels = batch["labels"][:, 1:]
    tok = F.cross_entropy(shift_logits.transpose(1, 2), shift_labels, ignore_index=IGNORE, reduction="none")
    count = (shift_labels != IGNORE).sum(1)
    return tok.sum(1) / count.clamp(min=1), count
