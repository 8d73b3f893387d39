"""The browser latency benchmark's verdicts (bench/live_latency.py), from made-up arrivals. Nothing is timed."""

from bench import live_latency


def _figures(*, burst_latency, messages=2, lost=0):
    isolated = {index: 1000.0 * index for index in range(20)}
    burst = {100 + index: 50_000.0 + index for index in range(100)}
    arrived = {run_id: at + 30 for run_id, at in isolated.items()}
    arrived |= {run_id: at + burst_latency for run_id, at in list(burst.items())[lost:]}
    figures = live_latency.figures(isolated, burst, arrived, messages=messages, span=0.9, interval=1.0)
    return {figure.key: figure for figure in figures}


def test_a_burst_within_the_interval_and_100_ms_in_two_messages_is_met():
    figures = _figures(burst_latency=1050)

    assert figures["live.burst_latency_max"].met is True
    assert figures["live.burst_messages"].met is True
    assert figures["live.latency_p95"].value == 30


def test_a_change_later_than_the_interval_and_100_ms_misses():
    assert _figures(burst_latency=1150)["live.burst_latency_max"].met is False


def test_a_third_message_misses():
    assert _figures(burst_latency=500, messages=3)["live.burst_messages"].met is False


def test_a_lost_change_fails_the_burst_however_quick_the_rest():
    assert _figures(burst_latency=10, lost=1)["live.burst_latency_max"].met is False
