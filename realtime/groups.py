from django.utils.crypto import salted_hmac


def repo_group(repo_id: str) -> str:
    """The channel-layer group of one repository's changes (`acme/api` -> `repo.acme.api`)."""
    return "repo." + repo_id.replace("/", ".")


# Every socket is in this group too, to be told when visibility changed and subscriptions must be re-checked.
EVERYONE = "everyone"


def user_topic(user_id: int) -> str:
    """Every live socket and stream of one user, to end them when the user's access ends."""
    return f"user.{user_id}"


def session_topic(session_key: str) -> str:
    """The live sockets and streams opened under one session, to end them at logout."""
    # The connections table stores it: a keyed hash (HMAC-SHA256 under SECRET_KEY), never the session key.
    return "session." + salted_hmac("realtime.session_topic", session_key, algorithm="sha256").hexdigest()[:32]
