"""The control API under `/_sim/`: JSON in and out, for tests, benchmarks and demos (see ghsim/README.md)."""

from __future__ import annotations

from ghsim.faults import FaultError
from ghsim.server import Request, Response, Router, json_response
from ghsim.simulator import SimError, Simulator


def _control(handler):
    """Turn a handler's dict into JSON, and bad input into a 4xx with `{"error": ...}`."""

    def endpoint(sim: Simulator, request: Request) -> Response:
        try:
            body = request.json() if request.method == "POST" else {}
            return json_response(handler(sim, request, body))
        except SimError as exc:
            return json_response({"error": exc.message}, exc.status)
        except (FaultError, ValueError, TypeError, KeyError) as exc:
            return json_response({"error": str(exc)}, 400)

    endpoint.__doc__ = handler.__doc__
    return endpoint


@_control
def health(sim: Simulator, request: Request, body: dict) -> dict:
    """GET /_sim/health."""
    return sim.health()


@_control
def get_faults(sim: Simulator, request: Request, body: dict) -> dict:
    """GET /_sim/faults."""
    return sim.fault_settings()


@_control
def set_faults(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/faults {knob: value, ...}."""
    return sim.set_faults(**body)


@_control
def advance(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/advance {"seconds": N}."""
    delivered = sim.advance(float(body.get("seconds", 0)))
    return {"now": sim.health()["now"], "delivered": len(delivered)}


@_control
def truth(sim: Simulator, request: Request, body: dict) -> dict:
    """GET /_sim/truth."""
    return sim.truth()


@_control
def trigger(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/trigger {"repo", "workflow"?, "event"?, "branch"?, "actor"?, "outcome"?}."""
    run = sim.trigger(
        body["repo"],
        body.get("workflow"),
        event=body.get("event"),
        branch=body.get("branch"),
        actor=body.get("actor"),
        outcome=body.get("outcome"),
    )
    with sim.lock:
        return sim.run_truth(run)


@_control
def revoke(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/revoke {"login"}."""
    return {"revoked_tokens": sim.revoke(body["login"])}


@_control
def expire_tokens(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/tokens/expire {"login"?, "kind"?: "user"|"installation"}."""
    return {"expired": sim.expire_tokens(login=body.get("login"), kind=body.get("kind"))}


@_control
def issue_token(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/tokens {"login"} (a user token without the OAuth dance) or {"installation_id"}."""
    if "installation_id" in body:
        return {"token": sim.installation_token(int(body["installation_id"]))}
    return sim.user_tokens(body["login"])


@_control
def list_installations(sim: Simulator, request: Request, body: dict) -> dict:
    """GET /_sim/installations."""
    return _installations(sim)


def _installations(sim: Simulator) -> dict:
    with sim.lock:
        return {
            "installations": [
                {
                    "id": inst.id,
                    "account": inst.account.login,
                    "repositories": sorted(sim.world.repos[repo_id].full_name for repo_id in inst.repo_ids),
                    "suspended": inst.suspended_at is not None,
                    "deleted": inst.deleted,
                    "permissions": inst.permissions,
                }
                for inst in sim.world.installations.values()
            ]
        }


@_control
def change_installation(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/installations/{id}/{action} {"repos"?: [...], "sender"?: login}."""
    sim.change_installation(
        int(request.params["installation_id"]),
        request.params["action"],
        repos=body.get("repos"),
        sender=body.get("sender", "alice"),
    )
    return _installations(sim)


@_control
def set_permissions(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/installations/{id}/permissions {"actions": "read"|"write", ...}."""
    sim.set_installation_permissions(int(request.params["installation_id"]), body)
    return _installations(sim)


@_control
def requests_seen(sim: Simulator, request: Request, body: dict) -> dict:
    """GET /_sim/requests."""
    return sim.request_counts()


@_control
def reset_counters(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/reset-counters."""
    sim.reset_counters()
    return sim.request_counts()


@_control
def deliveries(sim: Simulator, request: Request, body: dict) -> dict:
    """GET /_sim/deliveries: every delivery with its payload, oldest first."""
    return {"deliveries": [delivery.detail() for delivery in sim.deliveries()]}


@_control
def hook(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/hook {"url"?, "secret"?, "active"?}."""
    return sim.set_hook(url=body.get("url"), secret=body.get("secret"), active=body.get("active"))


@_control
def flush(sim: Simulator, request: Request, body: dict) -> dict:
    """POST /_sim/flush: send deliveries that are due now."""
    return {"delivered": len(sim.flush())}


def register(router: Router) -> None:
    """Add the control routes."""
    for method, path, handler in (
        ("GET", "/_sim/health", health),
        ("GET", "/_sim/faults", get_faults),
        ("POST", "/_sim/faults", set_faults),
        ("POST", "/_sim/advance", advance),
        ("GET", "/_sim/truth", truth),
        ("POST", "/_sim/trigger", trigger),
        ("POST", "/_sim/revoke", revoke),
        ("POST", "/_sim/tokens", issue_token),
        ("POST", "/_sim/tokens/expire", expire_tokens),
        ("GET", "/_sim/installations", list_installations),
        ("POST", "/_sim/installations/{installation_id}/permissions", set_permissions),
        ("POST", "/_sim/installations/{installation_id}/{action}", change_installation),
        ("GET", "/_sim/requests", requests_seen),
        ("POST", "/_sim/reset-counters", reset_counters),
        ("GET", "/_sim/deliveries", deliveries),
        ("POST", "/_sim/hook", hook),
        ("POST", "/_sim/flush", flush),
    ):
        router.add(method, path, handler)
