"""Pictures of a trained model for people: out-of-sample equity against the baselines, feature importance, and
the signal (realized net by predicted quintile, and the calibration of the predicted level).

PNG bytes, drawn with matplotlib's Agg canvas (imported only when a picture is drawn) at a fixed size and dpi and
without the "Software" stamp, so the same model gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl

from huracan_core.models.inputs import SIDE
from huracan_core.models.training import TrainedModel
from huracan_core.symbols import to_key
from huracan_core.trading.metrics import equity_curve

_DPI = 100
_COLOURS = {"model": "tab:blue", "rules": "tab:orange", "flat": "tab:gray"}


def equity_png(trained: TrainedModel, capital: float) -> bytes:
    """Equity after costs of the model, the rules-only consensus and staying flat, over the folds' test windows
    (every one out of sample), stepping at each exit; a policy without trades is a flat line at ``capital``."""
    start, end = _span(trained)
    figure, axes = _figure(8, 4)
    for name, ledger in (("model", trained.model.ledger), ("rules", _ledger(trained, "rules")), ("flat", None)):
        times, equity, trades, pnl = _steps(ledger, capital, start, end)
        label = f"{name}: {trades} trades, net {pnl:+,.2f}" if name != "flat" else "flat: no trades"
        style: dict[str, Any] = {"linestyle": ":"} if name == "flat" else {}
        if times:
            axes.plot(
                times,  # pyright: ignore[reportArgumentType] - matplotlib plots datetimes (units); its stubs say floats
                equity,
                drawstyle="steps-post",
                linewidth=0.9,
                color=_COLOURS[name],
                label=label,
                **style,
            )
        else:  # no test window known and no trades: nothing to draw a line across
            axes.axhline(capital, linewidth=0.9, color=_COLOURS[name], label=label, **style)
    for fold in trained.folds[1:]:
        test_start = datetime.fromisoformat(str(fold["test_start"]))
        axes.axvline(test_start, color="0.85", linewidth=0.6, zorder=0)  # pyright: ignore[reportArgumentType] - as above
    verdict = "passed" if trained.gates.passed else f"FAILED ({', '.join(r.name for r in trained.gates.failed)})"
    axes.set_title(
        f"{to_key(trained.symbol)} {trained.timeframe}, model of {trained.cutoff:%Y-%m-%d %H:%M}: out-of-sample equity "
        f"over {len(trained.folds)} folds\ngates {trained.gates.profile} {verdict}",
        fontsize=8,
    )
    axes.set_ylabel("equity, net of costs (quote currency)", fontsize=7)
    axes.set_xlabel("exit time (UTC)", fontsize=7)
    axes.tick_params(labelsize=6)
    axes.ticklabel_format(axis="y", useOffset=False, style="plain")
    axes.legend(fontsize=6, loc="upper left")
    figure.autofmt_xdate()
    return _png(figure)


def importance_png(importance: Mapping[str, float], top: int = 20) -> bytes:
    """Horizontal bars of the ``top`` inputs by their share of the LightGBM gain (total loss reduction of the splits
    on each), largest first."""
    from matplotlib.ticker import PercentFormatter

    ranked = sorted(((float(g), n) for n, g in importance.items()), key=lambda p: (-p[0], p[1]))
    shown = ranked[:top]
    total = sum(g for g, _ in ranked)
    figure, axes = _figure(6, max(2.0, 0.9 + 0.22 * len(shown)))
    if shown:
        names = [n for _, n in reversed(shown)]
        shares = [g / total if total > 0 else 0.0 for g, _ in reversed(shown)]
        bars = axes.barh(range(len(shown)), shares, color="tab:blue", height=0.7)
        axes.set_yticks(range(len(shown)), names, fontsize=6)
        axes.bar_label(bars, [f"{s:.1%}" for s in shares], fontsize=5, padding=2)
        axes.margins(x=0.12)
    else:
        axes.text(0.5, 0.5, "no importance recorded", ha="center", va="center", transform=axes.transAxes, fontsize=8)
        axes.set_yticks([])
    axes.set_title(importance_title(importance, top), fontsize=8)
    axes.set_xlabel("share of the total gain", fontsize=7)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.tick_params(axis="x", labelsize=6)
    return _png(figure)


def importance_title(importance: Mapping[str, float], top: int = 20) -> str:
    """``… top 20 of 92 features and the side input``: the count agrees with the run's ``columns`` param, which
    counts the feature columns (the booster's inputs are one more)."""
    features = len(importance) - (SIDE in importance)
    counted = f"{features} features and the {SIDE} input" if SIDE in importance else f"{features} inputs"
    return f"feature importance (share of LightGBM gain): top {min(top, len(importance))} of {counted}"


def signal_png(trained: TrainedModel) -> bytes:
    """Left: mean realized net bps (after costs) by predicted quintile over the folds' test bars, each labelled
    with its hit rate; right: mean realized against mean predicted by predicted decile, beside the diagonal a
    calibrated model would follow. An undefined bucket (no observations) is left out and said so."""
    import math

    from huracan_core.models.diagnostics import fmt

    signal = trained.signal
    assert signal is not None  # the caller draws it only for a model with diagnostics
    bars_axes, calibration_axes = (figure := _canvas(9, 3.6)).subplots(1, 2)
    quintiles = signal.quintiles
    shown = [k for k, v in enumerate(quintiles.mean_net_bps) if math.isfinite(v)]
    values = [quintiles.mean_net_bps[k] for k in shown]
    bars = bars_axes.bar(
        [f"Q{k + 1}" for k in shown], values, color=["tab:red" if v < 0 else "tab:green" for v in values]
    )
    bars_axes.bar_label(bars, [f"hit {quintiles.hit_rate[k]:.0%}" for k in shown], fontsize=6, padding=2)
    bars_axes.axhline(0, color="0.3", linewidth=0.6)
    bars_axes.set_title(
        f"realized net by predicted quintile (top − bottom {fmt(signal.q5_minus_q1_bps, '.1f')} bps)"
        + ("" if len(shown) == len(quintiles.count) else f"; {len(quintiles.count) - len(shown)} empty"),
        fontsize=8,
    )
    bars_axes.set_ylabel("mean net bps after costs", fontsize=7)
    deciles = signal.calibration
    points = [(p, r) for p, r in zip(deciles.mean_predicted, deciles.mean_net_bps, strict=True) if math.isfinite(p + r)]
    if points:
        xs, ys = zip(*points, strict=True)
        calibration_axes.plot(xs, ys, marker="o", markersize=3, linewidth=0.9, color="tab:blue", label="deciles")
        low, high = min(*xs, *ys), max(*xs, *ys)
        calibration_axes.plot(
            [low, high], [low, high], linestyle=":", color="0.5", linewidth=0.8, label="predicted = realized"
        )
        calibration_axes.legend(fontsize=6, loc="upper left")
    else:
        calibration_axes.text(0.5, 0.5, "no predictions with a known outcome", ha="center", va="center", fontsize=8)
    calibration_axes.set_title("calibration: mean realized vs mean predicted, by predicted decile", fontsize=8)
    calibration_axes.set_xlabel("mean predicted edge (bps)", fontsize=7)
    calibration_axes.set_ylabel("mean realized net (bps)", fontsize=7)
    for axes in (bars_axes, calibration_axes):
        axes.tick_params(labelsize=6)
    figure.suptitle(
        f"{to_key(trained.symbol)} {trained.timeframe}, model of {trained.cutoff:%Y-%m-%d}: {signal.summary()}",
        fontsize=8,
    )
    return _png(figure)


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


def _canvas(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(figure)
    return figure


def _figure(width: float, height: float):
    figure = _canvas(width, height)
    return figure, figure.add_subplot()


def _png(figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()
