def repo_group(repo_id: str) -> str:
    """The channel-layer group of one repository's changes (`acme/api` -> `repo.acme.api`)."""
    return "repo." + repo_id.replace("/", ".")


# Every socket is in this group too, to be told when visibility changed and subscriptions must be re-checked.
EVERYONE = "everyone"
