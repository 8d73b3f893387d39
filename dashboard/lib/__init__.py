"""Shared infrastructure, the bottom layer: the DynamoDB base and client, the GitHub client, settings readers,
logs and metrics. It imports none of the apps (an import-linter contract in pyproject.toml holds it), so any
of them may use it.
"""
