"""Configurable resources: where artifacts live, where candles come from, and which universe a day declares."""

import functools
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from huracan_core.champions.promotion import PromotionRule
from huracan_core.day_keys import DayKey
from huracan_core.models.cadence import RetrainCadence
from huracan_core.models.encoder import EncoderConfig
from huracan_core.models.gates import DEFAULT_GATE_PROFILE, gate_profile
from huracan_core.models.tracking import TrackingConfig
from huracan_core.models.training import ModelConfig
from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.sources import CandleSource, open_source
from huracan_core.storage import ArtifactStore, LocalArtifactStore
from huracan_core.storage.s3 import S3ArtifactStore, parse_s3_url
from huracan_core.trading.costs import DEFAULT_FEE_PROFILE, DEFAULT_ORDER_TYPE, CostModel, fee_profile, order_type
from huracan_core.trading.measured_quotes import quote_book
from huracan_core.trading.recorded_quotes import DEFAULT_FUNDING_RATE, RecordedQuotes
from huracan_core.universe import UniverseConfig, universe_by_day


class ArchiveResource(dg.ConfigurableResource):
    """The artifact store (docs/architecture.md#storage-keys): the folder ``root``, or S3 at ``s3_url`` (``s3://bucket/prefix``,
    any S3-compatible ``s3_endpoint``; credentials from the usual AWS variables) with the same keys. On S3, ``root``
    holds a mirror of the exports for the tools that read files (DuckDB, dbt)."""

    root: str
    s3_url: str = ""
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"

    def store(self) -> ArtifactStore:
        if self.s3_url:
            return _s3_store(self.s3_url, self.s3_endpoint, self.s3_region)
        return LocalArtifactStore(self.root)

    def local_folder(self, prefix: str) -> Path:
        """A folder holding the objects under ``prefix`` at their keys: the archive itself when it is local, else
        ``root`` brought up to date from S3 (only changed objects travel)."""
        store = self.store()
        if isinstance(store, S3ArtifactStore):
            store.mirror(prefix, Path(self.root))
        return Path(self.root)


@functools.cache
def _s3_store(url: str, endpoint: str, region: str) -> S3ArtifactStore:
    """One client per process and archive (building one costs ~50 ms; boto3 clients are thread-safe)."""
    from dagster_aws.s3 import S3Resource

    bucket, prefix = parse_s3_url(url)
    client = S3Resource(endpoint_url=endpoint or None, region_name=region, max_attempts=5).get_client()
    return S3ArtifactStore(client, bucket, prefix)


class CandleSourceResource(dg.ConfigurableResource):
    """``bundled`` (the offline real sample), ``replay:DIR`` or ``ccxt:EXCHANGE_ID``."""

    spec: str = "bundled"

    def open(self) -> CandleSource:
        return open_source(self.spec)


class UniverseResource(dg.ConfigurableResource):
    """The universe that cross-asset features rank against, declared per day: an explicit list, or the top N by
    the quote volume of the 30 days before that day. Part of a feature partition's declared inputs."""

    source: dg.ResourceDependency[CandleSourceResource]
    symbols: list[str] = []  # noqa: RUF012 - a pydantic field: each resource gets its own copy
    top_n: int = 5

    def config(self) -> UniverseConfig:
        return UniverseConfig(symbols=tuple(self.symbols), top_n=self.top_n)

    def members_by_day(self, timeframe: str, days: list[date]) -> dict[date, list[str]]:
        return universe_by_day(self.source.open(), timeframe, self.config(), days)


class CostsResource(dg.ConfigurableResource):
    """The fee tier every cost is priced at (``binance-perp-vip0``: maker 2 / taker 5 bps a side, the default)
    and the order type (``taker`` or ``maker``); spread, impact and funding come from the quote book. Shared by
    labels, models and the trader, so a model is judged at the costs it will trade at: the one place the
    configured ``CostModel`` is built."""

    exchange: str = "binance"
    fee_profile: str = DEFAULT_FEE_PROFILE
    order_type: str = DEFAULT_ORDER_TYPE

    def perpetual(self) -> bool:
        """Whether the fee profile trades perpetuals, which pay funding (an unknown profile fails, naming the known)."""
        return fee_profile(self.fee_profile).perpetual

    def recorded_quotes(self) -> RecordedQuotes:
        """The recorded table: funding at the perpetuals' base rate for a perpetual profile, none for spot."""
        return RecordedQuotes(funding_rate=DEFAULT_FUNDING_RATE if self.perpetual() else None)

    def cost_model(self, quotes: Mapping[DayKey, pl.DataFrame] | None = None) -> CostModel:
        """The cost model pricing with the loaded ``market_quotes`` partitions (``{(day, symbol): frame}``; a
        (symbol, day) without one is the recorded table's, and says so); None: the recorded table alone."""
        recorded = self.recorded_quotes()
        return CostModel(
            default_fees=fee_profile(self.fee_profile),
            order_type=order_type(self.order_type),
            quotes=recorded if quotes is None else quote_book(quotes, recorded),
        )

    def version(self) -> dict[str, object]:
        """What the assets' code versions carry of the costs: the fee profile, the order type and the recorded
        table's content hash, so partitions priced under other costs are marked stale (measured quotes are data:
        the ``market_quotes`` partitions' own versions carry them)."""
        model = self.cost_model()
        return {"fees": self.fee_profile, "order_type": model.order_type, "quotes": model.quotes.content_hash()}


class ModelSettingsResource(dg.ConfigurableResource):
    """How coin models are trained and judged: the walk-forward layout, the booster, the gate profile, the trade
    margin and the shared encoder. The trailing window (``train_days``) is part of the assets' partition mapping,
    so it is fixed where the definitions are built."""

    gate_profile: str = DEFAULT_GATE_PROFILE
    safety_margin_bps: float = ModelConfig().safety_margin_bps
    #: ``calibrated`` (thresholds chosen on the end of each training window) or ``absolute`` (the margin)
    decision_policy: str = ModelConfig().decision_policy
    walk_forward_train_days: int = WalkForwardConfig().train_days
    walk_forward_test_days: int = WalkForwardConfig().test_days
    walk_forward_step_days: int = WalkForwardConfig().step_days
    rounds: int = ModelConfig().rounds
    use_encoder: bool = True
    encoder_epochs: int = EncoderConfig().epochs
    #: ``cuda``, ``cpu`` or empty (CUDA when present)
    encoder_device: str = ""
    #: models (and the shared encoder) train every this many days, counted from Mondays; the days between keep
    #: the champion in force (``huracan_core.models.cadence``)
    retrain_every_days: int = 1

    def cadence(self) -> RetrainCadence:
        return RetrainCadence(self.retrain_every_days)

    def training_config(self, train_days: int) -> ModelConfig:
        gate_profile(self.gate_profile)  # an unknown profile fails here, naming the known ones
        walk = WalkForwardConfig(self.walk_forward_train_days, self.walk_forward_test_days, self.walk_forward_step_days)
        return ModelConfig(
            train_days=train_days,
            walk_forward=walk,
            rounds=self.rounds,
            gate_profile=self.gate_profile,
            safety_margin_bps=self.safety_margin_bps,
            decision_policy=self.decision_policy,
        )

    def encoder_config(self, train_days: int) -> EncoderConfig:
        """The encoder of D trains on the first walk-forward training span of D's coin models, so every one of
        their test windows lies after all it saw."""
        return EncoderConfig(
            window_days=self.walk_forward_train_days,
            lag_days=train_days - self.walk_forward_train_days,
            epochs=self.encoder_epochs,
        )


class ExportsResource(dg.ConfigurableResource):
    """Where analysts look: the DuckDB file of views, the folder of the dbt marts' parquet, and the HURACAN_HOME
    whose ``reports/`` hold the daily pages."""

    database: str
    marts: str
    home: str

    @classmethod
    def for_home(cls, home: Path) -> "ExportsResource":
        return cls(
            database=str(Path(home) / "exports" / "huracan.duckdb"),
            marts=str(Path(home) / "exports" / "marts"),
            home=str(home),
        )


class PromotionResource(dg.ConfigurableResource):
    """The promotion rule (``huracan_core.champions.promotion``): how sure, by how much and on how many trades a
    challenger must beat the champion after costs before it takes over."""

    confidence: float = PromotionRule().confidence
    margin_bps_per_day: float = PromotionRule().margin_bps_per_day
    min_trades: int = PromotionRule().min_trades
    block_periods: int = PromotionRule().block_periods
    reps: int = PromotionRule().reps

    def rule(self) -> PromotionRule:
        return PromotionRule(
            confidence=self.confidence,
            margin_bps_per_day=self.margin_bps_per_day,
            min_trades=self.min_trades,
            block_periods=self.block_periods,
            reps=self.reps,
        )


class MLflowResource(dg.ConfigurableResource):
    """MLflow's tracking and registry store: SQLite and a local artifact folder under HURACAN_HOME by default,
    PostgreSQL (``tracking_uri``) and S3 artifacts (``artifact_root`` ``s3://…``, at ``s3_endpoint``) at scale."""

    tracking_uri: str
    artifact_root: str
    s3_endpoint: str = ""
    #: where ``huracan mlflow`` serves the UI; materializations link their runs there
    ui_host: str = "127.0.0.1"
    ui_port: int = 5000

    def ui_url(self) -> str:
        return f"http://{self.ui_host}:{self.ui_port}"

    @classmethod
    def for_home(
        cls, home: Path, tracking_uri: str = "", artifact_root: str = "", s3_endpoint: str = ""
    ) -> "MLflowResource":
        """SQLite and artifacts under ``home/mlflow``; ``tracking_uri`` (PostgreSQL) replaces the SQLite store and
        ``artifact_root`` (``s3://…``) the artifact folder."""
        local = TrackingConfig.local(home)
        return cls(
            tracking_uri=tracking_uri or local.tracking_uri,
            artifact_root=artifact_root or local.artifact_root,
            s3_endpoint=s3_endpoint,
        )

    def config(self) -> TrackingConfig:
        return TrackingConfig(
            tracking_uri=self.tracking_uri, artifact_root=self.artifact_root, s3_endpoint=self.s3_endpoint
        )
