"""Sign-in with GitHub, sign-out, the session as JSON, and the settings pages.

allauth does the OAuth protocol (state bound to the session, PKCE S256, code exchange, profile); nothing here
touches SQL. allauth's own pipeline needs the ORM, so these views call the provider directly
(docs/decisions.md#allauth-without-sql).
"""

import json
import logging
from urllib.parse import urlencode

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.context_processors import theme_remember
from accounts.feed_tokens import feed_token_issue, feed_token_revoke
from accounts.flows import user_settings_ensure, user_sign_in
from accounts.forms import SettingsForm
from accounts.models import GitHubUser, UserRecord
from accounts.preferences import (
    MalformedSettings,
    json_fields,
    preferences_as_json,
    preferences_from_json,
    preferences_initial,
    preferences_save,
)
from accounts.tokens import user_access_token
from dashboard.lib import github
from dashboard.surfaces import CANNOT_ASK, NOT_ANSWERING, api_view, page_view
from realtime.fanout import access_ended

logger = logging.getLogger(__name__)


def _provider(request):
    return get_adapter(request).get_provider(request, "github")


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return "/"


def _auth_error(request, message: str, *, status: int):
    return render(request, "accounts/auth_error.html", {"message": message}, status=status)


@require_safe
@never_cache
def github_login(request):
    """Start signing in: a redirect to GitHub's authorize page, with state and a PKCE challenge kept in the session."""
    return _provider(request).redirect(request, "login", next_url=_safe_next(request, request.GET.get("next")))


@require_safe
@never_cache
def github_callback(request):
    """GitHub's redirect back: check state, exchange the code (with the PKCE verifier), sign the user in."""
    provider = _provider(request)
    try:
        state = provider.unstash_redirect_state(request, request.GET.get("state", ""))
    except PermissionDenied:
        # Unknown, already used, expired, or issued to another browser's session.
        return _auth_error(request, "This sign-in link is no longer valid. Please sign in again.", status=400)
    if "error" in request.GET or "code" not in request.GET:
        reason = "You cancelled signing in." if request.GET.get("error") == "access_denied" else "GitHub refused."
        return _auth_error(request, f"Signing in did not complete: {reason}", status=400)

    adapter = GitHubOAuth2Adapter(request)
    try:
        client = adapter.get_client(request, provider.app)
        token_data = adapter.get_access_token_data(
            request, provider.app, client, pkce_code_verifier=state.get("pkce_code_verifier")
        )
        social_login = adapter.complete_login(request, provider.app, adapter.parse_token(token_data))
    except OAuth2Error as error:
        # allauth raises the same error for GitHub's refusal (an `error` field) and for a broken answer.
        if '"error"' in str(error) or "error=" in str(error):
            return _auth_error(request, "GitHub refused this sign-in. Please sign in again.", status=400)
        logger.warning("GitHub sign-in failed: the token endpoint did not answer properly")
        return _auth_error(request, NOT_ANSWERING, status=502)
    except requests.RequestException as error:
        logger.warning("GitHub sign-in failed: %s", type(error).__name__)
        return _auth_error(request, NOT_ANSWERING, status=502)

    record = user_sign_in(profile=social_login.account.extra_data, grant=github.TokenGrant.from_response(token_data))
    # login() cycles the session key, so a key fixed before sign-in is worthless after it.
    auth_login(request, GitHubUser.from_record(record), backend="accounts.backends.GitHubBackend")
    return theme_remember(
        redirect(_safe_next(request, state.get("next"))), user_settings_ensure(int(record.user_id)).theme
    )


@require_POST
def logout(request):
    """Sign out: the session is deleted server-side, so the old cookie no longer works anywhere."""
    if request.user.is_authenticated and request.session.session_key:
        access_ended(user_id=request.user.pk, session_key=request.session.session_key)
    auth_logout(request)
    messages.success(request, "You are signed out.")
    return redirect("/")


@require_safe
@never_cache
def session_state(request):
    """Whether the browser is signed in, and as whom; never a token."""
    if not request.user.is_authenticated:
        return JsonResponse({"authenticated": False})
    record = UserRecord.get(request.user.pk)
    expires_at = record.access_token_expires_at
    return JsonResponse(
        {
            "authenticated": True,
            "user": {"id": record.user_id, "login": record.login, "name": record.name, "avatar_url": record.avatar_url},
            "token_expires_at": expires_at.isoformat() if expires_at else None,
            "session_expires_at": request.session.get_expiry_date().isoformat(),
        }
    )


def _accessible_repos(request) -> list[str] | None:
    """Every repository the user can access, or None (with a message) when GitHub cannot be reached."""
    try:
        return [repo.full_name for repo in github.user_repositories(user_access_token(request.user.pk))]
    except CANNOT_ASK:
        return None


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@page_view
def settings_page(request):
    """The user's settings, as a form in the spirit of Django's admin."""
    current = user_settings_ensure(request.user.pk)
    repos = _accessible_repos(request)
    if request.method == "POST":
        form = SettingsForm(request.POST, repos=repos)
        if form.is_valid():
            # The form shows every field, so every field it offered is saved (repositories only if offered).
            saved = preferences_save(request.user.pk, form.cleaned_data, fields=set(form.fields))
            messages.success(request, "Your settings were saved.")
            return theme_remember(redirect("settings"), saved.theme)
    else:
        form = SettingsForm(initial=preferences_initial(current), repos=repos)
    context = {"form": form, "repos": repos or [], "current": current}
    return render(request, "accounts/settings.html", context, status=400 if form.errors else 200)


@never_cache
@require_POST
@page_view
def feed_token(request):
    """Make a new feed link (the old one stops working), or with `revoke`, stop feeds by link altogether.

    The link is shown on this response only: it is not stored anywhere it could be read back.
    """
    if request.POST.get("revoke"):
        feed_token_revoke(request.user.pk)
        messages.success(request, "Feed links are turned off; any link made before no longer works.")
        return redirect("settings")
    token = feed_token_issue(request.user.pk)
    urls = {
        "CCTray": request.build_absolute_uri(reverse("cctray") + "?" + urlencode({"token": token})),
        "JSON": request.build_absolute_uri(reverse("overview_json") + "?" + urlencode({"token": token})),
    }
    return render(request, "accounts/feed_token.html", {"urls": urls})


@never_cache
@require_http_methods(["GET", "HEAD", "PUT", "PATCH"])
@api_view
def settings_api(request):
    """The user's settings as JSON: GET reads them, PUT/PATCH change the keys given (CSRF-protected)."""
    current = user_settings_ensure(request.user.pk)
    if request.method in ("GET", "HEAD"):
        return JsonResponse(preferences_as_json(current))
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        return JsonResponse({"errors": {"__all__": [f"Malformed JSON: {error}"]}}, status=400)
    repos = _accessible_repos(request)
    touches_repos = isinstance(body, dict) and bool({"selected_repos", "pinned_repos"} & set(body))
    if repos is None and touches_repos:
        unavailable = {"__all__": [f"{NOT_ANSWERING} Repositories cannot be checked until it does."]}
        return JsonResponse({"errors": unavailable}, status=503)
    try:
        data = preferences_from_json(body, current, accessible=repos)
    except MalformedSettings as malformed:
        return JsonResponse({"errors": malformed.errors}, status=400)
    form = SettingsForm(data, repos=repos)
    if not form.is_valid():
        return JsonResponse({"errors": _plain(form.errors)}, status=400)
    saved = preferences_save(request.user.pk, form.cleaned_data, fields=json_fields(body))
    return theme_remember(JsonResponse(preferences_as_json(saved)), saved.theme)


def _plain(errors) -> dict[str, list[str]]:
    return {field: [str(message) for message in messages_] for field, messages_ in errors.items()}
