"""Everything the environment decides, read once (in the definitions function or the CLI), never at import."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from huracan_core.health.errors import ErrorPolicy
from huracan_core.models.gates import DEFAULT_GATE_PROFILE, gate_profile
from huracan_core.risk import RiskSettings
from huracan_core.sources import CandleFetchError, open_source
from huracan_core.storage.s3 import parse_s3_url
from huracan_core.timeframes import bars_per_day
from huracan_core.trading.costs import DEFAULT_FEE_PROFILE, DEFAULT_ORDER_TYPE, fee_profile, order_type
from huracan_core.urls import without_password

DEFAULT_SOURCE = "bundled"
RISK_PREFIX = "HURACAN_RISK_"
#: the error monitor's thresholds: ``HURACAN_ERRORS_<FIELD>`` for each field of ``ErrorPolicy``
ERRORS_PREFIX = "HURACAN_ERRORS_"
DEFAULT_TIMEFRAME = "15m"
CCXT_EXAMPLE = '{"urls": {"api": {"public": "http://127.0.0.1:8080/api/v3"}}, "options": {"fetchMarkets": ["spot"]}}'
#: ccxt's credentials: refused, so that no key is ever written where settings are shown
SECRET_CCXT_SETTINGS = frozenset({"apiKey", "secret", "password", "uid", "privateKey", "walletAddress", "token"})
#: where a run's steps execute (``HURACAN_EXECUTOR``): in the run's own process, or each on a Celery worker
EXECUTORS = ("in_process", "celery")
#: the broker the Celery profile uses unless ``HURACAN_CELERY_BROKER`` names another: the loopback Redis
DEFAULT_CELERY_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_CELERY_QUEUE = "huracan"
#: the ``research_search`` asset: the shipped space, the days each weekly search reads, and when it runs
DEFAULT_RESEARCH_SPACE = "default"
DEFAULT_RESEARCH_DAYS = 150
DEFAULT_RESEARCH_CRON = "0 3 * * 1"


class SettingError(ValueError):
    """An environment variable whose value cannot be used; the message names the variable, the value and why, and
    the ``huracan`` command prints it as one line (exit status 2)."""


@dataclass(frozen=True)
class Settings:
    home: Path
    source: str
    #: the timeframe ``huracan run`` materializes; always one of ``timeframes``
    timeframe: str
    #: every timeframe the code location defines assets for (``HURACAN_TIMEFRAMES``), each under its own prefix
    timeframes: tuple[str, ...]
    #: explicit universe (``BTC/USDT`` …); empty means "top N by quote volume" from the source
    symbols: tuple[str, ...]
    top_n: int
    #: named fee tier of every cost (``huracan_core.trading.costs.FEE_PROFILES``)
    fee_profile: str = DEFAULT_FEE_PROFILE
    #: ``taker`` or ``maker`` (``huracan_core.trading.costs.ORDER_TYPES``): how every entry is placed
    order_type: str = DEFAULT_ORDER_TYPE
    #: gates a coin model must pass to trade (``huracan_core.models.gates.GATE_PROFILES``)
    gate_profile: str = DEFAULT_GATE_PROFILE
    #: the Dagster instance on PostgreSQL (``HURACAN_PG_URL``); empty = SQLite under ``home/dagster``
    pg_url: str = ""
    #: MLflow's backend store; empty = SQLite under ``home/mlflow``
    mlflow_uri: str = ""
    #: the Archive on S3 (``s3://bucket/prefix``); empty = the folder ``home/archive``
    s3_url: str = ""
    #: an S3-compatible server (MinIO, moto …); empty = AWS
    s3_endpoint: str = ""
    #: where the shared encoder trains: ``cuda``, ``cpu``, or empty for CUDA when present
    encoder_device: str = ""
    #: coin models and the shared encoder retrain every this many days (7: Mondays); the days between keep the
    #: champion in force
    retrain_every_days: int = 1
    #: the Engine's schedules and the Mechanic's sensor start running with the daemon (``HURACAN_AUTOMATION``):
    #: by default only on a live exchange, because yesterday is not in a recorded sample
    automation: bool = False
    #: how long a run waits for a pool slot held by another run (``HURACAN_POOL_TIMEOUT_S``) before it gives up
    pool_timeout_s: float = 600.0
    #: the risk manager's settings (``HURACAN_RISK_<SETTING>``, e.g. ``HURACAN_RISK_DAILY_LOSS_STOP=0.02``;
    #: ``HURACAN_RISK_REGIME_FACTORS=TREND=1,RANGE=1,PANIC=0.5,UNKNOWN=0.75``)
    risk: RiskSettings = field(default_factory=RiskSettings)
    #: the error monitor's thresholds (``HURACAN_ERRORS_<FIELD>``, e.g. ``HURACAN_ERRORS_RECURRING_RUNS=5``): the
    #: window of runs judged, when a cause recurs, when a day's failures spike
    error_policy: ErrorPolicy = field(default_factory=ErrorPolicy)
    #: the candles and the Engine's outputs are stale once nothing was written for this many hours
    #: (``HURACAN_FRESH_WITHIN_HOURS``): their freshness checks and ``huracan health``'s engine row
    fresh_within_hours: float = 26.0
    #: Hamilton refuses a champion whose model's data ends more than this many days before the bar
    #: (``HURACAN_HAMILTON_MAX_CHAMPION_AGE_DAYS``)
    hamilton_max_champion_age_days: float = 14.0
    #: extra settings of the ccxt exchange ``huracan hamilton`` reads a live source through (``HURACAN_CCXT_CONFIG``,
    #: a JSON object: another API address, a proxy, ``options``); never keys: Huracan reads public market data only
    ccxt_config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: ``in_process`` (every step in the run's process) or ``celery`` (each step on a worker of ``huracan workers``)
    executor: str = "in_process"
    #: the processes ``huracan run`` spreads a window's independent runs over (``HURACAN_RUN_WORKERS``; never more
    #: than the usable cores); 1: every run in the command's own process, one after another
    run_workers: int = 1
    #: the Celery broker and result backend (URLs that may carry a password: kept out of ``repr``)
    celery_broker: str = field(default=DEFAULT_CELERY_BROKER, repr=False)
    celery_backend: str = field(default=DEFAULT_CELERY_BROKER, repr=False)
    #: the queue the code location's steps go to and the workers take them from: one per deployment on a broker
    celery_queue: str = DEFAULT_CELERY_QUEUE
    #: the search space of the weekly ``research_search`` (``HURACAN_RESEARCH_SPACE``): a shipped name
    #: (``huracan_core/research/spaces``) or a TOML file
    research_space: str = DEFAULT_RESEARCH_SPACE
    #: the days before each week that its search reads (``HURACAN_RESEARCH_DAYS``); at least one walk-forward fold
    #: of the space
    research_days: int = DEFAULT_RESEARCH_DAYS
    #: when ``research_weekly`` runs (``HURACAN_RESEARCH_CRON``, UTC): Mondays 03:00, after the Engine's night
    research_cron: str = DEFAULT_RESEARCH_CRON
    #: the variables resolved at run time, never copied into definitions: the Broadcaster's (its token), the Celery
    #: broker's and backend's (URLs that may carry a password)
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def with_timeframe(self, timeframe: str) -> Settings:
        """The same settings running ``timeframe`` (added to the defined timeframes if it is new)."""
        return replace(self, timeframe=timeframe, timeframes=tuple(dict.fromkeys([*self.timeframes, timeframe])))

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def archive_root(self) -> Path:
        return self.home / "archive"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def archive_uri(self) -> str:
        """Where the artifacts are, as a person would look for them."""
        return self.s3_url or str(self.archive_root)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """The settings of ``env`` (default: this process's environment); a value that cannot be used raises
        ``SettingError`` naming the variable, before anything reads or runs."""
        env = dict(os.environ if env is None else env)
        symbols = tuple(s.strip() for s in env.get("HURACAN_SYMBOLS", "").split(",") if s.strip())
        timeframe = _checked("HURACAN_TIMEFRAME", env.get("HURACAN_TIMEFRAME", DEFAULT_TIMEFRAME), _timeframe)
        listed = [t.strip() for t in env.get("HURACAN_TIMEFRAMES", "").split(",") if t.strip()]
        for listed_timeframe in listed:
            _checked("HURACAN_TIMEFRAMES", listed_timeframe, _timeframe)
        source = _checked("HURACAN_SOURCE", env.get("HURACAN_SOURCE", DEFAULT_SOURCE), _source)
        broker = env.get("HURACAN_CELERY_BROKER") or DEFAULT_CELERY_BROKER
        space = _checked(
            "HURACAN_RESEARCH_SPACE", env.get("HURACAN_RESEARCH_SPACE") or DEFAULT_RESEARCH_SPACE, _research_space
        )
        return cls(
            home=Path(env.get("HURACAN_HOME", ".huracan")).resolve(),
            source=source,
            timeframe=timeframe,
            timeframes=tuple(dict.fromkeys([*listed, timeframe])),
            symbols=symbols,
            top_n=_whole("HURACAN_TOP_N", env.get("HURACAN_TOP_N", "") or "5", "a whole number of symbols, 1 or more"),
            fee_profile=_checked(
                "HURACAN_FEE_PROFILE", env.get("HURACAN_FEE_PROFILE") or DEFAULT_FEE_PROFILE, fee_profile
            ),
            order_type=_checked("HURACAN_ORDER_TYPE", env.get("HURACAN_ORDER_TYPE") or DEFAULT_ORDER_TYPE, order_type),
            gate_profile=_checked(
                "HURACAN_GATE_PROFILE", env.get("HURACAN_GATE_PROFILE") or DEFAULT_GATE_PROFILE, gate_profile
            ),
            pg_url=_checked("HURACAN_PG_URL", env.get("HURACAN_PG_URL", ""), _postgres_url),
            mlflow_uri=env.get("HURACAN_MLFLOW_URI", ""),
            s3_url=_checked("HURACAN_S3_URL", env.get("HURACAN_S3_URL", "").rstrip("/"), _s3_url),
            s3_endpoint=env.get("HURACAN_S3_ENDPOINT", ""),
            encoder_device=env.get("HURACAN_ENCODER_DEVICE", ""),
            retrain_every_days=_whole(
                "HURACAN_RETRAIN_EVERY_DAYS",
                env.get("HURACAN_RETRAIN_EVERY_DAYS", "") or "1",
                "a whole number of days, 1 or more",
            ),
            automation=_flag(
                env.get("HURACAN_AUTOMATION", ""), default=env.get("HURACAN_SOURCE", DEFAULT_SOURCE).startswith("ccxt:")
            ),
            pool_timeout_s=_positive(
                "HURACAN_POOL_TIMEOUT_S", env.get("HURACAN_POOL_TIMEOUT_S", "") or "600", "seconds"
            ),
            risk=_risk(env),
            error_policy=_error_policy(env),
            fresh_within_hours=_positive(
                "HURACAN_FRESH_WITHIN_HOURS", env.get("HURACAN_FRESH_WITHIN_HOURS") or "26", "hours"
            ),
            hamilton_max_champion_age_days=_positive(
                "HURACAN_HAMILTON_MAX_CHAMPION_AGE_DAYS",
                env.get("HURACAN_HAMILTON_MAX_CHAMPION_AGE_DAYS") or "14",
                "days",
            ),
            ccxt_config=_ccxt_config(env.get("HURACAN_CCXT_CONFIG", "")),
            executor=_executor(env.get("HURACAN_EXECUTOR", "")),
            run_workers=_whole(
                "HURACAN_RUN_WORKERS", env.get("HURACAN_RUN_WORKERS") or "1", "a number of processes, 1 or more"
            ),
            celery_broker=broker,
            celery_backend=env.get("HURACAN_CELERY_BACKEND") or _default_backend(broker),
            celery_queue=env.get("HURACAN_CELERY_QUEUE") or DEFAULT_CELERY_QUEUE,
            research_space=_space_spec(space),
            research_days=_research_days(env.get("HURACAN_RESEARCH_DAYS", ""), space),
            research_cron=_checked(
                "HURACAN_RESEARCH_CRON", env.get("HURACAN_RESEARCH_CRON") or DEFAULT_RESEARCH_CRON, _cron
            ),
            env={k: v for k, v in env.items() if k.startswith(("HURACAN_TELEGRAM_", "HURACAN_CELERY_"))},
        )


def _risk(env: Mapping[str, str]) -> RiskSettings:
    """``HURACAN_RISK_<SETTING>`` variables as the risk manager's settings; a misspelt one is refused (it would
    otherwise leave a limit at its default without a word)."""
    values: dict[str, object] = {}
    for name, value in sorted(env.items()):
        if not name.startswith(RISK_PREFIX):
            continue
        setting = name.removeprefix(RISK_PREFIX).lower()
        if setting == "regime_factors":
            pairs = [p.partition("=") for p in value.split(",") if p.strip()]
            if any(not sep for _, sep, _ in pairs):
                raise SettingError(f"{name}={value!r}: give REGIME=FACTOR pairs, e.g. TREND=1,PANIC=0.5,UNKNOWN=0.75")
            values[setting] = {regime.strip().upper(): factor.strip() for regime, _, factor in pairs}
        else:
            values[setting] = value
        try:  # one at a time, so that the error names the variable
            RiskSettings.from_mapping({setting: values[setting]})
        except ValueError as error:
            raise SettingError(f"{name}={value!r}: {error}") from None
    return RiskSettings.from_mapping(values)


def _error_policy(env: Mapping[str, str]) -> ErrorPolicy:
    """``HURACAN_ERRORS_<FIELD>`` variables as the error monitor's policy, each judged on its own so that the error
    names the variable; a name that is no field is refused (it would leave a threshold at its default unsaid)."""
    defaults, values = ErrorPolicy(), {}
    known = {f.name: type(getattr(defaults, f.name)) for f in fields(ErrorPolicy)}
    for name, value in sorted(env.items()):
        if not name.startswith(ERRORS_PREFIX):
            continue
        setting = name.removeprefix(ERRORS_PREFIX).lower()
        if setting not in known:
            listed = ", ".join(ERRORS_PREFIX + k.upper() for k in known)
            raise SettingError(f"{name}={value!r}: no such setting of the error monitor; known: {listed}")
        kind = known[setting]
        try:
            number = kind(value.strip())
        except ValueError:
            raise SettingError(f"{name}={value!r}: give {'a whole number' if kind is int else 'a number'}") from None
        try:
            replace(defaults, **{setting: number})
        except ValueError as error:
            raise SettingError(f"{name}={value!r}: {error}") from None
        values[setting] = number
    return replace(defaults, **values)  # every check is of one field: fine alone, fine together


def _ccxt_config(value: str) -> dict[str, Any]:
    if not value.strip():
        return {}
    try:
        config = json.loads(value)
    except ValueError as error:
        raise SettingError(
            f"HURACAN_CCXT_CONFIG={value!r}: not JSON ({error}); give an object, e.g. {CCXT_EXAMPLE}"
        ) from None
    if not isinstance(config, dict):
        raise SettingError(f"HURACAN_CCXT_CONFIG={value!r}: give a JSON object, e.g. {CCXT_EXAMPLE}")
    keys = sorted(set(config) & SECRET_CCXT_SETTINGS)
    if keys:
        raise SettingError(
            f"HURACAN_CCXT_CONFIG holds {', '.join(keys)}: Huracan reads public market data and trades on paper only, "
            "so it takes no keys"
        )
    return config


def _executor(value: str) -> str:
    value = value.strip().lower() or EXECUTORS[0]
    if value not in EXECUTORS:
        raise SettingError(f"HURACAN_EXECUTOR={value!r}: give {' or '.join(EXECUTORS)}")
    return value


def _default_backend(broker: str) -> str:
    """Results beside the messages: the broker's own Redis, or RabbitMQ's reply queues (``rpc://``)."""
    return broker if broker.startswith(("redis://", "rediss://")) else "rpc://"


def _checked(name: str, value: str, check: Callable[[str], object]) -> str:
    """``value`` when ``check`` accepts it; otherwise a ``SettingError`` naming ``name`` with ``check``'s reason
    (as it is when the reason names the variable already)."""
    try:
        check(value)
    except (ValueError, CandleFetchError) as error:
        reason = str(error)
        shown = without_password(value)
        raise SettingError(reason if name in reason else f"{name}={shown!r}: {reason}") from None
    return value


def _timeframe(value: str) -> None:
    bars_per_day(value)  # a candle timeframe that divides a day: the daily partitions hold whole candles


def _source(value: str) -> None:
    open_source(value)  # the spelling, a replay folder that exists, an exchange ccxt has; nothing is fetched


def _research_space(value: str) -> None:
    from huracan_core.research.space import load_space

    load_space(value)  # a shipped name, or a file that parses and declares candidates


def _space_spec(value: str) -> str:
    """A shipped space's name as it is; a file as an absolute path, so the code server, whatever its working
    directory, reads the file the command was given."""
    from huracan_core.research.space import SHIPPED

    return value if value in SHIPPED else str(Path(value).resolve())


def _research_days(value: str, space: str) -> int:
    """The search window: a whole number of days that holds one walk-forward fold of the space (training and
    test), or no candidate could be judged."""
    from huracan_core.research.space import load_space

    given = value or str(DEFAULT_RESEARCH_DAYS)
    days = _whole("HURACAN_RESEARCH_DAYS", given, "a whole number of days, 1 or more")
    walk = load_space(space).walk_forward
    if days < walk.train_days + walk.test_days:
        raise SettingError(
            f"HURACAN_RESEARCH_DAYS={given!r}{'' if value else ' (the default)'}: the search space {space!r} needs "
            f"at least {walk.train_days + walk.test_days} days (one walk-forward fold: {walk.train_days} training, "
            f"{walk.test_days} test)"
        )
    return days


def _cron(value: str) -> None:
    if value == DEFAULT_RESEARCH_CRON:  # known good: no Dagster import (0.6 s) for every command that reads settings
        return
    import dagster as dg

    try:  # Dagster's own reading of a schedule's cron string
        dg.ScheduleDefinition(name="cron", cron_schedule=value, job_name="cron")
    except dg.DagsterInvalidDefinitionError:
        raise ValueError("give a cron expression of 5 fields (minute hour day month weekday), e.g. 0 3 * * 1") from None


def _postgres_url(value: str) -> None:
    if value and not value.startswith("postgresql"):
        raise ValueError("give a postgresql://user@host:port/database URL")


def _s3_url(value: str) -> None:
    if value:
        parse_s3_url(value)


def _whole(name: str, value: str, what: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise SettingError(f"{name}={value!r}: give {what}")
    return int(value)


def _positive(name: str, value: str, unit: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise SettingError(f"{name}={value!r}: give a number of {unit} above 0")
    return number


def _flag(value: str, default: bool) -> bool:
    value = value.strip().lower()
    if not value:
        return default
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise SettingError(f"HURACAN_AUTOMATION={value!r}: give on or off")
    return value in ("1", "true", "yes", "on")
