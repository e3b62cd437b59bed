"""Operator registry: name -> operator instance (one small module per kind)."""

from __future__ import annotations

from privtune.pii.operators.base import Operator, OperatorContext
from privtune.pii.operators.pseudonym import Pseudonym
from privtune.pii.operators.simple import DropRecord, Hash, Keep, Mask, Placeholder


class Encrypt:
    """Reversible: the value goes into the vault (AES-256-GCM), the text gets its token."""

    name = "encrypt"
    needs_keys = ("vault",)

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None:
        return ctx.vault.put(entity_type, value)


OPERATORS: dict[str, Operator] = {
    op.name: op for op in (Keep(), DropRecord(), Placeholder(), Mask(), Hash(), Pseudonym(), Encrypt())
}

__all__ = ["OPERATORS", "Operator", "OperatorContext"]
