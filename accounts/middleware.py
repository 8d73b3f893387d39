import logging

from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import JsonResponse
from django.shortcuts import redirect

from accounts.flows import user_revoke
from accounts.tokens import NoToken
from dashboard.lib.github import BadCredentials

logger = logging.getLogger(__name__)


class GitHubAuthorizationMiddleware:
    """Ends a user's sessions when GitHub no longer accepts their authorization (a 401, or a refused refresh).

    GitHub App user tokens are revoked from GitHub's side (the user uninstalls or revokes the app); the first
    request that finds out signs the user out everywhere, rather than failing on every page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, BadCredentials | NoToken) or not request.user.is_authenticated:
            return None
        user_id = request.user.pk
        logger.info("user %s: GitHub authorization no longer valid (%s)", user_id, type(exception).__name__)
        user_revoke(user_id)
        auth_logout(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "Your GitHub authorization has ended. Sign in again."}, status=401)
        messages.warning(request, "Your GitHub authorization has ended. Please sign in again.")
        return redirect("/")
