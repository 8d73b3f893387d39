"""Path converters shared by every app's URLs."""

from django.urls import register_converter


class NameConverter:
    """A GitHub owner or repository name (letters, digits, '-', '_' and '.')."""

    regex = r"[A-Za-z0-9_.-]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class GitHubIdConverter:
    """A GitHub id (run, job, ...): a positive 64-bit integer. Anything else matches no route, so it is a 404.

    Without the bound, an id of 39 or more digits reached DynamoDB, whose numbers stop at 38 digits: a 500.
    """

    regex = r"[0-9]{1,19}"
    MAX = 2**63 - 1

    def to_python(self, value):
        number = int(value)
        if not 0 < number <= self.MAX:
            raise ValueError(f"{value} is not a GitHub id")  # Django then tries the next pattern: none, so 404
        return number

    def to_url(self, value):
        return str(value)


register_converter(NameConverter, "name")
register_converter(GitHubIdConverter, "github_id")
