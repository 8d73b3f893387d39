from django.contrib.auth.backends import BaseBackend
from pynamodb.exceptions import DoesNotExist

from accounts.models import GitHubUser, UserRecord


class GitHubBackend(BaseBackend):
    """Finds the signed-in user in DynamoDB. Sign-in itself goes through GitHub (accounts.views), not here."""

    def get_user(self, user_id):
        try:
            return GitHubUser.from_record(UserRecord.get(int(user_id)))
        except (DoesNotExist, TypeError, ValueError):
            return None
