"""Privacy accounting: a thin wrapper over maintained accountant libraries.

PRV and RDP come from Opacus (`PRVAccountant`, `RDPAccountant`), PLD from Google's dp-accounting
(`PLDAccountant` on a composed Poisson-subsampled Gaussian event). No accounting formula lives here:
this module only keeps the history of (σ, q, steps), asks the library for ε, and searches σ for a
target ε. The history is plain JSON so it is saved in every checkpoint and resumed exactly.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from privtune.errors import ConfigError

ACCOUNTANTS = ("prv", "rdp", "pld")


def _check(accountant: str) -> None:
    if accountant not in ACCOUNTANTS:
        raise ConfigError(f"unknown accountant {accountant!r}; choose one of {', '.join(ACCOUNTANTS)}")


def _epsilon_history(history: list[tuple[float, float, int]], delta: float, accountant: str) -> float:
    _check(accountant)
    history = [(float(s), float(q), int(t)) for s, q, t in history if t > 0 and q > 0]
    if not history:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if accountant == "pld":
            import dp_accounting as dpa
            from dp_accounting import pld

            acc = pld.PLDAccountant()
            for s, q, t in history:
                event = dpa.GaussianDpEvent(s) if q >= 1.0 else dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(s))
                acc.compose(dpa.SelfComposedDpEvent(event, t))
            return float(acc.get_epsilon(delta))
        if accountant == "rdp":
            from opacus.accountants import RDPAccountant

            rdp = RDPAccountant()
            rdp.history = list(history)
            return float(rdp.get_epsilon(delta))
        from opacus.accountants import PRVAccountant

        prv = PRVAccountant()
        prv.history = list(history)
        try:
            return float(prv.get_epsilon(delta))
        except (ValueError, RuntimeError, FloatingPointError) as exc:
            # Opacus' PRV domain breaks down at very large ε; say so instead of returning garbage.
            raise ConfigError(
                f"PRV accountant failed for this setting ({type(exc).__name__}); use --accountant pld or rdp"
            ) from None


def epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str = "prv") -> float:
    """ε after `steps` Poisson-sampled Gaussian steps with the given σ, q and δ."""
    if not 0 < sample_rate <= 1:
        raise ConfigError(f"sample rate must be in (0, 1], got {sample_rate}")
    if noise_multiplier <= 0:
        raise ConfigError("noise multiplier must be > 0")
    if not 0 < delta < 1:
        raise ConfigError(f"delta must be in (0, 1), got {delta}")
    return _epsilon_history([(noise_multiplier, sample_rate, steps)], delta, accountant)


def calibrate_noise(
    target_epsilon: float,
    sample_rate: float,
    steps: int,
    delta: float,
    accountant: str = "prv",
    tolerance: float = 0.01,
    max_sigma: float = 1e4,
) -> float:
    """Smallest σ (to `tolerance` in ε) whose ε stays at or below `target_epsilon`.

    Bisection over the library's ε (monotone decreasing in σ); the returned σ always satisfies the
    target, never overshoots it.
    """
    if target_epsilon <= 0:
        raise ConfigError("target epsilon must be > 0")
    lo, hi = 0.0, 1.0
    while epsilon(hi, sample_rate, steps, delta, accountant) > target_epsilon:
        lo, hi = hi, hi * 2
        if hi > max_sigma:
            raise ConfigError(
                f"ε={target_epsilon} is unreachable for q={sample_rate:.4g}, {steps} steps, δ={delta:.3g} "
                f"even with σ={max_sigma:g}; use more data, fewer steps or a larger ε"
            )
    eps_hi = epsilon(hi, sample_rate, steps, delta, accountant)
    while target_epsilon - eps_hi > tolerance and hi - lo > 1e-4:
        mid = (lo + hi) / 2
        e = epsilon(mid, sample_rate, steps, delta, accountant) if mid > 0 else math.inf
        if e > target_epsilon:
            lo = mid
        else:
            hi, eps_hi = mid, e
    return hi


@dataclass
class Plan:
    """q and T derived from data size, batch size and epochs (or given steps)."""

    sample_rate: float
    steps: int
    steps_per_epoch: int

    @classmethod
    def from_data(cls, dataset_size: int, batch_size: int, epochs: float | None = None, steps: int | None = None) -> Plan:
        if dataset_size <= 0:
            raise ConfigError("dataset size must be > 0")
        if batch_size <= 0:
            raise ConfigError("batch size must be > 0")
        q = min(1.0, batch_size / dataset_size)
        per_epoch = max(1, round(1 / q))
        if steps is None:
            if epochs is None:
                raise ConfigError("give either epochs or steps")
            steps = max(1, round(epochs * per_epoch))
        return cls(sample_rate=q, steps=steps, steps_per_epoch=per_epoch)


def epsilon_table(
    noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str = "prv", rows: int = 10
) -> list[dict[str, float]]:
    """ε after each epoch (1/q steps) up to `steps`, at most `rows` evenly spaced rows (for planning)."""
    per_epoch = max(1, round(1 / sample_rate))
    points = list(range(per_epoch, steps + 1, per_epoch))
    if not points or points[-1] != steps:
        points.append(steps)
    if len(points) > rows:
        idx = sorted({round(i * (len(points) - 1) / (rows - 1)) for i in range(rows)})
        points = [points[i] for i in idx]
    return [
        {"epoch": t / per_epoch, "steps": t, "epsilon": epsilon(noise_multiplier, sample_rate, t, delta, accountant)}
        for t in points
    ]


@dataclass
class PrivacyAccountant:
    """Running accountant for a training job; `state_dict()` goes into every checkpoint."""

    accountant: str
    delta: float
    history: list[tuple[float, float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check(self.accountant)

    @property
    def steps(self) -> int:
        return sum(t for _, _, t in self.history)

    def step(self, noise_multiplier: float, sample_rate: float, n: int = 1) -> None:
        if self.history and self.history[-1][:2] == (noise_multiplier, sample_rate):
            s, q, t = self.history[-1]
            self.history[-1] = (s, q, t + n)
        else:
            self.history.append((noise_multiplier, sample_rate, n))

    def epsilon(self, extra_steps: int = 0, noise_multiplier: float | None = None, sample_rate: float | None = None) -> float:
        """ε spent so far, or (with `extra_steps`) what it would be after that many more steps."""
        hist = list(self.history)
        if extra_steps:
            if noise_multiplier is None or sample_rate is None:
                raise ValueError("extra_steps needs noise_multiplier and sample_rate")
            hist.append((noise_multiplier, sample_rate, extra_steps))
        return _epsilon_history(hist, self.delta, self.accountant)

    def state_dict(self) -> dict[str, Any]:
        return {"accountant": self.accountant, "delta": self.delta, "history": [list(h) for h in self.history]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PrivacyAccountant:
        hist = [(float(s), float(q), int(t)) for s, q, t in state["history"]]
        return cls(accountant=state["accountant"], delta=float(state["delta"]), history=hist)
