"""What ``huracan run`` says about its runs, kept as plain data where each run executed.

A run executed in a helper process (``run_pool``) cannot hand its ``ExecutionResult`` back: its events would have to
be read from the instance again. The helper keeps what the terminal prints instead — partitions per asset, failed
checks, notifications not sent, repairs and the causes of a failure — and the phase's lines are printed from that,
whichever process ran it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from huracan_dagster.defs.assets.champions import REPAIRED
from huracan_dagster.defs.broadcaster import NOT_SENT
from huracan_dagster.instance.check_verdicts import failed_text
from huracan_dagster.instance.failures import failure_causes


@dataclass(frozen=True)
class FailedCheck:
    """One verdict that did not pass: ``asset:check`` on a partition ("" for the asset as a whole)."""

    check: str
    partition: str
    severity: str
    description: str
    blocking: bool


@dataclass(frozen=True)
class RunOutcome:
    #: "" where the run's helper died before saying which run it was
    run_id: str
    success: bool
    #: partitions materialized per asset; 0 for an asset without partitions that materialized
    materialized: dict[str, int]
    failed_checks: tuple[FailedCheck, ...]
    #: why notifications were not sent: how many each
    not_sent: dict[str, int]
    repaired: frozenset[str]
    #: why the run failed, one line per failed step (empty when it succeeded)
    causes: tuple[str, ...]


def outcome_of(result: dg.ExecutionResult) -> RunOutcome:
    materialized: Counter[str] = Counter()
    not_sent: Counter[str] = Counter()
    repaired: set[str] = set()
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        materialized[materialization.asset_key.to_user_string()] += 1 if materialization.partition else 0
        metadata = materialization.metadata
        if NOT_SENT in metadata:  # both texts
            not_sent[str(metadata[NOT_SENT].value)] += 1
        if REPAIRED in metadata:
            repaired.update(str(metadata[REPAIRED].value).splitlines())
    failed = tuple(
        FailedCheck(
            f"{e.asset_key.to_user_string()}:{e.check_name}",
            e.partition or "",
            e.severity.value,
            e.description or "",
            e.blocking,
        )
        for e in result.get_asset_check_evaluations()
        if not e.passed
    )
    causes = () if result.success else tuple(failure_causes(result.all_events, result.dagster_run.tags))
    return RunOutcome(
        result.run_id, result.success, dict(materialized), failed, dict(not_sent), frozenset(repaired), causes
    )


def print_outcomes(outcomes: Sequence[RunOutcome], label: str) -> None:
    """One phase: its runs' outcome, the partitions each asset materialized across them, checks that did not pass
    and, for a failed run, why."""
    counts: Counter[str] = Counter()
    failed: dict[str, list[FailedCheck]] = defaultdict(list)
    not_sent: Counter[str] = Counter()
    repaired: set[str] = set()
    for outcome in outcomes:
        counts.update(outcome.materialized)
        for check in outcome.failed_checks:
            failed[check.check].append(check)
        not_sent.update(outcome.not_sent)
        repaired |= outcome.repaired
    bad = [o for o in outcomes if not o.success]
    status = f"{len(bad)} of {len(outcomes)} FAILED" if bad else "succeeded"
    known = [o.run_id[:8] for o in outcomes if o.run_id]
    ids = ", ".join(known[:4]) + (", …" if len(known) > 4 else "")
    print(f"  {len(outcomes)} run{'s' * (len(outcomes) != 1)} ({label}: {ids}): {status}")
    for asset, count in sorted(counts.items()):
        print(f"    {asset}: {count} partitions materialized" if count else f"    {asset}: materialized")
    causes = [c for outcome in bad for c in outcome.causes]
    for name, checks in sorted(failed.items()):
        checks.sort(key=lambda c: c.partition)
        partitions = [c.partition for c in checks if c.partition]
        # a blocking check's failure is the failed run's cause, printed below with its reasons: said once
        reasons = [] if causes and any(c.blocking for c in checks) else [c.description for c in checks]
        print(f"    check {name} {failed_text(checks[-1].severity, partitions, reasons)}")
    for note in sorted(repaired):
        print(f"    repaired: {note}")
    for cause, count in sorted(not_sent.items()):
        print(f"    {count} notification{'s' * (count != 1)} not sent: {cause}")
    for cause in causes:
        print("    " + cause.replace("\n", "\n      "))
