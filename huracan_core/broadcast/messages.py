"""The words of each Broadcaster message: a ``[huracan]`` tag line, then a few lines a person reads at a glance.

Plain text (no Markdown: a symbol like ``BTC_USDT`` must not turn into italics). A figure that is undefined
prints ``n/a``, never ``nan`` or ``0``; every figure carries its unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

if TYPE_CHECKING:
    from huracan_core.broadcast.alerts import Action, Alert


class DayFailures(Protocol):
    """A day's finished runs and failures (``health.errors.DayRate``), as the report reads them: the Broadcaster's
    words depend on no package that sends through it."""

    @property
    def runs(self) -> int: ...

    @property
    def failed(self) -> int: ...

    @property
    def rate(self) -> float: ...


class Cause(Protocol):
    """A failure cause's runs and an example (``health.errors.CauseGroup``)."""

    @property
    def run_ids(self) -> tuple[str, ...]: ...

    @property
    def example(self) -> str: ...


class PatternEvent(Protocol):
    """A pattern paused or resumed (``health.pauses.PauseEvent``): what, by whom, when and why."""

    @property
    def pattern(self) -> str: ...

    @property
    def action(self) -> str: ...

    @property
    def by(self) -> str: ...

    @property
    def at(self) -> datetime: ...

    @property
    def reason(self) -> str: ...


#: a timeframe's pattern pauses for the report: those paused or resumed on the day, and those paused now
Pauses = tuple[Sequence[PatternEvent], Sequence[PatternEvent]]

TAG = "[huracan]"
NA = "n/a"
#: cause lines kept in a failure message; the rest are counted
MAX_CAUSES = 5
#: characters kept of one cause or description line (the Telegram client caps the whole message anyway)
MAX_LINE = 400
#: patterns named at each end of a day's ranking in the health report
TOP_PATTERNS = 3


def run_started(job: str, run_id: str, partitions: str | None) -> str:
    lines = [f"{TAG} run started: {job}", f"run {_short(run_id)}"]
    if partitions:
        lines.append(f"partitions: {partitions}")
    return "\n".join(lines)


def run_succeeded(job: str, run_id: str, seconds: float | None, materializations: int | None) -> str:
    made = count(materializations)
    noun = "materialization" if made == "1" else "materializations"
    return "\n".join([f"{TAG} run succeeded: {job}", f"run {_short(run_id)}, took {duration(seconds)}, {made} {noun}"])


def run_failed(job: str, run_id: str, cause: str) -> str:
    causes = [_clip(line) for line in (cause or "").strip().splitlines() if line.strip()] or ["no cause recorded"]
    kept = causes[:MAX_CAUSES]
    if len(causes) > MAX_CAUSES:
        kept.append(f"… and {len(causes) - MAX_CAUSES} more")
    return "\n".join([f"{TAG} run FAILED: {job}", f"run {_short(run_id)}", "cause: " + kept[0], *kept[1:]])


def checks_failed(asset: str, check: str, severity: str, failures: Sequence[tuple[str | None, str | None]]) -> str:
    """One message for every partition one check failed on in a tick: a day's gate verdicts on every coin, or a gap
    found across a backfill, is one message, not one per partition. A reason shared by every partition is said once;
    otherwise each partition's first line, up to ``MAX_CAUSES``."""
    partitions = list(dict.fromkeys(p for p, _ in failures if p))
    head = f"{TAG} check FAILED ({severity}): {asset} / {check}"
    on = f"on {len(partitions)} partition{'s' if len(partitions) != 1 else ''}" if partitions else "unpartitioned"
    reasons = {p: _first_line(d) for p, d in failures}
    if len(set(reasons.values())) == 1:
        named = ", ".join(partitions[:MAX_CAUSES]) + (
            f" … and {len(partitions) - MAX_CAUSES} more" if len(partitions) > MAX_CAUSES else ""
        )
        reason = next(iter(reasons.values()))
        return "\n".join([head, f"{on}: {named}" if partitions else on, *([reason] if reason else [])])
    lines = [f"{p or 'unpartitioned'}: {r or 'no description'}" for p, r in list(reasons.items())[:MAX_CAUSES]]
    if len(reasons) > MAX_CAUSES:
        lines.append(f"… and {len(reasons) - MAX_CAUSES} more")
    return "\n".join([head, on, *lines])


def _first_line(description: str | None) -> str:
    text = (description or "").strip()
    return _clip(text.splitlines()[0]) if text else ""


def promotion(decision: Mapping[str, Any]) -> str:
    """A champion decision, promoted or not: every decision is reported, so a quiet Mechanic is visible.

    ``figures`` is either flat (``mean_diff_bps_per_day``, ``p_value``, ``trades``) or, as ``champions`` records
    it, one dict per contender; then the winner's figures are shown, or the best challenger's when none won."""
    symbol = decision.get("symbol") or "?"
    before, after = decision.get("champion_before"), decision.get("champion_after")
    source = f" ({decision['source']})" if decision.get("source") else ""
    if decision.get("promoted"):
        head = f"{TAG} promoted {symbol}{source}: champion {after or NA} (was {before or 'none'})"
    else:
        head = f"{TAG} kept {symbol}{source}: champion {before or 'none'} (no challenger promoted)"
    lines = [head, f"reason: {_clip(str(decision.get('reason') or NA))}"]
    figures = _contender_figures(decision)
    if figures is not None:
        p = decision.get("p_value") if _defined(decision.get("p_value")) else figures.get("p_value")
        lines.append(
            f"challenger vs champion: {signed(figures.get('mean_diff_bps_per_day'), 'bps/day')} after costs, "
            f"{p_value(p)}, {count(figures.get('trades'))} trades"
        )
    return "\n".join(lines)


def daily_summary(summary: Mapping[str, Any]) -> str:
    """Totals, then one line per coin. Accepts a hit rate as a fraction (``hit_rate``) or in percent
    (``hit_rate_pct``), and promotions as a count or as the list of promotions."""
    promotions = summary.get("promotions")
    promoted = (
        [str(p.get("symbol")) for p in promotions if isinstance(p, Mapping)] if isinstance(promotions, list) else []
    )
    n_promotions = summary.get("promotion_count", len(promotions) if isinstance(promotions, list) else promotions)
    lines = [
        f"{TAG} daily summary {summary.get('date') or NA}",
        f"models: {count(summary.get('models_trained'))} trained, {count(summary.get('models_passed'))} passed, "
        f"{count(summary.get('models_failed'))} failed; {count(n_promotions)} promotions"
        + (f" ({', '.join(promoted)})" if promoted else ""),
        f"trades: {count(summary.get('trades'))}, hit rate {_hit_rate(summary)}, "
        f"net {signed(summary.get('net_pnl'), 'USDT')} after costs",
    ]
    per_coin: Sequence[Mapping[str, Any]] = summary.get("per_coin") or []
    for coin in per_coin:
        line = (
            f"{coin.get('symbol') or '?'}: {count(coin.get('trades'))} trades, {signed(coin.get('net_pnl'), 'USDT')}, "
            f"champion {coin.get('champion') or 'none'}"
        )
        reason = coin.get("reason") or coin.get("champion_reason")
        if reason:
            line += f" ({_clip(str(reason), 160)})"
        if coin.get("signal_summary"):
            line += f"; model signal: {coin['signal_summary']}"
        lines.append(line)
    return "\n".join(lines)


def _contender_figures(decision: Mapping[str, Any]) -> Mapping[str, Any] | None:
    figures = decision.get("figures")
    if not isinstance(figures, Mapping) or not figures:
        return None
    nested = {k: v for k, v in figures.items() if isinstance(v, Mapping)}
    if not nested:
        return figures
    winner = decision.get("winner") or (decision.get("champion_after") if decision.get("promoted") else None)
    if winner in nested:
        return nested[winner]
    challengers = [v for v in nested.values() if "mean_diff_bps_per_day" in v]
    if not challengers:
        return None
    return max(
        challengers,
        key=lambda v: float(v["mean_diff_bps_per_day"]) if _defined(v["mean_diff_bps_per_day"]) else -math.inf,
    )


def _hit_rate(figures: Mapping[str, Any]) -> str:
    if _defined(figures.get("hit_rate")):
        return percent(figures["hit_rate"])
    pct = figures.get("hit_rate_pct")
    return percent(float(pct) / 100) if _defined(pct) else NA


def duration(seconds: float | None) -> str:
    """``42.0 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if not _defined(seconds) or seconds < 0:  # type: ignore[operator]
        return NA
    s = float(seconds)  # type: ignore[arg-type]
    if s < 60:
        return f"{s:.1f} s"
    whole = round(s)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def signed(value: Any, unit: str, digits: int = 2) -> str:
    """``+3.20 bps/day``; ``n/a bps/day`` when undefined, so the line still says what is missing."""
    return f"{float(value):+.{digits}f} {unit}" if _defined(value) else f"{NA} {unit}"


def percent(fraction: Any, digits: int = 1) -> str:
    """A fraction (0.483) as ``48.3%``."""
    return f"{100 * float(fraction):.{digits}f}%" if _defined(fraction) else NA


def p_value(value: Any) -> str:
    """``p = 0.012``; ``p < 0.001`` rather than a run of zeros."""
    if not _defined(value):
        return f"p = {NA}"
    return "p < 0.001" if float(value) < 0.001 else f"p = {float(value):.3f}"


def count(value: Any) -> str:
    return str(int(value)) if _defined(value) else NA


def _defined(value: Any) -> TypeGuard[float]:
    """A finite number (not None, not a bool)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _short(run_id: str) -> str:
    return (run_id or "?")[:8]


def _clip(text: str, limit: int = MAX_LINE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def critical_alert(alert: Alert) -> str:
    return "\n".join([f"{TAG} CRITICAL: {_clip(alert.text)}", f"alert {alert.key}; said once until it clears"])


def alert_batch(warnings: Sequence[Alert], cleared: Sequence[Alert]) -> str:
    """One tick's new warnings and the conditions that cleared, in one message."""
    lines = [f"{TAG} {len(warnings)} warning{'s' if len(warnings) != 1 else ''}, {len(cleared)} cleared"]
    lines += [f"warning: {_clip(a.text)}" for a in warnings]
    lines += [f"cleared: {_clip(a.text)}" for a in cleared]
    return "\n".join(lines)


def health_report(
    day: date,
    active: Sequence[Alert],
    rate: DayFailures | None,
    causes: Sequence[Cause],
    actions: Sequence[Action],
    trading: Mapping[str, tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]],
    pauses: Mapping[str, Pauses],
    breakers: Mapping[str, str] | None = None,
) -> str:
    """The day's health: what is active (alerts standing, patterns paused, Hamilton's breakers per timeframe:
    ``breakers``, what ``huracan health`` shows in its hamilton row), the day's failures and their causes,
    the actions taken (alerts raised and cleared, patterns paused and resumed), and per timeframe the shadow
    trader's win rate against the day before, its PnL after costs and its top and worst patterns (``trading``: the
    daily summaries of ``day`` and the day before, None where there is none; ``pauses``: per timeframe, the day's
    pause actions and the pauses standing now)."""
    lines = [f"{TAG} daily health report {day}"]
    lines.append(
        f"active: {len(active)} alert{'s' if len(active) != 1 else ''}"
        + "".join(f"\n  {a.severity.value}: {_clip(a.text, 200)}" for a in active)
    )
    paused = [(tf, e) for tf, (_, now) in pauses.items() for e in now]
    lines.append(f"paused: {len(paused)} pattern{'s' if len(paused) != 1 else ''}")
    lines += [f"  {tf} {e.pattern} since {e.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by {e.by}" for tf, e in paused]
    lines += [f"hamilton {tf}: {_clip(text, 300)}" for tf, text in sorted((breakers or {}).items())]
    if rate is None:
        lines.append("runs: none finished")
    else:
        lines.append(f"runs: {rate.runs} finished, {rate.failed} failed ({percent(rate.rate)})")
    lines += [f"  {len(g.run_ids)}× {_clip(g.example, 200)}" for g in causes[:MAX_CAUSES]]
    if len(causes) > MAX_CAUSES:
        lines.append(f"  … and {len(causes) - MAX_CAUSES} more causes")
    raised = sum(a.action == "raised" for a in actions)
    acted = [(tf, e) for tf, (of_day, _) in pauses.items() for e in of_day]
    stopped = sum(e.action == "pause" for _, e in acted)
    lines.append(
        f"actions: {raised} alerts raised, {len(actions) - raised} cleared, {stopped} patterns paused, "
        f"{len(acted) - stopped} resumed"
    )
    lines += [f"  {a.at[11:16]} {a.action}: {_clip(a.text, 200)}" for a in actions[-MAX_CAUSES:]]
    lines += [
        f"  {e.at.astimezone(UTC):%H:%M} {tf} {e.pattern} {'paused' if e.action == 'pause' else 'resumed'} by {e.by}: "
        f"{_clip(e.reason, 200)}"
        for tf, e in acted
    ]
    for timeframe, (today, before) in trading.items():
        if today is None:
            lines.append(f"{timeframe}: no daily summary for {day}")
            continue
        now_rate, then_rate = _rate(today), _rate(before)
        change = (
            f" ({signed(100 * (now_rate - then_rate), 'pts')} vs the day before)"
            if now_rate is not None and then_rate is not None
            else " (no win rate the day before)"
        )
        lines.append(
            f"{timeframe}: {count(today.get('trades'))} trades, win rate {percent(now_rate)}"
            f"{change if now_rate is not None else ''}, net {signed(today.get('net_pnl'), 'USDT')} after costs"
        )
        lines += _pattern_lines(today.get("patterns"))
    return "\n".join(lines)


def _pattern_lines(records: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """The day's top and worst patterns (best first in ``records``); a pattern is named once, at the top when the
    day traded fewer than twice ``TOP_PATTERNS``. A summary written before it held patterns says so."""
    if records is None:
        return ["  patterns: not in this summary (written before it held them)"]
    if not records:
        return []
    top = list(records[:TOP_PATTERNS])
    worst = list(reversed(records[len(top) :]))[:TOP_PATTERNS]

    def said(r: Mapping[str, Any]) -> str:
        won = f"{float(r['hit_rate_pct']):.1f}%" if _defined(r.get("hit_rate_pct")) else NA
        return f"{r['pattern']} {signed(r.get('net_pnl'), 'USDT')} ({count(r.get('trades'))} trades, {won} won)"

    lines = ["  top patterns: " + "; ".join(said(r) for r in top)]
    if worst:
        lines.append("  worst patterns: " + "; ".join(said(r) for r in worst))
    return lines


def _rate(summary: Mapping[str, Any] | None) -> float | None:
    """The win rate of a daily summary as a fraction; None on a day without trades."""
    if summary is None:
        return None
    if _defined(summary.get("hit_rate")):
        return float(summary["hit_rate"])
    pct = summary.get("hit_rate_pct")
    return float(pct) / 100 if _defined(pct) else None
