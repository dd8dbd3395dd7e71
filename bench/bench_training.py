"""Model training benchmarks (not a test): prints one JSON line per measurement.

Data: the real Binance sample bundled in the package (5 pairs, 15m candles, 2024-07..12).

(a) ``training``: per coin, the walk-forward training and out-of-sample evaluation of ``train_coin_model`` over the
    150 days before 2024-12-31 (6 purged folds of 60 training + 15 test days, each traded by the shadow trader
    with costs, the rules and flat baselines, the final fit), once on the plain inputs and once with the shared
    encoder's embedding (which adds the no-embedding ablation: a second booster per fold). Inputs are built as the
    assets build them: ``compute_many`` features → regimes → consensus votes → lookahead labels → ``model_bars``;
    that preparation is timed once, apart. Target: < 10 s per coin. Reference in the same run: one plain LightGBM
    fit of 17k rows × 39 features × 200 rounds on 2 threads (seeded random data, the models' booster settings),
    whose ~0.6 s on these machines is the figure in docs/architecture.md#measured-costs.
    In the same run, the plain training's line also says what the signal diagnostics and the calibrated policy
    added to it (target: under 10 % of the coin's walk-forward): ``signal_diagnostics``; and the calibrated
    rule's own work — ``calibration_split``, the calibration slice's predictions, ``calibrate_side`` (the break-even
    search's re-calibrations included) and the shadow trade of the second rule per fold (both rules trade every
    fold; before, one did). The fold's booster fitting only the rows before its slice makes each fit smaller, which
    these figures do not credit.
(b) ``encoder``: seconds per epoch of ``fit_encoder`` on every coin's scale-free feature rows of its window for the
    day 2024-12-31 (``encoder_window``), on the CPU and, when torch sees one, on CUDA; rows/s per epoch.

    .venv/bin/python bench/bench_training.py                      # training and encoder
    .venv/bin/python bench/bench_training.py encoder --device cuda  # CUDA only (an error where there is none)
    .venv/bin/python bench/bench_training.py encoder --save-rows rows.parquet   # then, on a GPU machine:
    python bench/bench_training.py encoder --rows rows.parquet                  # CPU and CUDA, polars + torch only

On a machine whose cores are shared, multi-thread fits that spin-wait (OpenMP's default) can take tens of times
longer than they should (the 2-thread reference fit: 0.7 s → 45 s under a load of 4 on 2 cores);
``OMP_WAIT_POLICY=passive`` (set before the run) avoids it. The first line prints the policy, the models' LightGBM
threads and the load average, so a figure can be read against them.

``--device`` picks the encoder's device in both parts (default: the CPU for the epoch timing, plus CUDA when
available; the training part's encoder then trains wherever ``fit_encoder`` would by default).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from huracan_core.models.encoder import EncoderConfig, FittedEncoder, encoder_window, fit_encoder
from huracan_core.trading.costs import CostModel

if TYPE_CHECKING:
    from huracan_core.features import FeatureRecipe

# ``encoder --rows FILE`` needs only polars, numpy and torch (what a bare GPU machine has): everything else is
# imported where it is used

PAIRS = ("BTC", "ETH", "SOL", "BNB", "XRP")
TIMEFRAME = "15m"
CUTOFF = datetime(2024, 12, 31, tzinfo=UTC)
TARGET_S = 10.0
#: what the signal diagnostics and the calibrated policy may add to a coin's walk-forward, as a share
ADDED_TARGET = 0.10
REFERENCE = {"rows": 17_000, "features": 39, "rounds": 200, "threads": 2}


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def load_candles() -> dict[str, pl.DataFrame]:
    from huracan_core.sources.bundled import SAMPLE_DIR

    return {f"{p}-USDT": pl.read_parquet(SAMPLE_DIR / f"{p}-USDT_{TIMEFRAME}.parquet") for p in PAIRS}


def encoder_rows(
    features: dict[str, pl.DataFrame], recipe: FeatureRecipe, config: EncoderConfig
) -> tuple[list[pl.DataFrame], list[str]]:
    """Every coin's scale-free feature rows over the encoder window of the cutoff day, and their columns."""
    from huracan_core.candles import day_start
    from huracan_core.models.inputs import feature_inputs

    first, end = encoder_window(CUTOFF.date(), config)
    start, stop = day_start(first), day_start(end)
    frames = [f.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < stop)) for f in features.values()]
    return frames, feature_inputs(recipe.output_columns, recipe.timeframe)


def reference_fit() -> float:
    """One plain LightGBM fit: 17k × 39 seeded random rows, 200 rounds, 2 threads, the models' booster settings."""
    import lightgbm

    from huracan_core.models.training import ModelConfig

    rng = np.random.default_rng(7)
    x = rng.normal(size=(REFERENCE["rows"], REFERENCE["features"]))
    y = x[:, :5] @ rng.normal(size=5) + rng.normal(scale=2.0, size=REFERENCE["rows"])
    params = {**ModelConfig().lightgbm_params(), "num_threads": REFERENCE["threads"]}
    lightgbm.train(params, lightgbm.Dataset(x[:2000], y[:2000]), num_boost_round=5)  # load and warm the library
    started = time.perf_counter()
    lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=REFERENCE["rounds"])
    return time.perf_counter() - started


class AddedCost:
    """Seconds spent in the diagnostics and in the calibrated rule's own steps during ``train_coin_model``, by
    wrapping the names ``huracan_core.models.training`` calls them by."""

    def __init__(self) -> None:
        self.seconds = {"diagnostics": 0.0, "calibration": 0.0}
        self._slice_rows = -1
        self._rule_trades = 0

    def __enter__(self) -> AddedCost:
        from huracan_core.models import training

        self._module, self._saved = training, {}
        timed = self._timed
        self._wrap("signal_diagnostics", lambda f, *a, **k: timed("diagnostics", f, *a, **k))
        self._wrap("calibrate_side", lambda f, *a, **k: timed("calibration", f, *a, **k))
        self._wrap("calibration_split", self._split)
        self._wrap("predicted_edges", self._edges)
        trader = training.FoldTrader.__call__
        self._saved["FoldTrader.__call__"] = trader
        added = self

        def call(this, bars, decisions):
            if decisions.height and decisions["model_version"][0] == "walk-forward":
                added._rule_trades += 1
                if added._rule_trades % 2 == 1:  # each fold trades both rules: the first is the one added
                    return timed("calibration", trader, this, bars, decisions)
            return trader(this, bars, decisions)

        training.FoldTrader.__call__ = call
        return self

    def __exit__(self, *exc: object) -> None:
        training = self._module
        training.FoldTrader.__call__ = self._saved.pop("FoldTrader.__call__")
        for name, original in self._saved.items():
            setattr(training, name, original)

    def _wrap(self, name: str, wrapper) -> None:
        original = getattr(self._module, name)
        self._saved[name] = original
        setattr(self._module, name, lambda *a, **k: wrapper(original, *a, **k))

    def _timed(self, what: str, function, *args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            self.seconds[what] += time.perf_counter() - started

    def _split(self, function, *args, **kwargs):
        inner = self._timed("calibration", function, *args, **kwargs)
        self._slice_rows = inner.calibration.size
        return inner

    def _edges(self, function, booster, bars, columns):
        """The calibration slice's predictions (the frame right after its split, of its size) count as added."""
        if bars.height == self._slice_rows:
            self._slice_rows = -1
            return self._timed("calibration", function, booster, bars, columns)
        return function(booster, bars, columns)


def prepare(candles: dict[str, pl.DataFrame], recipe: FeatureRecipe) -> tuple[dict, dict]:
    """Features of every coin at once, then per coin the regimes, votes, labels and the model's bars."""
    from huracan_core.models.inputs import model_bars
    from huracan_core.models.lookahead_labels import label_bars
    from huracan_core.regimes.detector import RegimeDetector
    from huracan_core.trading.bars import join_bars
    from huracan_core.trading.consensus import vote

    started = time.perf_counter()
    features = recipe.compute_many(candles)
    features_s = time.perf_counter() - started
    detector = RegimeDetector()
    coins = {}
    started = time.perf_counter()
    for symbol, frame in candles.items():
        regimes = detector.detect(features[symbol])
        bars = join_bars([frame], [features[symbol]], [regimes])
        signals = vote(bars, symbol, costs=CostModel())
        labels = label_bars(bars, signals, symbol, TIMEFRAME, costs=CostModel())
        coins[symbol] = (model_bars([frame], [features[symbol]], [regimes], [signals], [labels]), signals)
    emit(bench="prepare", symbols=len(candles), rows=sum(c.height for c in candles.values()),
         features=len(recipe.output_columns), features_s=round(features_s, 3),
         regimes_votes_labels_s=round(time.perf_counter() - started, 3))  # fmt: skip
    return features, coins


def bench_training(
    candles: dict[str, pl.DataFrame], recipe: FeatureRecipe, device: str | None
) -> tuple[dict, FittedEncoder]:
    from huracan_core.models.inputs import input_columns, with_embedding
    from huracan_core.models.training import train_coin_model

    features, coins = prepare(candles, recipe)
    reference_s = reference_fit()
    emit(bench="lightgbm_reference_fit", **REFERENCE, seconds=round(reference_s, 3))

    config = EncoderConfig()
    frames, columns = encoder_rows(features, recipe, config)
    started = time.perf_counter()
    encoder = fit_encoder(frames, columns, config, device=device)
    emit(bench="encoder_fit_for_training", device=encoder.device, rows=min(sum(f.height for f in frames), config.max_rows),
         inputs=len(columns), epochs=config.epochs, seconds=round(time.perf_counter() - started, 3))  # fmt: skip

    per_coin, shares = {}, {}
    for symbol, (bars, signals) in coins.items():
        for embedded in (False, True):
            embedding = encoder.embedding_columns if embedded else []
            started = time.perf_counter()
            frame = with_embedding(bars, encoder if embedded else None)
            embed_s = time.perf_counter() - started
            inputs = input_columns(recipe.output_columns, signals, recipe.timeframe, embedding)
            with AddedCost() as added:
                started = time.perf_counter()
                model = train_coin_model(
                    frame, inputs, symbol, TIMEFRAME, cutoff=CUTOFF, embedding=embedding, costs=CostModel()
                )
                seconds = time.perf_counter() - started
            per_coin[(symbol, embedded)] = seconds
            if not embedded:
                shares[symbol] = sum(added.seconds.values()) / seconds
                signal = model.signal
                assert signal is not None  # train_coin_model always measures it
                emit(bench="signal_and_calibration", symbol=symbol, walk_forward_s=round(seconds, 3),
                     diagnostics_s=round(added.seconds["diagnostics"], 4),
                     calibrated_policy_s=round(added.seconds["calibration"], 4),
                     added_share=round(shares[symbol], 4), within_target=shares[symbol] < ADDED_TARGET,
                     signal=signal.summary(), decision_rule=model.rule.describe(),
                     trades={name: int(r.aggregate["trade_count"]) for name, r in model.policies.items()},
                     sharpe={name: round(r.aggregate["sharpe"], 3) for name, r in model.policies.items()},
                     gates_passed=model.passed)  # fmt: skip
            emit(bench="train_coin_model", symbol=symbol, embedding=embedded, seconds=round(seconds, 3),
                 embed_s=round(embed_s, 3), training_rows=model.training_rows, folds=len(model.folds),
                 inputs=len(inputs), gates_passed=model.passed, gate_summary=model.gates.summary(),
                 target_s=TARGET_S, within_target=seconds < TARGET_S,
                 ratio_to_reference_fit=round(seconds / reference_s, 2))  # fmt: skip
    emit(bench="signal_and_calibration_summary", coins=len(shares), mean_added_share=round(statistics.mean(shares.values()), 4),
         max_added_share=round(max(shares.values()), 4), target_share=ADDED_TARGET,
         all_within_target=max(shares.values()) < ADDED_TARGET)  # fmt: skip
    for embedded in (False, True):
        times = [s for (_, e), s in per_coin.items() if e is embedded]
        emit(bench="train_coin_model_summary", embedding=embedded, coins=len(times), mean_s=round(statistics.mean(times), 3),
             max_s=round(max(times), 3), all_within_target=max(times) < TARGET_S,
             ratio_mean_to_reference_fit=round(statistics.mean(times) / reference_s, 2))  # fmt: skip
    return features, encoder


def bench_encoder(
    frames: list[pl.DataFrame], columns: list[str], devices: list[str], fitted: FittedEncoder | None = None
) -> None:
    """``fitted``: the training part's encoder (same rows and config), whose epochs are reused for its device."""
    config = EncoderConfig()
    rows = min(sum(f.height for f in frames), config.max_rows)
    embeddings = {}
    for device in devices:
        reuse = fitted is not None and fitted.device == device
        encoder = fitted if reuse else fit_encoder(frames, columns, config, device=device)
        embeddings[device] = encoder.embed(frames[0]).to_numpy()
        epochs = encoder.epoch_seconds
        steady = statistics.median(epochs[1:]) if len(epochs) > 1 else epochs[0]
        emit(bench="encoder_epoch", device=encoder.device, rows=rows, inputs=len(columns), batch_size=config.batch_size,
             hidden=config.hidden, embedding_dim=config.embedding_dim, epochs=len(epochs),
             epoch_seconds=[round(s, 4) for s in epochs], steady_epoch_s=round(steady, 4),
             rows_per_s=round(rows / steady), final_loss=round(encoder.losses[-1], 5),
             fit="the training part's" if reuse else "own")  # fmt: skip
    if {"cpu", "cuda"} <= set(embeddings):  # the same seed on both devices: how far apart the embeddings land
        emit(
            bench="encoder_cpu_vs_cuda",
            max_abs_embedding_difference=float(abs(embeddings["cpu"] - embeddings["cuda"]).max()),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="{training,encoder}", help="which parts to run (default: both)")
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], help="the encoder's device (cuda: required, not a fall-back)"
    )
    parser.add_argument("--save-rows", help="write the encoder's training rows to this parquet file")
    parser.add_argument("--rows", help="time the encoder on rows written by --save-rows (needs only polars and torch)")
    args = parser.parse_args()
    unknown = sorted(set(args.parts) - {"training", "encoder"})
    if unknown:
        parser.error(f"unknown parts {unknown}: choose from training, encoder")
    parts = args.parts or ["training", "encoder"]

    import torch

    emit(polars=pl.__version__, polars_threads=pl.thread_pool_size(), torch=torch.__version__,
         torch_threads=torch.get_num_threads(), cuda=torch.cuda.is_available(), cpus=os.cpu_count(),
         omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), load_avg_1m=round(os.getloadavg()[0], 2), parts=parts)  # fmt: skip
    started = time.perf_counter()
    if args.rows:  # rows saved on another machine: no features, regimes or models needed here
        table = pl.read_parquet(args.rows)
        frames, columns, encoder = [table], table.columns, None
    else:
        from huracan_core.features import FeatureRecipe

        candles, recipe = load_candles(), FeatureRecipe.default(TIMEFRAME)
        if "training" in parts:
            features, encoder = bench_training(candles, recipe, args.device)
        else:
            features, encoder = recipe.compute_many(candles), None
        frames, columns = encoder_rows(features, recipe, EncoderConfig())
        if args.save_rows:
            pl.concat([f.select(columns) for f in frames]).write_parquet(args.save_rows)
    if "encoder" in parts:
        devices = [args.device] if args.device else ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
        bench_encoder(frames, columns, devices, encoder)
    emit(bench="total", seconds=round(time.perf_counter() - started, 2),
         peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))  # fmt: skip


if __name__ == "__main__":
    main()
