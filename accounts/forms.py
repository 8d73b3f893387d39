from typing import Any

from django import forms
from django.core.exceptions import ValidationError

THEMES = [("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")]
MAX_SELECTED = 500
MAX_PINNED = 20
NOT_ACCESSIBLE = "%(value)s is not a repository you can access."


def _no_repeats(names: list[str]) -> None:
    """A list of repositories names each at most once (a form never repeats one; a JSON body might)."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValidationError(f"Each repository at most once; listed more than once: {', '.join(repeated)}.")


class RepoChoiceField(forms.MultipleChoiceField):
    default_error_messages = {"invalid_choice": NOT_ACCESSIBLE}


class SettingsForm(forms.Form):
    """A user's settings. `repos` is every repository the user can access, or None when GitHub is unreachable."""

    selected_repos = RepoChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Shown on the overview. None selected: every repository you can see.",
    )
    pinned_repos = RepoChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=f"Always first on the overview; at most {MAX_PINNED}.",
    )
    theme = forms.ChoiceField(choices=THEMES)
    auto_refresh = forms.BooleanField(required=False, help_text="Apply live updates to the page as they arrive.")
    notifications_enabled = forms.BooleanField(required=False, label="Browser notifications")
    notify_on_failure = forms.BooleanField(required=False, label="When a run fails")
    notify_on_recovery = forms.BooleanField(required=False, label="When a workflow recovers")
    notify_pinned_only = forms.BooleanField(required=False, label="Only for pinned repositories")
    notify_default_branch_only = forms.BooleanField(required=False, label="Only on the default branch")

    def __init__(self, *args, repos: list[str] | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.repos_available = repos is not None
        if repos is None:
            del self.fields["selected_repos"], self.fields["pinned_repos"]
        else:
            choices = [(name, name) for name in repos]
            for name in ("selected_repos", "pinned_repos"):
                field = self.fields[name]
                assert isinstance(field, RepoChoiceField)  # declared so above
                field.choices = choices

    def clean_selected_repos(self):
        selected = self.cleaned_data["selected_repos"]
        _no_repeats(selected)
        if len(selected) > MAX_SELECTED:
            raise ValidationError(f"Select at most {MAX_SELECTED} repositories ({len(selected)} selected).")
        return selected

    def clean_pinned_repos(self):
        pinned = self.cleaned_data["pinned_repos"]
        _no_repeats(pinned)
        if len(pinned) > MAX_PINNED:
            raise ValidationError(f"Pin at most {MAX_PINNED} repositories ({len(pinned)} pinned).")
        return pinned

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data (the stub allows an override's None)
        selected, pinned = cleaned.get("selected_repos"), cleaned.get("pinned_repos")
        if selected and pinned and not set(pinned) <= set(selected):
            missing = ", ".join(sorted(set(pinned) - set(selected)))
            self.add_error("pinned_repos", f"A pinned repository must also be selected: {missing}.")
        return cleaned
