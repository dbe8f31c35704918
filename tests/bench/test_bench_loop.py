"""`bench/loop.py --quick` runs end to end and prints one JSON object: the pull reading the
pushed records back updates none, and the push after it writes nothing (timings, which mean
little on a small org and a shared machine, are not asserted)."""

from __future__ import annotations

from tests.bench.test_bench_quick import quick


def test_quick_loop_bench_sees_no_ping_pong():
    report = quick("loop.py")
    one, two = report["one_way"], report["two_way"]
    assert one["first_sync"]["exchange_rows"] == 0  # no action: the pull remembers nothing
    assert two["first_sync"]["exchange_rows"] == 4 * report["contacts"]
    verdicts = report["pass"]
    assert verdicts["push_wrote_the_changes"], two["push"]
    assert verdicts["read_back_updated"], two["read_back"]
    assert verdicts["second_push_write_calls"], two["second_push"]
    assert isinstance(verdicts["first_sync_cpu_ratio"], bool)
