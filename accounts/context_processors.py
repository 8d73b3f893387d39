from django.conf import settings

from accounts.forms import THEMES

THEME_COOKIE = "theme"


def theme(request):
    """The user's theme, from a cookie set whenever it is saved: a page costs no DynamoDB read for it, and unlike a
    session value it cannot be lost to a concurrent request that saves an older copy of the session."""
    chosen = request.COOKIES.get(THEME_COOKIE)
    return {"theme": chosen if chosen in dict(THEMES) else "system"}


def theme_remember(response, theme: str):
    """Set the theme cookie on a response: a preference, not a secret, kept for a year."""
    response.set_cookie(
        THEME_COOKIE, theme, max_age=365 * 24 * 3600, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
    )
    return response
