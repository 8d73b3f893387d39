"""A user's settings between their three shapes: the DynamoDB item, the form, and the JSON the front end uses."""

from datetime import UTC, datetime

from accounts.flows import user_settings_ensure
from accounts.models import NotificationPreferences, UserSettings

# JSON notification keys and the form fields they map to.
NOTIFICATION_FIELDS = {
    "enabled": "notifications_enabled",
    "on_failure": "notify_on_failure",
    "on_recovery": "notify_on_recovery",
    "pinned_only": "notify_pinned_only",
    "default_branch_only": "notify_default_branch_only",
}
JSON_FIELDS = {"selected_repos", "pinned_repos", "theme", "auto_refresh", "notifications"}
READ_ONLY_FIELDS = {"created_at", "updated_at"}


class MalformedSettings(Exception):
    """A JSON body that is not a settings object: carries field-level errors."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def preferences_as_json(record: UserSettings) -> dict:
    return {
        "selected_repos": list(record.selected_repos),
        "pinned_repos": list(record.pinned_repos),
        "theme": record.theme,
        "auto_refresh": record.auto_refresh,
        "notifications": {key: getattr(record.notifications, key) for key in NOTIFICATION_FIELDS},
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


def preferences_initial(record: UserSettings) -> dict:
    """The form's initial values."""
    initial = {
        "selected_repos": list(record.selected_repos),
        "pinned_repos": list(record.pinned_repos),
        "theme": record.theme,
        "auto_refresh": record.auto_refresh,
    }
    for key, field in NOTIFICATION_FIELDS.items():
        initial[field] = getattr(record.notifications, key)
    return initial


def preferences_from_json(body: object, current: UserSettings, *, accessible: list[str] | None) -> dict:
    """Form data for a partial JSON update over the current settings; types are checked, values by the form.

    Repositories the user has since lost access to are dropped from lists the update does not touch, so an
    unrelated change is not refused for them.
    """
    if not isinstance(body, dict):
        raise MalformedSettings({"__all__": ["Expected a JSON object of settings."]})
    errors: dict[str, list[str]] = {}
    for key in sorted(set(body) - JSON_FIELDS - READ_ONLY_FIELDS):
        errors[key] = ["Unknown setting."]
    for key in ("selected_repos", "pinned_repos"):
        if key in body and not (isinstance(body[key], list) and all(isinstance(item, str) for item in body[key])):
            errors[key] = ["Expected a list of repository names (owner/repo)."]
    if "theme" in body and not isinstance(body["theme"], str):
        errors["theme"] = ["Expected a string."]
    if "auto_refresh" in body and not isinstance(body["auto_refresh"], bool):
        errors["auto_refresh"] = ["Expected true or false."]
    notifications = body.get("notifications", {})
    if not isinstance(notifications, dict):
        errors["notifications"] = ["Expected an object."]
    else:
        for key, value in notifications.items():
            if key not in NOTIFICATION_FIELDS:
                errors[f"notifications.{key}"] = ["Unknown notification setting."]
            elif not isinstance(value, bool):
                errors[f"notifications.{key}"] = ["Expected true or false."]
    if errors:
        raise MalformedSettings(errors)

    data = {**preferences_initial(current), **{key: body[key] for key in body if key in JSON_FIELDS}}
    for key in ("selected_repos", "pinned_repos"):
        if key not in body and accessible is not None:
            data[key] = [name for name in data[key] if name in set(accessible)]
    for key, value in notifications.items():
        data[NOTIFICATION_FIELDS[key]] = value
    data.pop("notifications", None)
    # Django's form conventions: absent means false for a checkbox, and a list for a multiple choice.
    return {key: value for key, value in data.items() if value is not False}


def preferences_save(user_id: int, cleaned: dict, *, repos_available: bool) -> UserSettings:
    """Store validated settings; repository choices are kept as they were if they could not be offered."""
    record = user_settings_ensure(user_id)
    if repos_available:
        record.selected_repos = cleaned["selected_repos"]
        record.pinned_repos = cleaned["pinned_repos"]
    record.theme = cleaned["theme"]
    record.auto_refresh = cleaned["auto_refresh"]
    record.notifications = NotificationPreferences(
        **{key: cleaned[field] for key, field in NOTIFICATION_FIELDS.items()}
    )
    record.updated_at = datetime.now(UTC)
    record.save()
    return record
