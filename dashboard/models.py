"""The project's own table, from the shared infrastructure.

Django imports each installed app's `models` module when it starts; importing the GitHub client's table here
is what puts it in `dynamo.table_models()` (and so in `createtables` and infra/dynamodb.tf) even in a process
that never calls GitHub.
"""

from dashboard.lib.github.state import GitHubState

__all__ = ["GitHubState"]
