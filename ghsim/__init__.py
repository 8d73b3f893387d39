"""A GitHub simulator for the Actions Dashboard: one process on 127.0.0.1 serving GitHub Enterprise Server's layout.

`/login/oauth/...` (OAuth for the GitHub App, with PKCE and refresh tokens), `/api/v3/...` (REST with ETags,
rate limits, pagination and real visibility), signed webhooks for seeded workflow activity, fault knobs, and a
control API under `/_sim/`. The cast: `alice` (demo user, both orgs, write), `bob` (acme, read-only), `charlie`
(sees nothing), `dana` (globex, write, owns private `globex/skunkworks`). Full documentation: ghsim/README.md.

Nothing here imports Django or the app: the simulator is excluded from the Lambda bundle and runs on its own.
"""

from ghsim.config import Config
from ghsim.simulator import SimError, Simulator

__all__ = ["Config", "SimError", "Simulator"]
