"""Patterns as a person reads them: in words, and ranked without calling a losing pattern "best".

A pattern's key (``pattern_performance.pattern_key``, ``<regime>|<side>|<engines agreeing>``) is a stable
identifier for the exports and dbt; on a page it reads "panic regime · short · no engine agreeing". When no pattern
of a scope wins after costs, its top is "least bad", not "best".
"""

from __future__ import annotations

from typing import Any

#: patterns shown per list
SHOWN = 3


def pattern_words(regime: str | None, side: str, engines_agreeing: int) -> str:
    """The pattern key's parts in words: "trend regime · long · 3 engines agreeing"."""
    where = f"{regime.lower()} regime" if regime and regime != "UNKNOWN" else "regime unknown"
    agreeing = (
        "no engine agreeing"
        if engines_agreeing == 0
        else f"{engines_agreeing} engine{'s' if engines_agreeing > 1 else ''} agreeing"
    )
    return f"{where} · {side} · {agreeing}"


def best_and_worst(ranked: list[dict[str, Any]]) -> dict[str, Any]:
    """One scope's patterns (sorted by mean net bps, highest first) as ``best``, ``worst`` and ``winning``.

    ``best``: the patterns that win after costs (mean net > 0), up to ``SHOWN``; when none wins (``winning`` false),
    the least bad ones instead — the top half at most, so that a pattern is never in both lists. ``worst``: the
    losing patterns not already shown, lowest first."""
    winners = [r for r in ranked if r["mean_net_bps"] > 0]
    best = winners[:SHOWN] if winners else ranked[: min(SHOWN, (len(ranked) + 1) // 2)]
    worst = [r for r in ranked[len(best) :] if r["mean_net_bps"] <= 0][::-1][:SHOWN]
    return {"best": best, "worst": worst, "winning": bool(winners)}
