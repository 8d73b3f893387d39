"""Who may use each surface, and what it answers when GitHub cannot be asked: one decorator per surface.

- `page_view`: an HTML page. Signed out: the sign-in page, which brings the user back (200). GitHub not
  answering: a page saying so (503).
- `api_view`: the JSON API and the live stream. Signed out: 401. GitHub rate limited: 429 with Retry-After;
  not answering: 502. A repository or run the user may not see: 404.
- `feed_view`: the feeds for other tools (JSON, CCTray), read with the session or the feed token in the link.
  Signed out: 401, as JSON or text. GitHub not answering: 503. The view gets the user's record as `record`.

Signed in means a session Django authenticated (accounts/backends.py) or, for feeds only, a feed token.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.feed_tokens import feed_token_user
from dashboard.lib import github

NOT_SIGNED_IN = "Sign in first."
FEED_NOT_SIGNED_IN = "Sign in, or use the feed link from your settings."
NOT_ANSWERING = "GitHub is not answering; try again shortly."
CANNOT_ASK = github.CANNOT_ASK


def unavailable_text(error: Exception) -> str:
    """What a person is told when GitHub cannot be asked: until when, for a rate limit."""
    if isinstance(error, github.RateLimited):
        return f"{error.reason} until {error.retry_at.isoformat()}."
    return str(error) or NOT_ANSWERING  # what failed, when known (GitHub, or the key service behind the tokens)


def page_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            # The sign-in button brings them back here: shared links to a filtered view keep working.
            return render(request, "dashboard/signed_out.html", {"next": request.get_full_path()})
        try:
            return view(request, *args, **kwargs)
        except CANNOT_ASK as error:
            return render(request, "dashboard/unavailable.html", {"unavailable": unavailable_text(error)}, status=503)

    return wrapper


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"error": NOT_SIGNED_IN}, status=401)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return JsonResponse({"error": "Not found."}, status=404)
        except github.RateLimited as limited:
            response = JsonResponse({"error": unavailable_text(limited)}, status=429)
            response["Retry-After"] = str(max(1, int((limited.retry_at - datetime.now(UTC)).total_seconds())))
            return response
        except CANNOT_ASK:
            return JsonResponse({"error": NOT_ANSWERING}, status=502)

    return wrapper


def feed_view(*, as_text: bool = False) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def refusal() -> HttpResponse:
        if as_text:
            return HttpResponse(f"{FEED_NOT_SIGNED_IN}\n", status=401, content_type="text/plain")
        return JsonResponse({"error": FEED_NOT_SIGNED_IN}, status=401)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            token = request.GET.get("token")
            if token:
                record = feed_token_user(token)
            elif request.user.is_authenticated:
                record = request.user.record
            else:
                record = None
            if record is None:
                return refusal()
            try:
                return view(request, *args, record=record, refusal=refusal, **kwargs)
            except CANNOT_ASK as error:
                return JsonResponse({"error": unavailable_text(error)}, status=503)

        return wrapper

    return decorate
