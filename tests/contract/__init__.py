"""Contract tests: the GitHub simulator against GitHub's own REST and webhooks descriptions (from npm)."""
