"""keep, drop_record, placeholder ([TYPE] or numbered [TYPE_n]), mask, hash (keyed HMAC, truncated)."""

from __future__ import annotations

from privtune.pii.normalize import normalize
from privtune.pii.operators.base import OperatorContext


class Keep:
    name = "keep"
    needs_keys: tuple[str, ...] = ()

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None:
        return value


class DropRecord:
    name = "drop_record"
    needs_keys: tuple[str, ...] = ()

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None:
        return None


class Placeholder:
    """`[PERSON]`, or `[PERSON_1]`, `[PERSON_2]`: one number per distinct value within a record."""

    name = "placeholder"
    needs_keys: tuple[str, ...] = ()

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None:
        if not ctx.options.numbered_placeholders:
            return f"[{entity_type}]"
        k = (entity_type, normalize(entity_type, value))
        if k not in ctx.numbering:
            ctx.counters[entity_type] = ctx.counters.get(entity_type, 0) + 1
            ctx.numbering[k] = ctx.counters[entity_type]
        return f"[{entity_type}_{ctx.numbering[k]}]"


class Mask:
    """Replace letters and digits except the last `mask_keep_last`; separators stay (format kept)."""

    name = "mask"
    needs_keys: tuple[str, ...] = ()

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None:
        keep = ctx.options.mask_keep_last
        alnum = [i for i, c in enumerate(value) if c.isalnum()]
        # never reveal more than a third of a short value
        keep = min(keep, len(alnum) // 3)
        hide = set(alnum[: len(alnum) - keep]) if keep else set(alnum)
        return "".join(ctx.options.mask_char if i in hide else c for i, c in enumerate(value))


class Hash:
    """`<TYPE:hex>`: HMAC-SHA256(key, type + normalized value), truncated; equal values, equal hashes."""

    name = "hash"
    needs_keys = ("hash",)

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None:
        digest = ctx.prf("hash", entity_type, normalize(entity_type, value)).hex()
        return f"<{entity_type}:{digest[: ctx.options.hash_chars]}>"
