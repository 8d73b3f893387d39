from django.conf import settings
from django.utils.cache import add_never_cache_headers, patch_cache_control


def content_security_policy() -> str:
    """settings.SECURE_CSP as the header's value: its directives in the order they are written."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in settings.SECURE_CSP.items())


class ContentSecurityPolicyMiddleware:
    """Every response carries the Content-Security-Policy, unless its view set one of its own.

    Django 5.2 has no CSP support of its own; Django 6's `ContentSecurityPolicyMiddleware` reads the same
    `SECURE_CSP` setting and replaces this class.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        return response


class PrivateResponsesMiddleware:
    """Responses to a signed-in user are theirs alone: never stored by a browser cache or a CDN. Pages are never
    cached by anyone either: a cached page would point at static files an update has replaced."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True, no_store=True)
        elif response.get("Content-Type", "").startswith("text/html"):
            add_never_cache_headers(response)
        return response
