"""A task enqueued through the real broker is executed by a real cluster process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django_q.brokers import get_broker
from django_q.tasks import async_task, fetch

from tests.conftest import ROOT, database_url_for_subprocess


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_enqueued_task_runs_in_a_real_cluster():
    # The run's own queue (tests/bootstrap.py) is inherited, so no other cluster takes the task.
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess())
    cluster = subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        task_id = async_task("config.health.heartbeat")
        deadline = time.monotonic() + 60
        task = None
        while time.monotonic() < deadline and cluster.poll() is None:
            task = fetch(task_id)
            if task is not None:
                break
            time.sleep(0.5)
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            output, _ = cluster.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            cluster.kill()
            output, _ = cluster.communicate()
    assert task is not None, f"the cluster did not run the task within 60 s:\n{output[-3000:]}"
    assert task.success, task.result
    assert task.result["pid"] not in (os.getpid(), cluster.pid)
    assert task.result["database"] in {"sqlite", "postgresql"}
    expected = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    assert type(get_broker()).__name__ == expected
    assert "Processed 'config.health.heartbeat'" in output
