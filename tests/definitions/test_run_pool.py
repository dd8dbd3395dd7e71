"""Which of a window's runs ``huracan run --workers N`` may run side by side, read from the definitions' own graph:
a run waits for the runs planned before it whose partitions it may read, and for no other; a helper that dies
leaves a failed run that says so."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import dagster as dg
import pytest

from huracan_core.cores import usable_cores
from huracan_dagster.cli.code_location import CodeLocationRuns
from huracan_dagster.cli.main import main
from huracan_dagster.cli.policy_runs import PolicyRun
from huracan_dagster.cli.run_outcome import RunOutcome
from huracan_dagster.cli.run_pool import WindowRuns, run_dependencies
from huracan_dagster.defs.definitions import build_definitions, daily_job_name
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.instance.failures import RANGE_START_TAG
from huracan_dagster.settings import Settings


@pytest.fixture(scope="module")
def job() -> dg.JobDefinition:
    return build_definitions(Settings.from_env({})).resolve_job_def(daily_job_name("15m"))


@pytest.fixture(scope="module")
def graph(job: dg.JobDefinition):
    return job.asset_layer.asset_graph


def run(symbol: str, *names: str, days: tuple[str, str] = ("2024-12-01", "2024-12-05")) -> PolicyRun:
    keys = tuple(asset_key("15m", n) for n in names)
    return PolicyRun(keys, f"{days[0]}|{symbol}", f"{days[1]}|{symbol}", (symbol,))


def test_features_wait_for_every_symbols_candles_and_nothing_else_waits_across_symbols(graph):
    planned = [
        run("BTC-USDT", "candles"),
        run("ETH-USDT", "candles"),
        run("BTC-USDT", "features"),
        run("ETH-USDT", "features"),
    ]
    # the features read every universe member's candles: both symbols' candle runs first
    assert run_dependencies(graph, planned) == [set(), set(), {0, 1}, {0, 1}]
    chain = ("champion", "labels", "shadow_trades", "trade_analysis")
    apart = [run("BTC-USDT", *chain), run("ETH-USDT", *chain), run("SOL-USDT", "signals")]
    assert run_dependencies(graph, apart) == [set(), set(), set()]  # each symbol reads its own days only


def test_a_symbols_later_run_waits_for_its_earlier_one_where_it_reads_it(graph):
    early, late = ("2024-12-01", "2024-12-03"), ("2024-12-04", "2024-12-05")
    planned = [run("BTC-USDT", "signals", days=early), run("BTC-USDT", "shadow_trades", days=late)]
    assert run_dependencies(graph, planned) == [set(), {0}]  # the trader reads its symbol's signals
    unrelated = [run("BTC-USDT", "features", days=early), run("BTC-USDT", "market_quotes", days=late)]
    assert run_dependencies(graph, unrelated) == [set(), set()]  # neither reads the other
    book = [run("BTC-USDT", "champion", days=early), run("BTC-USDT", "champion", days=late)]
    assert run_dependencies(graph, book) == [set(), {0}]  # the champion book carries BTC's decisions day to day
    others = [run("BTC-USDT", "champion", days=early), run("ETH-USDT", "champion", days=late)]
    assert run_dependencies(graph, others) == [set(), set()]


def test_a_run_of_every_symbol_waits_for_the_runs_it_reads(graph):
    every = PolicyRun((asset_key("15m", "shadow_trades"),), "2024-12-05", "2024-12-05", ())
    assert run_dependencies(graph, [run("ETH-USDT", "signals"), every]) == [set(), {0}]


class DeadPool:
    """Stands for a pool whose helper died: it refuses a run, and can only be shut down."""

    shut = False

    def submit(self, *_args: object) -> Future:
        raise BrokenProcessPool("A child process terminated abruptly")

    def shutdown(self, cancel_futures: bool) -> None:
        self.shut = cancel_futures


def test_a_helper_that_died_fails_its_run_with_the_range_and_the_pool_is_started_again(huracan_home):
    with dg.instance_for_test() as instance:
        runs = WindowRuns(CodeLocationRuns(instance, "huracan"), Settings.from_env(), workers=1)
        broken = DeadPool()
        runs._pool = broken  # type: ignore[assignment]
        future: Future = Future()
        future.set_exception(BrokenProcessPool("A child process terminated abruptly"))
        outcome = runs._outcome(future, run("BTC-USDT", "features"))
    assert not outcome.success and outcome.run_id == ""
    assert outcome.causes == (
        "2024-12-01|BTC-USDT..2024-12-05|BTC-USDT did not finish: a helper process died (A child process terminated "
        "abruptly); its run is marked failed",
    )
    assert runs._pool is None and broken.shut  # the next phase starts new helpers


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_worker_count_below_one_is_refused_naming_the_variable_or_the_option(value, huracan_home, capsys):
    with pytest.raises(ValueError, match=f"HURACAN_RUN_WORKERS='{value}': give a number of processes, 1 or more"):
        Settings.from_env({"HURACAN_RUN_WORKERS": value})
    with pytest.raises(SystemExit):
        main(["run", "--date", "2024-12-05", "--workers", value])
    assert "argument --workers" in capsys.readouterr().err
    assert Settings.from_env({}).run_workers == 1


def test_a_helper_that_died_between_runs_leaves_the_phase_to_the_command_and_says_so(job, huracan_home, capsys):
    planned = [run("BTC-USDT", "signals"), run("ETH-USDT", "signals")]
    ran = []
    with dg.instance_for_test() as instance:
        runs = WindowRuns(CodeLocationRuns(instance, "huracan"), Settings.from_env(), workers=2)
        dead = DeadPool()
        runs._helpers, runs._pool = 1, dead  # type: ignore[assignment]  # one helper, whatever the cores here
        runs.execute_one = lambda _job, _assets, tags: (  # type: ignore[method-assign]
            ran.append(tags[RANGE_START_TAG]) or RunOutcome(tags[RANGE_START_TAG], True, {}, (), {}, frozenset(), ())
        )
        outcomes = runs.execute(job, planned, {})
    assert ran == [r.start for r in planned] and all(o.success for o in outcomes)
    assert (
        "a helper process died (as it started or between two runs): the phase's other runs go here"
        in capsys.readouterr().out
    )
    assert runs._pool is None and dead.shut


class LoadingPool:
    """Stands for a pool whose one helper loads the code location until ``loaded`` is done, then finishes at once
    each run it is handed."""

    def __init__(self) -> None:
        self.loaded: Future = Future()
        self.handed: list[str] = []

    def submit(self, _execute: object, _job: str, _assets: object, tags: dict[str, str]) -> Future:
        self.handed.append(tags[RANGE_START_TAG])
        done: Future = Future()
        done.set_result(RunOutcome(tags[RANGE_START_TAG], True, {}, (), {}, frozenset(), ()))
        return done

    def shutdown(self, cancel_futures: bool) -> None:
        pass


def test_a_helper_still_loading_holds_the_shortest_run_and_is_handed_the_next_once_loaded(job, huracan_home):
    planned = [run("BTC-USDT", "signals"), run("ETH-USDT", "signals"), run("SOL-USDT", "signals")]
    ran = []
    with dg.instance_for_test() as instance:
        runs = WindowRuns(CodeLocationRuns(instance, "huracan"), Settings.from_env(), workers=2)
        pool = LoadingPool()
        runs._helpers, runs._pool, runs._warming = 1, pool, [pool.loaded]  # type: ignore[assignment]

        def here(_job: object, _assets: object, tags: dict[str, str]) -> RunOutcome:
            ran.append(tags[RANGE_START_TAG])
            pool.loaded.set_result(None) if not pool.loaded.done() else None  # ready during the first run
            return RunOutcome(tags[RANGE_START_TAG], True, {}, (), {}, frozenset(), ())

        runs.execute_one = here  # type: ignore[method-assign]
        outcomes = runs.execute(job, planned, {})
    # the helper still loading holds the shortest (the last planned) and the command runs the longest; once loaded,
    # the helper is handed the next at once
    assert ran == ["2024-12-01|BTC-USDT"]
    assert pool.handed == ["2024-12-01|SOL-USDT", "2024-12-01|ETH-USDT"]
    assert [o.run_id for o in outcomes] == [r.start for r in planned]


def test_a_phase_is_cut_for_the_helpers_only_where_the_steps_run_in_the_runs_process(job, huracan_home):
    celery = build_definitions(Settings.from_env({"HURACAN_EXECUTOR": "celery"})).resolve_job_def(job.name)
    with dg.DagsterInstance.get() as instance:
        runs = WindowRuns(CodeLocationRuns(instance, "huracan"), Settings.from_env(), workers=2)
        assert runs.processes(job) == min(2, usable_cores())  # the command and its helper
        assert runs.processes(celery) == 1  # over Celery the runs go one after another, their steps to the workers
