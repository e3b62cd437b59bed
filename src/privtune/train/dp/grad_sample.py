"""Per-unit gradient norms and clipped gradient sums from activations and output gradients.

Book-keeping style: forward hooks keep each layer's input, tensor hooks keep the gradient of its output;
the backward pass itself never computes weight gradients (trainable weights are frozen while it runs).
From those two factors we get, per unit of privacy (an example or a user):
- the gradient norm, either by materialising the per-unit gradient (cheap for LoRA's rank-r matrices)
  or by the ghost-norm identity ||Σ_t l_t r_tᵀ||² = Σ_{t,s} (l_t·l_s)(r_t·r_s) (cheap for wide layers),
  whichever costs fewer operations;
- the clipped sum Σ_u c_u·G_u as one weighted matmul, the same cost as an ordinary weight gradient.
A parameter used by several modules (GPT-2's tied embedding and LM head) gets the norm of the *sum*
of its uses, including the cross terms, so tied weights are clipped correctly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def kind_of(module: nn.Module) -> str | None:
    """The per-sample rule for a module type, or None when unsupported."""
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, nn.Embedding):
        return "embedding"
    if isinstance(module, nn.LayerNorm):
        return "layernorm"
    name = type(module).__name__
    if name == "Conv1D" and hasattr(module, "nf"):
        return "conv1d"
    if name.endswith("RMSNorm") and (hasattr(module, "variance_epsilon") or hasattr(module, "eps")):
        return "rmsnorm"
    return None


@dataclass
class Outer:
    """A use of a matrix parameter as Σ_t left_t ⊗ right_t per unit; `left` may be token ids."""

    left: Tensor  # (U, S, m) dense, or (U, S) indices into m rows when `index`
    right: Tensor  # (U, S, n)
    m: int
    index: bool = False


@dataclass
class Vector:
    """A use of a vector parameter whose per-unit gradient is given directly: (U, n)."""

    value: Tensor


Use = Outer | Vector


def _up(t: Tensor) -> Tensor:
    """Norm arithmetic in at least float32 (bf16/fp16 activations under autocast)."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def regroup(t: Tensor, layout: Tensor | None) -> Tensor:
    """(B, S, ...) per example -> (U, k·S, ...) per unit, concatenating each unit's examples (zero-padded)."""
    if layout is None:
        return t
    padded = torch.cat([t, torch.zeros_like(t[:1])], dim=0)
    idx = torch.where(layout < 0, t.shape[0], layout)  # (U, k)
    out = padded[idx]  # (U, k, S, ...)
    return out.flatten(1, 2)


def regroup_rows(v: Tensor, unit_of: Tensor | None, units: int) -> Tensor:
    """(B, n) per example -> (U, n) per unit by summation."""
    if unit_of is None:
        return v
    return torch.zeros((units, *v.shape[1:]), dtype=v.dtype, device=v.device).index_add_(0, unit_of, v)


def _gram(a: Tensor, a_index: bool, b: Tensor, b_index: bool) -> Tensor:
    """(U, S1, S2) inner products of the per-token factors (one-hot rows when `index`)."""
    if a_index and b_index:
        return (a[:, :, None] == b[:, None, :]).to(torch.float32)
    if a_index:
        return _gram(b, False, a, True).transpose(1, 2)
    if b_index:
        # dense a (U, S1, m) against one-hot rows b (U, S2): a[u, t, b[u, s]]
        idx = b[:, None, :].expand(a.shape[0], a.shape[1], b.shape[1])
        return torch.gather(a, 2, idx)
    return torch.bmm(a, b.transpose(1, 2))


def outer_inner(u: Outer, v: Outer) -> Tensor:
    """Per-unit Frobenius inner product <Σ_t u.l_t⊗u.r_t, Σ_s v.l_s⊗v.r_s> (ghost identity)."""
    gl = _gram(u.left, u.index, v.left, v.index)
    gr = torch.bmm(u.right, v.right.transpose(1, 2))
    return (gl * gr).sum(dim=(1, 2))


def materialize(u: Use) -> Tensor:
    """The per-unit gradient of one use: (U, m, n) or (U, n)."""
    if isinstance(u, Vector):
        return u.value
    if u.index:
        units, _s = u.left.shape
        n = u.right.shape[-1]
        flat = (u.left + torch.arange(units, device=u.left.device)[:, None] * u.m).reshape(-1)
        out = torch.zeros(units * u.m, n, dtype=u.right.dtype, device=u.right.device)
        return out.index_add_(0, flat, u.right.reshape(-1, n)).view(units, u.m, n)
    return torch.einsum("usm,usn->umn", u.left, u.right)


def dense_per_unit(uses: list[Use]) -> Tensor | None:
    """The per-unit gradient (U, ...) when materialising it is the cheaper way to its norm, else None.

    Vector parameters always; a single matrix use when S·m·n ≤ S²·(m+n) (LoRA's rank-r factors, short
    sequences). The engine reuses this tensor for the clipped sum (Σ_u c_u·G_u costs U·m·n, far less
    than recomputing it from the token factors).
    """
    if all(isinstance(u, Vector) for u in uses):
        total = uses[0].value
        for u in uses[1:]:
            total = total + u.value
        return total
    if len(uses) == 1:
        u = uses[0]
        assert isinstance(u, Outer)
        s, n = u.right.shape[1], u.right.shape[-1]
        if not u.index and s * u.m * n <= s * s * (u.m + n):
            return materialize(u)
    return None


def norm_sq(uses: list[Use]) -> Tensor:
    """Per-unit squared norm of the summed gradient of one parameter over all its uses."""
    dense = dense_per_unit(uses)
    if dense is not None:
        return dense.pow(2).flatten(1).sum(1)
    return ghost_norm_sq(uses)


def ghost_norm_sq(uses: list[Use]) -> Tensor:
    """Squared per-unit norm by the ghost identity, cross terms between uses (tied weights) included."""
    total = None
    for i, a in enumerate(uses):
        for b in uses[i:]:
            if not (isinstance(a, Outer) and isinstance(b, Outer)):
                raise TypeError("a parameter mixes matrix and vector uses")
            term = outer_inner(a, b) * (1.0 if a is b else 2.0)
            total = term if total is None else total + term
    assert total is not None
    return total


class Tap:
    """Hooks on one supported module: records (input, output-gradient) pairs during a captured pass."""

    def __init__(self, name: str, module: nn.Module, kind: str) -> None:
        self.name, self.module, self.kind = name, module, kind
        self.inputs: list[Tensor] = []
        self.grads: list[Tensor | None] = []
        self.active = False
        self.batch_size = 0
        self._factors: tuple[Tensor, Tensor] | None = None
        self._handles = [
            module.register_forward_pre_hook(self._pre),
            module.register_forward_hook(self._post),
        ]

    def remove(self) -> None:
        for h in self._handles:
            h.remove()

    def clear(self) -> None:
        self.inputs.clear()
        self.grads.clear()
        self._factors = None

    def _pre(self, module: nn.Module, args: tuple) -> tuple | None:
        if not self.active or self.kind != "embedding":
            return None
        ids = args[0]
        if ids.dim() >= 1 and ids.shape[0] == 1 and self.batch_size > 1:
            # broadcast position ids (GPT-2's wpe): give every example its own row so that
            # per-example gradients exist; the output still broadcasts against the batch.
            return (ids.expand(self.batch_size, *ids.shape[1:]), *args[1:])
        return None

    def _post(self, module: nn.Module, args: tuple, output: Tensor) -> None:
        if not self.active or not torch.is_grad_enabled():
            return
        x = args[0]
        if x.shape[0] != self.batch_size:
            raise RuntimeError(
                f"module {self.name} saw a batch of {x.shape[0]} rows, expected {self.batch_size}: "
                "per-example gradients need the batch dimension first"
            )
        slot = len(self.grads)
        self.inputs.append(x.detach())
        self.grads.append(None)
        if not output.requires_grad:
            output.requires_grad_(True)  # a leaf: nothing trainable before it, start the graph here

        def keep(g: Tensor, slot: int = slot) -> None:
            self.grads[slot] = g.detach()

        output.register_hook(keep)

    # -- factors --------------------------------------------------------------------------------
    def _cat(self, ts: list[Tensor], last: bool = True) -> Tensor:
        flat = [t.reshape(t.shape[0], -1, t.shape[-1]) if last else t.reshape(t.shape[0], -1) for t in ts]
        return flat[0] if len(flat) == 1 else torch.cat(flat, dim=1)

    def factors(self) -> tuple[Tensor, Tensor]:
        """(inputs, output grads) over all calls, as (B, S, ·) float32 (ids stay integer); cached per pass."""
        if self._factors is None:
            self._factors = self._compute_factors()
        return self._factors

    def _compute_factors(self) -> tuple[Tensor, Tensor]:
        if any(g is None for g in self.grads):
            raise RuntimeError(f"module {self.name}: no gradient reached its output (not part of the loss?)")
        g = self._cat([_up(t) for t in self.grads])  # type: ignore[arg-type]
        if self.kind == "embedding":
            return self._cat(self.inputs, last=False), g
        x = self._cat([_up(t) for t in self.inputs])
        if self.kind == "layernorm":
            x = F.layer_norm(x, x.shape[-1:], eps=self.module.eps)  # type: ignore[arg-type]
        elif self.kind == "rmsnorm":
            eps = getattr(self.module, "variance_epsilon", getattr(self.module, "eps", 1e-6))
            # as HF RMSNorms do: normalise in float32, then back to the input's dtype
            x32 = x.float()
            x = _up((x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(self.inputs[0].dtype))
        return x, g

    def uses(self, layout: Tensor | None, unit_of: Tensor | None, units: int) -> dict[str, Use]:
        """Per-unit gradient factors of each direct parameter ("weight", "bias")."""
        x, g = self.factors()
        out: dict[str, Use] = {}
        if self.kind in ("linear", "conv1d"):
            xr, gr = regroup(x, layout), regroup(g, layout)
            w = self.module.weight
            if self.kind == "linear":
                out["weight"] = Outer(gr, xr, w.shape[0])
            else:
                out["weight"] = Outer(xr, gr, w.shape[0])
            if getattr(self.module, "bias", None) is not None:
                out["bias"] = Vector(regroup_rows(g.sum(1), unit_of, units))
        elif self.kind == "embedding":
            out["weight"] = Outer(regroup(x, layout), regroup(g, layout), self.module.weight.shape[0], index=True)
        else:
            out["weight"] = Vector(regroup_rows((g * x).sum(1), unit_of, units))
            if getattr(self.module, "bias", None) is not None:
                out["bias"] = Vector(regroup_rows(g.sum(1), unit_of, units))
        return out

    def weighted_grads(self, c_example: dict[str, Tensor]) -> dict[str, Tensor]:
        """Σ_b c_b · grad_b for each direct parameter, with per-example factors c (B,) per parameter."""
        x, g = self.factors()
        out: dict[str, Tensor] = {}
        if "weight" in c_example:
            gw = g * c_example["weight"][:, None, None]
            if self.kind == "linear":
                out["weight"] = gw.flatten(0, 1).T @ x.flatten(0, 1)
            elif self.kind == "conv1d":
                out["weight"] = x.flatten(0, 1).T @ gw.flatten(0, 1)
            elif self.kind == "embedding":
                w = self.module.weight
                out["weight"] = torch.zeros(w.shape, dtype=gw.dtype, device=gw.device).index_add_(
                    0, x.reshape(-1), gw.flatten(0, 1)
                )
            else:
                out["weight"] = (gw * x).sum(dim=(0, 1))
        if "bias" in c_example:
            out["bias"] = (g * c_example["bias"][:, None, None]).sum(dim=(0, 1))
        return out
