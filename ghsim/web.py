"""GitHub's web side: the OAuth authorize page and token endpoint, avatars, and small pages for run links.

https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
"""

from __future__ import annotations

import base64
from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

from ghsim.auth import OAuthError
from ghsim.server import Request, Response, Router, html_response, json_response, redirect
from ghsim.simulator import Simulator

DEFAULT_CALLBACK = "http://127.0.0.1:8000/accounts/github/login/callback/"
CAST = ("alice", "bob", "charlie", "dana")


def authorize(sim: Simulator, request: Request) -> Response:
    """GET /login/oauth/authorize: approve at once (demo and tests) or show a page to pick a user."""
    params = {key: values[0] for key, values in request.query.items()}
    if params.get("client_id") != sim.config.client_id:
        return html_response("<h1>404: this OAuth app does not exist</h1>", 404)
    login = params.get("login")
    chosen = login if login in CAST else None
    if sim.config.auto_approve and params.get("prompt") != "select_account":
        return _approve(sim, params, chosen or sim.config.default_login)
    return html_response(_picker(params, chosen))


def approve(sim: Simulator, request: Request) -> Response:
    """POST /login/oauth/authorize: the picker page's form, signing in as the chosen user."""
    params = request.form()
    if params.get("client_id") != sim.config.client_id or params.get("login") not in CAST:
        return html_response("<h1>Bad request</h1>", 400)
    return _approve(sim, params, params["login"])


def _approve(sim: Simulator, params: dict[str, str], login: str) -> Response:
    redirect_uri = params.get("redirect_uri") or DEFAULT_CALLBACK
    with sim.lock:
        code = sim.auth.issue_code(
            login=login,
            client_id=params["client_id"],
            redirect_uri=params.get("redirect_uri"),
            challenge=params.get("code_challenge"),
            method=params.get("code_challenge_method"),
        )
    extra = {"code": code}
    if params.get("state"):
        extra["state"] = params["state"]
    return redirect(_with_query(redirect_uri, extra))


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit(parts._replace(query=query))


def _picker(params: dict[str, str], chosen: str | None) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in params.items()
        if key not in ("login", "prompt")
    )
    buttons = "".join(
        f'<button name="login" value="{login}"{" autofocus" if login == chosen else ""}>Sign in as {login}</button> '
        for login in CAST
    )
    return (
        "<!doctype html><title>Authorize Actions Dashboard (GitHub simulator)</title>"
        "<h1>Authorize Actions Dashboard</h1>"
        "<p>This is the GitHub simulator. Pick who you are: alice (both orgs, write), bob (acme, read-only), "
        "charlie (sees nothing), dana (globex, write).</p>"
        f'<form method="post" action="/login/oauth/authorize">{hidden}{buttons}</form>'
    )


def access_token(sim: Simulator, request: Request) -> Response:
    """POST /login/oauth/access_token: code (with PKCE) or refresh-token exchange.

    GitHub answers errors with HTTP 200 and an `error` field, urlencoded unless the client asks for JSON.
    """
    form = request.form()
    client_id, client_secret = _client_credentials(request, form)
    with sim.lock:
        try:
            sim.auth.check_client(client_id, client_secret)
            ttl = sim.faults.token_ttl
            if form.get("grant_type") == "refresh_token":
                result = sim.auth.refresh(refresh_token=form.get("refresh_token", ""), ttl=ttl, client_id=client_id)
            else:
                result = sim.auth.exchange_code(
                    code=form.get("code", ""),
                    redirect_uri=form.get("redirect_uri"),
                    verifier=form.get("code_verifier"),
                    ttl=ttl,
                    client_id=client_id,
                )
        except OAuthError as exc:
            result = exc.as_dict()
        sim.counters.add(identity="oauth", route=request.route, status=200)
    if "json" in (request.header("accept") or ""):
        return json_response(result)
    return Response(
        200, urlencode(result).encode(), {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    )


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            return client_id, secret
        except ValueError:
            return None, None
    return form.get("client_id"), form.get("client_secret")


def avatar(sim: Simulator, request: Request) -> Response:
    """GET /avatars/u/{id}: a small SVG with the account's initial (no real avatars offline)."""
    wanted = request.params["account_id"]
    names = [user.login for user in sim.world.users.values() if str(user.id) == wanted]
    names += [org.login for org in sim.world.orgs.values() if str(org.id) == wanted]
    letter = escape(names[0][0].upper()) if names else "?"
    hue = int(wanted) * 47 % 360 if wanted.isdigit() else 0
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" fill="hsl({hue},55%,45%)"/>'
        f'<text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff" font-family="sans-serif">{letter}</text>'
        "</svg>"
    )
    return Response(200, svg.encode(), {"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"})


def run_page(sim: Simulator, request: Request) -> Response:
    """GET /{owner}/{repo}/actions/runs/{run_id}: a bare page standing in for GitHub's run page."""
    with sim.lock:
        run = sim.world.runs.get(int(request.params["run_id"])) if request.params["run_id"].isdigit() else None
        if run is None:
            return html_response("<h1>404</h1>", 404)
        repo = sim.world.repos[run.repo_id]
        jobs = "".join(
            f"<li>{escape(job.name)}: {job.status} {job.conclusion or ''}</li>" for job in run.jobs_of(run.attempt)
        )
        title = f"{repo.full_name} run {run.id} (attempt {run.attempt}): {run.status} {run.conclusion or ''}"
    return html_response(f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><ul>{jobs}</ul>")


def index(sim: Simulator, request: Request) -> Response:
    """GET /: what this server is."""
    health = sim.health()
    return html_response(
        "<!doctype html><title>GitHub simulator</title><h1>GitHub simulator</h1>"
        f"<p>REST API: {escape(health['api_url'])} · control API: /_sim/health · mode {health['mode']}, "
        f"seed {health['seed']}, simulated time {health['now']}.</p>"
    )


def register(router: Router) -> None:
    """Add the web routes."""
    router.add("GET", "/", index)
    router.add("GET", "/login/oauth/authorize", authorize)
    router.add("POST", "/login/oauth/authorize", approve)
    router.add("POST", "/login/oauth/access_token", access_token)
    router.add("GET", "/avatars/u/{account_id}", avatar)
    router.add("GET", "/{owner}/{repo}/actions/runs/{run_id}", run_page)
    router.add("GET", "/{owner}/{repo}/actions/runs/{run_id}/job/{job_id}", run_page)
