from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """allauth for the OAuth protocol only: the GitHub app comes from settings, never from SQL."""

    def list_apps(self, request, provider=None, client_id=None):
        from allauth.socialaccount.models import SocialApp

        if provider not in (None, "github") or client_id not in (None, settings.GITHUB_CLIENT_ID):
            return []
        # An unsaved SocialApp: allauth's default implementation queries the SocialApp table first.
        return [
            SocialApp(
                provider="github",
                name="GitHub",
                client_id=settings.GITHUB_CLIENT_ID,
                secret=settings.GITHUB_CLIENT_SECRET,
            )
        ]
