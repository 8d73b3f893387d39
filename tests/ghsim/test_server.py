import pytest
import requests

from ghsim.testing import running_simulator


def test_it_stops_answering_on_connections_kept_alive_from_before_the_stop():
    session = requests.Session()
    with running_simulator() as sim:
        assert session.get(f"{sim.url}/_sim/health", timeout=5).status_code == 200

    # The pooled connection from before the stop is dead, and nobody listens for a new one.
    with pytest.raises(requests.ConnectionError):
        session.get(f"{sim.url}/_sim/health", timeout=5)
