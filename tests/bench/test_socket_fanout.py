"""The socket fan-out benchmark's counting (bench/socket_fanout.py): every change at every socket, from its arrivals.

Nothing here is timed: the arrivals are made up, so that what is counted lost, duplicated or late is known.
"""

from bench import socket_fanout


def _socket(*changes, messages=1):
    return {"messages": messages, "changes": [list(change) for change in changes]}


def test_it_counts_a_change_per_socket_once_and_a_repeat_as_a_duplicate():
    written = {1: 1000.0, 2: 2000.0}
    report = [_socket((1, 1010.0), (2, 2020.0), (2, 2500.0)), _socket((1, 1030.0), (2, 2040.0))]

    tally = socket_fanout.tally(report, written)

    assert sorted(tally.latencies) == [10, 20, 30, 40]
    assert (tally.missing, tally.duplicates, tally.unexpected) == (0, 1, 0)


def test_a_change_a_socket_never_got_is_missing_and_a_stranger_is_unexpected():
    written = {1: 1000.0, 2: 2000.0}

    tally = socket_fanout.tally([_socket((1, 1010.0), (99, 1500.0)), _socket()], written)

    assert (tally.missing, tally.unexpected) == (3, 1)


def test_the_hub_handoff_splits_a_latency():
    written = {1: 1000.0}

    tally = socket_fanout.tally([_socket((1, 1100.0))], written, {1: 1040.0})

    assert tally.to_hub == [40]


def _phase(sockets, latency, *, messages=1, changes=3, spacing=1000.0):
    written = {index: index * spacing for index in range(changes)}
    report = [
        _socket(*[(index, at + latency) for index, at in written.items()], messages=messages) for _ in range(sockets)
    ]
    return socket_fanout.tally(report, written)


def _by_key(figures):
    return {figure.key: figure for figure in figures}


def test_the_figures_compare_many_sockets_with_few_measured_alike():
    figures = _by_key(
        socket_fanout.figures(_phase(10, 20.0), _phase(1000, 120.0), _phase(1000, 500.0, messages=4), interval=1.0)
    )

    assert figures["sockets.p99"].met is True
    assert figures["sockets.p99_ratio"].value == 6
    assert figures["sockets.p99_ratio"].met is False
    assert figures["sockets.missing"].value == 0


def test_more_messages_than_one_an_interval_is_reported():
    # Three changes written over 2 s allow a message at the first, one each second and one after the last: 4.
    figures = _by_key(
        socket_fanout.figures(_phase(10, 20.0), _phase(10, 20.0), _phase(10, 20.0, messages=5), interval=1.0)
    )

    assert figures["sockets.messages_over"].value == 1
    assert figures["sockets.messages_over"].met is False
