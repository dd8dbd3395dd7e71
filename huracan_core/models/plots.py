"""Pictures of a trained model for people: out-of-sample equity against the baselines, feature importance, and
the signal (realized net by predicted quintile, and the calibration of the predicted level).

SVG files written as text with the reports' charts (``reports.charts``), which MLflow's artifact view shows as
images, as a browser does. Drawn with matplotlib they cost ~0.9 s a model, a tenth of a coin model's training on
weekly retraining (``bench/bench_scale.py``, profiled), and its import up to a second a process. The same model
gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

import polars as pl

from huracan_core.models.inputs import SIDE
from huracan_core.models.training import TrainedModel
from huracan_core.reports.charts import bar_chart, line_chart, standalone
from huracan_core.symbols import to_key
from huracan_core.trading.metrics import equity_curve

#: room for the inputs' names left of the importance bars (the longest are ~25 characters)
NAME_EDGE = 190


def equity_svg(trained: TrainedModel, capital: float) -> bytes:
    """Equity after costs of the model, the rules-only consensus and staying flat, over the folds' test windows
    (every one out of sample), stepping at each exit; a policy without trades is a flat line at ``capital``. The
    dates marked are the folds' test starts."""
    start, end = _span(trained)
    series, said = {}, []
    for name, ledger in (("model", trained.model.ledger), ("rules", _ledger(trained, "rules"))):
        times, equity, trades, pnl = _steps(ledger, capital, start, end)
        series[name] = [(_seconds(t), e) for t, e in zip(times, equity, strict=True)]
        said.append(f"{name}: {trades} trades, net {pnl:+,.2f}")
    edges = [_seconds(t) for t in (start, end) if t is not None] or [_seconds(trained.cutoff)]
    series["flat"] = [(t, capital) for t in edges]
    for name in ("model", "rules"):  # no test window known and no trades: a flat line where the picture has one
        series[name] = series[name] or series["flat"]
    verdict = "passed" if trained.gates.passed else f"FAILED ({', '.join(r.name for r in trained.gates.failed)})"
    folds = [_seconds(datetime.fromisoformat(str(f["test_start"]))) for f in trained.folds]
    chart = line_chart(
        series,
        "out-of-sample equity, net of costs",
        _date,
        "equity (quote)",
        include_zero=False,
        step=True,
        x_ticks=[*folds, *edges[1:]] if folds else None,
    )
    return standalone(
        [
            (
                [
                    f"{to_key(trained.symbol)} {trained.timeframe}, model of {trained.cutoff:%Y-%m-%d %H:%M}: "
                    f"out-of-sample equity over {len(trained.folds)} folds",
                    f"gates {trained.gates.profile} {verdict}",
                    f"{'; '.join(said)}; flat: no trades",
                ],
                chart,
            )
        ]
    )


def importance_svg(importance: Mapping[str, float], top: int = 20) -> bytes:
    """Horizontal bars of the ``top`` inputs by their share of the LightGBM gain (total loss reduction of the splits
    on each), largest first."""
    ranked = sorted(((float(g), n) for n, g in importance.items()), key=lambda p: (-p[0], p[1]))
    total = sum(g for g, _ in ranked)
    shares = [(n, 100 * g / total if total > 0 else 0.0) for g, n in ranked[:top]]
    chart = bar_chart(shares, "share of the total gain", "%", label_edge=NAME_EDGE)
    return standalone([([importance_title(importance, top), *([] if shares else ["no importance recorded"])], chart)])


def importance_title(importance: Mapping[str, float], top: int = 20) -> str:
    """``… top 20 of 92 features and the side input``: the count agrees with the run's ``columns`` param, which
    counts the feature columns (the booster's inputs are one more)."""
    features = len(importance) - (SIDE in importance)
    counted = f"{features} features and the {SIDE} input" if SIDE in importance else f"{features} inputs"
    return f"feature importance (share of LightGBM gain): top {min(top, len(importance))} of {counted}"


def signal_svg(trained: TrainedModel) -> bytes:
    """Above: mean realized net bps (after costs) by predicted quintile over the folds' test bars, each labelled
    with its hit rate; below: mean realized against mean predicted by predicted decile, beside the diagonal a
    calibrated model would follow. An undefined bucket (no observations) is left out and said so."""
    from huracan_core.models.diagnostics import fmt

    signal = trained.signal
    assert signal is not None  # the caller draws it only for a model with diagnostics
    quintiles = signal.quintiles
    shown = [k for k, v in enumerate(quintiles.mean_net_bps) if math.isfinite(v)]
    bars = bar_chart(
        [(f"Q{k + 1} · hit {quintiles.hit_rate[k]:.0%}", quintiles.mean_net_bps[k]) for k in shown],
        "realized net by predicted quintile",
        "bps",
    )
    deciles = signal.calibration
    points = sorted(
        (p, r) for p, r in zip(deciles.mean_predicted, deciles.mean_net_bps, strict=True) if math.isfinite(p + r)
    )
    low, high = (min(v for pair in points for v in pair), max(v for pair in points for v in pair)) if points else (0, 0)
    calibration = line_chart(
        {"deciles": points, "predicted = realized": [(low, low), (high, high)]} if points else {},
        "calibration by predicted decile",
        lambda x: f"{x:.1f} bps",
        "realized (bps)",
        include_zero=False,
    )
    empty = len(quintiles.count) - len(shown)
    return standalone(
        [
            (
                [f"{to_key(trained.symbol)} {trained.timeframe}, model of {trained.cutoff:%Y-%m-%d}", signal.summary()],
                "",
            ),
            (
                [
                    f"realized net by predicted quintile (top − bottom {fmt(signal.q5_minus_q1_bps, '.1f')} bps)"
                    + (f"; {empty} empty" if empty else "")
                ],
                bars,
            ),
            (
                [
                    "calibration: mean realized against mean predicted (x), by predicted decile"
                    + ("" if points else ": no predictions with a known outcome")
                ],
                calibration,
            ),
        ]
    )


def _seconds(moment: datetime) -> float:
    """Seconds since the epoch, a time without a zone read as UTC (as stored), whatever the machine's zone."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _date(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def _ledger(trained: TrainedModel, name: str) -> pl.DataFrame | None:
    result = trained.baselines.get(name)
    return None if result is None else result.ledger


def _span(trained: TrainedModel) -> tuple[datetime | None, datetime | None]:
    """First test bar and end of the last test window, from the fold rows."""
    if not trained.folds:
        return None, None
    return datetime.fromisoformat(str(trained.folds[0]["test_start"])), datetime.fromisoformat(
        str(trained.folds[-1]["test_end"])
    )


def _steps(
    ledger: pl.DataFrame | None, capital: float, start: datetime | None, end: datetime | None
) -> tuple[list[datetime], list[float], int, float]:
    """Equity at each exit, framed by ``capital`` at the start and the last level at the end of the windows."""
    times: list[datetime] = []
    equity: list[float] = []
    trades, pnl = 0, 0.0
    if ledger is not None and ledger.height:
        curve = equity_curve(ledger, capital)
        times, equity = curve["timestamp"].to_list(), curve["equity"].to_list()
        trades, pnl = ledger.height, float(ledger["net_pnl"].sum())
    if start is not None and (not times or start <= times[0]):
        times, equity = [start, *times], [capital, *equity]
    if end is not None and times and end > times[-1]:
        times, equity = [*times, end], [*equity, equity[-1]]
    return times, equity, trades, pnl
