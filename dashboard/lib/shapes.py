"""Reading GitHub's JSON at the boundary: every field the app uses is type-checked where it is read.

A payload GitHub signed can still have a shape the app does not expect (a new API version, a field that became a
list). Read through `Fields`, a departure is a `Malformed` that names the field ("workflow_run.created_at should
be a string, not a number"), which the webhook answers with a 400 before anything is stored, instead of an
AttributeError deep inside or a value DynamoDB refuses.
"""

import builtins
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, overload

_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "true or false"}


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return _NAMES.get(type(value), type(value).__name__)


T = TypeVar("T")


class Malformed(ValueError):
    """A GitHub object without a field the app needs, or with a field of another type; names the field."""

    def __init__(self, path: str, expected: str, value: object = None, *, missing: bool = False):
        self.path = path
        message = f"{path} is missing" if missing else f"{path} should be {expected}, not {_describe(value)}"
        super().__init__(message)


def _is(value: object, kind: type) -> bool:
    # JSON's true and false are Python ints too; GitHub's ids and counts never are.
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


class Fields:
    """One JSON object of GitHub's, read field by field with the type each must have (None when absent or null)."""

    def __init__(self, data: object, path: str):
        if not isinstance(data, dict):
            raise Malformed(path, "an object", data)
        self.data: dict[str, Any] = data
        self.path = path

    def _at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _value(self, name: builtins.str, kind: type[T], required: builtins.bool) -> T | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise Malformed(self._at(name), _NAMES[kind], missing=True)
            return None
        if not _is(value, kind):
            raise Malformed(self._at(name), _NAMES[kind], value)
        return value  # type: ignore[no-any-return]  # _is checked it is a `kind`

    @overload
    def str(self, name: builtins.str, *, required: Literal[True]) -> builtins.str: ...
    @overload
    def str(self, name: builtins.str, *, required: builtins.bool = False) -> builtins.str | None: ...
    def str(self, name: builtins.str, *, required: builtins.bool = False) -> builtins.str | None:
        value = self._value(name, builtins.str, required)
        if value is not None and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON): no page could render it
                raise Malformed(self._at(name), "valid Unicode text", value) from None
        return value

    @overload
    def int(self, name: builtins.str, *, required: Literal[True]) -> builtins.int: ...
    @overload
    def int(self, name: builtins.str, *, required: builtins.bool = False) -> builtins.int | None: ...
    def int(self, name: builtins.str, *, required: builtins.bool = False) -> builtins.int | None:
        return self._value(name, builtins.int, required)

    def bool(self, name: builtins.str) -> builtins.bool | None:
        return self._value(name, builtins.bool, False)

    @overload
    def time(self, name: builtins.str, *, required: Literal[True]) -> datetime: ...
    @overload
    def time(self, name: builtins.str, *, required: builtins.bool = False) -> datetime | None: ...
    def time(self, name: builtins.str, *, required: builtins.bool = False) -> datetime | None:
        """An ISO 8601 timestamp, as UTC."""
        text = self.str(name, required=required)
        if not text:
            if required:  # an empty string is no timestamp either
                raise Malformed(self._at(name), "a timestamp", text)
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise Malformed(self._at(name), "a timestamp", text) from None
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    @overload
    def obj(self, name: builtins.str, *, required: Literal[True]) -> "Fields": ...
    @overload
    def obj(self, name: builtins.str, *, required: builtins.bool = False) -> "Fields | None": ...
    def obj(self, name: builtins.str, *, required: builtins.bool = False) -> "Fields | None":
        value = self._value(name, dict, required)
        return Fields(value, self._at(name)) if value is not None else None

    def objs(self, name: builtins.str) -> list["Fields"]:
        """A list of objects (empty when absent)."""
        items = self._value(name, list, False) or []
        return [Fields(item, f"{self._at(name)}[{index}]") for index, item in enumerate(items)]

    def strs(self, name: builtins.str) -> tuple[builtins.str, ...]:
        """A list of strings (empty when absent)."""
        items = self._value(name, list, False) or []
        for index, item in enumerate(items):
            if not _is(item, builtins.str):
                raise Malformed(f"{self._at(name)}[{index}]", "a string", item)
        return tuple(items)
