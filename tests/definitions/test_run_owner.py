"""The one tag that names the process executing a ``huracan run`` run: read back as written, and the three tags of
runs an older home recorded still read, so their recovery keeps working after an upgrade."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import dagster as dg

from huracan_dagster.instance.run_owner import OWNER_TAG, Owner, owner_tags, process_gone, run_owner


def test_this_process_is_named_in_one_tag_and_read_back() -> None:
    tags = owner_tags()
    assert list(tags) == [OWNER_TAG]
    owner = run_owner(tags)
    assert owner is not None and owner.pid == os.getpid() and owner.host == socket.gethostname()
    assert owner.started is not None  # Linux: the start time guards against a reused pid
    assert run_owner(Owner(12, "a-host.local").tags()) == Owner(12, "a-host.local")


def test_an_older_homes_three_tags_still_name_the_process_and_other_runs_have_none() -> None:
    legacy = {"huracan/pid": "4242", "huracan/host": "box", "huracan/pid_start": "99"}
    assert run_owner(legacy) == Owner(4242, "box", "99")
    assert run_owner({"dagster/backfill": "abc"}) is None and run_owner({OWNER_TAG: "garbled"}) is None


def test_a_run_whose_process_ended_is_gone_and_one_whose_process_lives_is_not() -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    for tags, gone in ((Owner(ended.pid, socket.gethostname()).tags(), True), (owner_tags(), False)):
        run = dg.DagsterRun(job_name="daily", status=dg.DagsterRunStatus.STARTED, tags=tags)
        assert process_gone(run) is gone
    elsewhere = Owner(ended.pid, "another-host").tags()  # another host's pid says nothing here
    assert not process_gone(dg.DagsterRun(job_name="daily", status=dg.DagsterRunStatus.STARTED, tags=elsewhere))
