import hashlib


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
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]
