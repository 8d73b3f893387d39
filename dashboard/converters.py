"""Path converters shared by every app's URLs."""

from django.urls import register_converter


class NameConverter:
    """A GitHub owner or repository name (letters, digits, '-', '_' and '.')."""

    regex = r"[A-Za-z0-9_.-]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(NameConverter, "name")
