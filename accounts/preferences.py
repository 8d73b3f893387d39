"""A user's settings between their three shapes: the DynamoDB item, the form, and the JSON the front end uses."""

from datetime import UTC, datetime

from accounts.flows import user_settings_ensure
from accounts.models import UserSettings

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


def json_fields(body: dict) -> set[str]:
    """The form fields a (validated) partial JSON update names."""
    fields = {key for key in body if key in JSON_FIELDS - {"notifications"}}
    return fields | {NOTIFICATION_FIELDS[key] for key in body.get("notifications", {})}


def preferences_save(user_id: int, cleaned: dict, *, fields: set[str]) -> UserSettings:
    """Store the validated values of `fields` only, in one UpdateItem.

    Writing the whole item from what was read first would let two saves racing undo each other's fields (three
    PATCHes of different settings at once lost one every time); DynamoDB applies each update to the latest item.
    """
    user_settings_ensure(user_id)
    attributes = {
        "selected_repos": UserSettings.selected_repos,
        "pinned_repos": UserSettings.pinned_repos,
        "theme": UserSettings.theme,
        "auto_refresh": UserSettings.auto_refresh,
        **{field: getattr(UserSettings.notifications, key) for key, field in NOTIFICATION_FIELDS.items()},
    }
    actions = [attributes[field].set(cleaned[field]) for field in sorted(fields) if field in cleaned]
    record = UserSettings(user_id=user_id)
    record.update(
        actions=[*actions, UserSettings.updated_at.set(datetime.now(UTC))],
        condition=UserSettings.user_id.exists(),
    )
    return record
