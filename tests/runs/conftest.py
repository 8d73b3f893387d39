def settle(sim, limit=7200):
    """Let the simulator's runs progress until all have completed, a simulated minute at a time."""
    for _ in range(int(limit // 60)):
        if all(run["status"] == "completed" for run in sim.truth()["runs"]):
            return
        sim.advance(60)
    raise AssertionError("the simulator's runs did not complete")
