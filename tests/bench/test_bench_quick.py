"""`bench/pull.py --quick` and `bench/push.py --quick` run end to end and print one JSON object
within the API-call goals; `bench/ui.py --quick` times every page it lists.

Timings on a small org and a shared machine mean little, so only the call counts are asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def quick(script: str) -> dict:
    """Run `bench/<script> --quick`; the JSON object it printed."""
    done = subprocess.run(  # noqa: S603 - our own argv
        [sys.executable, f"bench/{script}", "--quick"], cwd=ROOT, capture_output=True,
        text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_quick_pull_bench_prints_json_within_the_api_call_goals():
    report = quick("pull.py")
    speed, memory = report["throughput"], report["memory"]
    assert speed["pass"]["all_records"] and speed["pass"]["incremental_changes"]
    assert speed["pass"]["first_sync_api_calls"], speed["first_sync"]
    assert speed["pass"]["incremental_api_calls"], speed["incremental"]
    assert speed["pass"]["resync_rest_api_calls"], speed["resync_rest"]
    assert speed["bare_fetch"]["records"] == speed["contacts"]
    assert memory["fetched"] == memory["contacts"] and memory["worker_peak_rss_mb"] > 0
    # Sampled while the worker ran; the goal's figure is the worker's and helpers' PSS summed.
    assert memory["samples"] >= 1 and memory["worker_peak_pss_mb"] > 0, memory
    assert memory["worker_and_helper_peak_pss_mb"] >= memory["worker_peak_pss_mb"], memory
    assert memory["pass"] == (memory["worker_and_helper_peak_pss_mb"] <= 300), memory
    assert isinstance(speed["pass"]["records_per_second"], bool)
    assert isinstance(speed["pass"]["ratio"], bool) and isinstance(report["pass"], bool)


def test_quick_ui_bench_prints_every_page_with_its_time():
    report = quick("ui.py")
    assert report["rows"] == 20_000
    assert {"logs_unfiltered", "logs_connection", "logs_sync", "logs_direction_out",
            "logs_outcome_failed", "logs_error_code", "logs_time_range",
            "logs_search_email", "dashboard"} <= set(report["pages"])
    assert all(page["status"] == 200 and page["ms"] > 0 for page in report["pages"].values())
    assert isinstance(report["pass"]["all"], bool)


def test_quick_push_bench_prints_json_within_the_api_call_goals():
    report = quick("push.py")
    verdicts = report["pass"]
    assert verdicts["all_written"], report
    for goal in ("external_id_upsert_api_calls", "email_matchers_api_calls", "bulk_api_calls"):
        assert verdicts[goal], (goal, report)
    assert report["latency"]["missed"] == 0 and report["latency"]["p50_seconds"] > 0
    assert isinstance(verdicts["records_per_second"], bool) and isinstance(verdicts["ratio"], bool)
    inbound = report["inbound"]
    assert inbound["accepted"] == inbound["in_hub"] == inbound["messages"], inbound
    assert inbound["messages_per_second"] > 0 and isinstance(inbound["pass"], bool)

    # The 600 people of the push phases and 10,000 more for the segment, which some match.
    segment = report["segment"]
    assert segment["people"] == 10_600 and segment["members"] > 0, segment
    assert report["segment_count_ms"] > 0 and isinstance(verdicts["segment_count_ms"], bool)
