"""ROC curve, AUC and TPR at a fixed low FPR for member / non-member scores (higher = member).

Low-FPR operating points matter more than AUC for privacy (Carlini et al. 2022, "Membership
Inference Attacks From First Principles"): an attack that confidently identifies a few members is a
real leak even when its AUC is near 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def roc_curve(
    member_scores: Sequence[float], nonmember_scores: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr), starting at (0, 0) and ending at (1, 1); tied scores form one diagonal step."""
    pos = np.asarray(member_scores, dtype=np.float64)
    neg = np.asarray(nonmember_scores, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        raise ValueError("need at least one member and one non-member score")
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    # the last index of each run of equal scores is a threshold
    last = np.r_[np.nonzero(np.diff(scores))[0], scores.size - 1]
    tp = np.cumsum(labels)[last]
    fp = (last + 1) - tp
    tpr = np.r_[0.0, tp / pos.size]
    fpr = np.r_[0.0, fp / neg.size]
    return fpr, tpr


def roc_auc(member_scores: Sequence[float], nonmember_scores: Sequence[float]) -> float:
    """Area under the ROC curve (= P[member score > non-member score] + 0.5·P[tie])."""
    fpr, tpr = roc_curve(member_scores, nonmember_scores)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def tpr_at_fpr(member_scores: Sequence[float], nonmember_scores: Sequence[float], max_fpr: float) -> float:
    """Highest TPR over the thresholds whose FPR is <= max_fpr.

    With n non-members the smallest non-zero FPR is 1/n, so below that this is the TPR at zero false
    positives; report n alongside.
    """
    fpr, tpr = roc_curve(member_scores, nonmember_scores)
    return float(tpr[fpr <= max_fpr + 1e-12].max())


def summarize_roc(
    member_scores: Sequence[float], nonmember_scores: Sequence[float]
) -> dict[str, float | int]:
    return {
        "auc": roc_auc(member_scores, nonmember_scores),
        "tpr_at_1pct_fpr": tpr_at_fpr(member_scores, nonmember_scores, 0.01),
        "tpr_at_0.1pct_fpr": tpr_at_fpr(member_scores, nonmember_scores, 0.001),
        "members": len(member_scores),
        "nonmembers": len(nonmember_scores),
    }
