from django.utils.cache import add_never_cache_headers, patch_cache_control


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
