"""The filters of the overview and the repository page, read from the URL so that a view can be shared."""

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from runs.board import ANY_BRANCH, BoardFilters

# GitHub's own character rules, loosely: enough to refuse markup and control characters with a clear message.
NAME = RegexValidator(r"^[A-Za-z0-9_.\-\[\]]+$", "Letters, digits, '-', '_', '.' and brackets only.")
BRANCH = RegexValidator(r"^(\*|[^\s~^:?\\\[\x00-\x1f\x7f]+)$", "Not a branch name.")
EVENT = RegexValidator(r"^[a-z_]+$", "A GitHub event name, such as push or pull_request.")
STATUS_CHOICES = [
    ("", "Any state"),
    ("failure", "Failing"),
    ("running", "Running"),
    ("queued", "Queued"),
    ("success", "Passing"),
    ("cancelled", "Cancelled"),
]


class BoardFilterForm(forms.Form):
    """Every field is optional; an empty one does not filter. The branch defaults to each repository's default
    branch on the overview, and `*` means every branch."""

    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label="State")
    branch = forms.CharField(required=False, max_length=255, validators=[BRANCH], label="Branch")
    event = forms.CharField(required=False, max_length=40, validators=[EVENT], label="Event")
    hide_pull_requests = forms.BooleanField(required=False, label="Hide pull requests")
    hide_bots = forms.BooleanField(required=False, label="Hide bots")
    workflow = forms.CharField(required=False, max_length=200, label="Workflow")
    actor = forms.CharField(required=False, max_length=100, validators=[NAME], label="Actor")
    org = forms.CharField(required=False, max_length=100, validators=[NAME], label="Organisation")
    topic = forms.CharField(required=False, max_length=50, validators=[NAME], label="Topic")

    def __init__(self, data, *, any_branch_by_default: bool = False):
        super().__init__(data)
        self.any_branch_by_default = any_branch_by_default

    def filters(self) -> BoardFilters:
        """The filters of the valid fields; an invalid field filters nothing and is reported by the form."""
        self.is_valid()
        cleaned = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        values: dict[str, Any] = {name: value for name, value in cleaned.items() if value not in (None, "")}
        if self.any_branch_by_default and not values.get("branch"):
            values["branch"] = ANY_BRANCH
        return BoardFilters(**values)

    def query(self, **changes) -> str:
        """This view's query string with some fields changed (None removes one), for links that refine it."""
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        for name in self.fields:
            value = changes[name] if name in changes else (self.data.get(name) if name not in self.errors else None)
            if value not in (None, "", False):
                query[name] = "1" if value is True else value
        for name in ("kiosk",):
            if self.data.get(name):
                query[name] = self.data[name]
        return query.urlencode()
