"""DP-SGD engine: clip each unit's gradient, sum over the logical batch, add Gaussian noise once.

Usage per logical step (any number of physical micro-batches, any sizes, including none)::

    for mb in micro_batches:
        with engine.capture(len(mb), units):
            per_example_loss(model, mb).sum().backward()
        engine.accumulate()
    engine.finalize(expected_units, generator)   # sets p.grad = (Σ clipped + N(0, σ²C²)) / E[units]
    optimizer.step()
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from privtune.errors import ConfigError
from privtune.train.dp.grad_sample import Tap, Use, dense_per_unit, ghost_norm_sq, kind_of, materialize


class DPEngine:
    def __init__(
        self,
        model: nn.Module,
        max_grad_norm: float,
        noise_multiplier: float,
        clipping: str = "flat",
    ) -> None:
        self.model = model
        self.max_grad_norm = float(max_grad_norm)
        self.noise_multiplier = float(noise_multiplier)
        self.clipping = clipping
        self.params: dict[str, nn.Parameter] = {n: p for n, p in model.named_parameters() if p.requires_grad}
        if not self.params:
            raise ConfigError("the model has no trainable parameters")
        canonical = {id(p): n for n, p in self.params.items()}
        self.taps: list[Tap] = []
        # parameter name -> [(tap, attribute)] ; tied parameters get several uses
        self.uses: dict[str, list[tuple[Tap, str]]] = {n: [] for n in self.params}
        self.tap_params: dict[int, list[tuple[str, str]]] = {}  # id(tap) -> [(attribute, parameter name)]
        unsupported = []
        for mname, module in model.named_modules():
            direct = [(a, p) for a, p in module.named_parameters(recurse=False) if p.requires_grad]
            if not direct:
                continue
            kind = kind_of(module)
            if kind is None:
                unsupported.append(f"{mname} ({type(module).__name__})")
                continue
            tap = Tap(mname, module, kind)
            self.taps.append(tap)
            for attr, p in direct:
                self.uses[canonical[id(p)]].append((tap, attr))
                self.tap_params.setdefault(id(tap), []).append((attr, canonical[id(p)]))
        if unsupported:
            self.detach()
            raise ConfigError(
                "DP training cannot compute per-example gradients for trainable parameters of: "
                + ", ".join(unsupported[:10])
                + " (supported: Linear, Conv1D, Embedding, LayerNorm, RMSNorm); freeze them or use LoRA"
            )
        self.summed: dict[str, Tensor] = {}
        self.units_seen = 0
        self.last_norms: Tensor | None = None

    def detach(self) -> None:
        for t in self.taps:
            t.remove()
        self.taps = []

    # -- one micro-batch -------------------------------------------------------------------------
    @contextlib.contextmanager
    def capture(self, batch_size: int, unit_of: Tensor | None = None) -> Iterator[None]:
        """Forward+backward inside this block records per-example factors, not weight gradients.

        `unit_of[b]` is the unit (user) of example b for user-level DP; None means each example
        is its own unit.
        """
        self._unit_of = unit_of
        for t in self.taps:
            t.clear()
            t.active, t.batch_size = True, batch_size
        for p in self.params.values():
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in self.params.values():
                p.requires_grad_(True)
            for t in self.taps:
                t.active = False

    def _layout(self) -> tuple[Tensor | None, Tensor | None, int]:
        unit_of = self._unit_of
        if unit_of is None:
            return None, None, self.taps[0].inputs[0].shape[0] if self.taps and self.taps[0].inputs else 0
        units = int(unit_of.max().item()) + 1
        counts = torch.bincount(unit_of, minlength=units)
        k = int(counts.max().item())
        layout = torch.full((units, k), -1, dtype=torch.long, device=unit_of.device)
        order = torch.argsort(unit_of, stable=True)
        starts = torch.cumsum(counts, 0) - counts
        pos = torch.arange(len(unit_of), device=unit_of.device) - starts[unit_of[order]]
        layout[unit_of[order], pos] = order
        return layout, unit_of, units

    def _param_uses(self) -> tuple[dict[str, list[Use]], Tensor | None, int]:
        layout, unit_of, units = self._layout()
        per_tap = {id(t): t.uses(layout, unit_of, units) for t in self.taps if t.inputs}
        out: dict[str, list[Use]] = {}
        for name, uses in self.uses.items():
            found = [per_tap[id(t)][attr] for t, attr in uses if id(t) in per_tap]
            if found:
                out[name] = found
        return out, unit_of, units

    def per_unit_grads(self) -> dict[str, Tensor]:
        """Materialised per-unit gradients of the captured micro-batch (for tests and diagnostics)."""
        uses, _, _ = self._param_uses()
        result = {}
        for name, us in uses.items():
            total = materialize(us[0])
            for u in us[1:]:
                total = total + materialize(u)
            result[name] = total.reshape(total.shape[0], *self.params[name].shape)
        return result

    def clip_factors(self) -> tuple[dict[str, Tensor], Tensor, Tensor | None]:
        """Per-parameter, per-unit clip factors, the per-unit total norms, and the unit index."""
        factors, total, unit_of, _dense = self._clip()
        return factors, total, unit_of

    def _clip(self) -> tuple[dict[str, Tensor], Tensor, Tensor | None, dict[str, Tensor]]:
        """Clip factors and norms, plus the per-unit gradients that were materialised on the way."""
        uses, unit_of, _ = self._param_uses()
        sq: dict[str, Tensor] = {}
        dense: dict[str, Tensor] = {}
        for name, us in uses.items():
            d = dense_per_unit(us)
            if d is None:
                sq[name] = ghost_norm_sq(us)
            else:
                dense[name] = d
                sq[name] = d.pow(2).flatten(1).sum(1)
        total = torch.sqrt(torch.stack(list(sq.values())).sum(0))
        C = self.max_grad_norm
        if self.clipping == "per_layer":
            c_p = C / math.sqrt(len(sq))
            factors = {n: (c_p / (s.sqrt() + 1e-6)).clamp(max=1.0) for n, s in sq.items()}
        else:
            f = (C / (total + 1e-6)).clamp(max=1.0)
            factors = dict.fromkeys(sq, f)
        return factors, total, unit_of, dense

    def _add(self, name: str, grad: Tensor) -> None:
        prev = self.summed.get(name)
        self.summed[name] = grad if prev is None else prev + grad

    def accumulate(self) -> Tensor:
        """Clip the captured micro-batch per unit and add it to the running sum; returns unit norms."""
        if not any(t.inputs for t in self.taps):
            return torch.zeros(0)
        factors, norms, unit_of, dense = self._clip()
        # materialised per-unit gradients: the clipped sum is one (U)·(U, numel) product
        for name, g in dense.items():
            self._add(name, (factors[name].to(g.dtype) @ g.flatten(1)).reshape(self.params[name].shape))
        # the rest: one weighted matmul over the token factors per use
        for tap in self.taps:
            if not tap.inputs:
                continue
            names = {attr: name for attr, name in self.tap_params[id(tap)] if name in factors and name not in dense}
            if names:
                wanted = {a: factors[n][unit_of] if unit_of is not None else factors[n] for a, n in names.items()}
                for attr, grad in tap.weighted_grads(wanted).items():
                    self._add(names[attr], grad)
            tap.clear()
        self.units_seen += int(norms.shape[0])
        self.last_norms = norms.detach()
        return norms

    # -- end of the logical batch ----------------------------------------------------------------
    def finalize(self, expected_units: float, generator: torch.Generator | None = None) -> None:
        """p.grad = (Σ clipped + N(0, σ²C²)) / expected_units; noise drawn once for the whole batch."""
        std = self.noise_multiplier * self.max_grad_norm
        for name, p in self.params.items():
            g = self.summed.get(name)
            g = torch.zeros(p.shape, dtype=torch.float32, device=p.device) if g is None else g.to(p.device)
            if std > 0:
                noise = torch.randn(p.shape, generator=generator, dtype=torch.float32, device="cpu").to(p.device)
                g = g + std * noise
            p.grad = (g / expected_units).to(p.dtype)
        self.summed = {}
        self.units_seen = 0

    def reduce(self) -> None:
        """Sum the clipped gradients over distributed workers (before the single noise draw)."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return
        for name, p in self.params.items():
            g = self.summed.get(name)
            if g is None:
                g = torch.zeros(p.shape, dtype=torch.float32, device=p.device)
            dist.all_reduce(g)
            self.summed[name] = g
