"""A tiny template language whose renderer knows the exact offsets of every value it inserts.

Syntax: `{key}` inserts a value from the context, `<<a|b|c>>` picks one alternative (alternatives
may contain `{key}`; an empty alternative makes a passage optional). Templates are compiled once.
The context returns a list of `(text, entity_type | None)` segments for a key, so compound values
(`export STRIPE_KEY=<secret>`) mark only the secret part.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

Segment = tuple[str, str | None]
Node = str | tuple  # literal text, ("k", key) or ("c", alternatives: tuple[Compiled, ...])
Compiled = tuple[Node, ...]

_CHOICE = re.compile(r"<<(.*?)>>", re.S)
_KEY = re.compile(r"\{(\w+)\}")


def _compile_flat(src: str) -> Compiled:
    nodes: list[Node] = []
    pos = 0
    for m in _KEY.finditer(src):
        if m.start() > pos:
            nodes.append(src[pos:m.start()])
        nodes.append(("k", m.group(1)))
        pos = m.end()
    if pos < len(src):
        nodes.append(src[pos:])
    return tuple(nodes)


def compile_template(src: str) -> Compiled:
    """Parse once; `render` then walks tuples without any regex work."""
    nodes: list[Node] = []
    pos = 0
    for m in _CHOICE.finditer(src):
        nodes.extend(_compile_flat(src[pos:m.start()]))
        nodes.append(("c", tuple(_compile_flat(alt) for alt in m.group(1).split("|"))))
        pos = m.end()
    nodes.extend(_compile_flat(src[pos:]))
    return tuple(nodes)


def template_keys(compiled: Compiled) -> set[str]:
    """Every key a template may ask for (used to pick templates a profile can fill)."""
    keys: set[str] = set()
    for node in compiled:
        if isinstance(node, str):
            continue
        if node[0] == "k":
            keys.add(node[1])  # type: ignore[arg-type]
        else:
            for alt in node[1]:
                keys |= template_keys(alt)  # type: ignore[arg-type]
    return keys


class TextBuilder:
    """Accumulates text and the spans of the PII segments appended to it."""

    __slots__ = ("parts", "pos", "spans")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[tuple[int, int, str]] = []
        self.pos = 0

    def add(self, text: str, entity_type: str | None = None) -> None:
        if not text:
            return
        if entity_type is not None:
            self.spans.append((self.pos, self.pos + len(text), entity_type))
        self.parts.append(text)
        self.pos += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def render(compiled: Compiled, lookup: Callable[[str], list[Segment]], rng: random.Random,
           out: TextBuilder) -> None:
    for node in compiled:
        if isinstance(node, str):
            out.add(node)
        elif node[0] == "k":
            for text, etype in lookup(node[1]):  # type: ignore[arg-type]
                out.add(text, etype)
        else:
            alts = node[1]
            render(alts[rng.randrange(len(alts))], lookup, rng, out)  # type: ignore[arg-type]
