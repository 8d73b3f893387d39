"""Reading infra/*.tf offline, and the checks that hold it against the app. No terraform binary is needed.

Each check takes a directory (infra/ itself, or a deliberately broken copy of it in a test) and returns the
problems it finds, one readable sentence each; an empty list means it agrees.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import hcl2
from hcl2 import SerializationOptions

from dashboard.lib.tables import IndexSpec, TableSpec

_OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False)
_REFERENCE = re.compile(r"\$\{(local|var)\.([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?\}|\$\{terraform\.workspace\}")


@dataclass
class Config:
    """The top-level blocks of every .tf file in one directory, merged."""

    resources: dict[str, dict[str, dict]] = field(default_factory=dict)
    data: dict[str, dict[str, dict]] = field(default_factory=dict)
    locals: dict[str, object] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)

    def resolve(self, value, *, workspace: str):
        """A string with `${local.x}`, `${var.x}` (its default) and `${terraform.workspace}` filled in."""
        if not isinstance(value, str):
            return value
        for _ in range(10):  # locals refer to locals; ten levels is more than this configuration has
            resolved = _REFERENCE.sub(lambda match: self._lookup(match, workspace), value)
            if resolved == value:
                return resolved
            value = resolved
        return value

    def _lookup(self, match: re.Match, workspace: str) -> str:
        kind, name, key = match.group(1), match.group(2), match.group(3)
        if kind is None:
            return workspace
        found = self.variables.get(name, {}).get("default") if kind == "var" else self.locals.get(name)
        if key is not None:  # `local.roles.app`: one entry of a map
            found = found.get(key) if isinstance(found, dict) else None
        return found if isinstance(found, str) else match.group(0)


def _strip(value):
    if isinstance(value, dict):
        return {key: _strip(item) for key, item in value.items() if key != "__is_block__"}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def load(directory: Path) -> Config:
    config = Config()
    for path in sorted(directory.glob("*.tf")):
        with path.open() as source:
            parsed = _strip(hcl2.load(source, serialization_options=_OPTIONS))
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                config.resources.setdefault(kind, {}).update(named)
        for block in parsed.get("data", []):
            for kind, named in block.items():
                config.data.setdefault(kind, {}).update(named)
        for block in parsed.get("locals", []):
            config.locals.update(block)
        for block in parsed.get("variable", []):
            config.variables.update(block)
    return config


# --- Tables -------------------------------------------------------------------------------------------------------


def _key(name: str | None, types: dict[str, str]) -> tuple[str, str] | None:
    return (name, types.get(name, "?")) if name else None


def terraform_tables(config: Config, *, workspace: str) -> dict[str, tuple[str, TableSpec, dict]]:
    """Every aws_dynamodb_table as (resource label, the spec it declares, the rest of its body), by table name."""
    found = {}
    for label, body in config.resources.get("aws_dynamodb_table", {}).items():
        types = {item["name"]: item["type"] for item in body.get("attribute", [])}
        indexes = tuple(
            sorted(
                (
                    IndexSpec(
                        name=index["name"],
                        hash_key=_key(index.get("hash_key"), types),
                        range_key=_key(index.get("range_key"), types),
                        projection=index.get("projection_type"),
                    )
                    for index in body.get("global_secondary_index", [])
                ),
                key=lambda index: index.name,
            )
        )
        ttl = [item for item in body.get("ttl", []) if item.get("enabled", True)]
        name = config.resolve(body["name"], workspace=workspace)
        spec = TableSpec(
            name=name,
            hash_key=_key(body.get("hash_key"), types),
            range_key=_key(body.get("range_key"), types),
            indexes=indexes,
            ttl_attribute=ttl[0]["attribute_name"] if ttl else None,
            stream_view_type=body.get("stream_view_type") if body.get("stream_enabled") is True else None,
        )
        found[name] = (label, spec, body)
    return found


def _spec_problems(table: str, model_spec: TableSpec, declared: TableSpec) -> list[str]:
    problems = []
    for part in ("hash_key", "range_key"):
        if getattr(model_spec, part) != getattr(declared, part):
            problems.append(
                f"table {table}: the model's {part} is {getattr(model_spec, part)}, "
                f"Terraform declares {getattr(declared, part)}"
            )
    model_indexes = {index.name: index for index in model_spec.indexes}
    declared_indexes = {index.name: index for index in declared.indexes}
    for name in sorted(model_indexes.keys() - declared_indexes.keys()):
        problems.append(f"table {table}: index {name} is in the model but not in Terraform")
    for name in sorted(declared_indexes.keys() - model_indexes.keys()):
        problems.append(f"table {table}: index {name} is in Terraform but not in the model")
    for name in sorted(model_indexes.keys() & declared_indexes.keys()):
        if model_indexes[name] != declared_indexes[name]:
            problems.append(
                f"table {table}: index {name} differs: the model declares {model_indexes[name]}, "
                f"Terraform {declared_indexes[name]}"
            )
    if model_spec.ttl_attribute != declared.ttl_attribute:
        problems.append(
            f"table {table}: the model expires items by {model_spec.ttl_attribute}, "
            f"Terraform's TTL attribute is {declared.ttl_attribute}"
        )
    if model_spec.stream_view_type != declared.stream_view_type:
        problems.append(
            f"table {table}: the model streams {model_spec.stream_view_type}, "
            f"Terraform streams {declared.stream_view_type}"
        )
    return problems


def _settings_problems(table: str, body: dict, data_key: str) -> list[str]:
    """What every table must have whatever its model: on-demand, PITR, encrypted under the data key."""
    problems = []
    if body.get("billing_mode") != "PAY_PER_REQUEST":
        problems.append(f"table {table}: billing_mode must be PAY_PER_REQUEST, not {body.get('billing_mode')}")
    if not any(item.get("enabled") is True for item in body.get("point_in_time_recovery", [])):
        problems.append(f"table {table}: point-in-time recovery is not enabled")
    encryption = body.get("server_side_encryption", [])
    if not any(item.get("enabled") is True and item.get("kms_key_arn") == data_key for item in encryption):
        problems.append(f"table {table}: not encrypted with the stage's KMS key ({data_key})")
    declared = {item["name"] for item in body.get("attribute", [])}
    used = {body.get("hash_key"), body.get("range_key")}
    for index in body.get("global_secondary_index", []):
        used |= {index.get("hash_key"), index.get("range_key")}
    used.discard(None)
    if declared != used:
        problems.append(
            f"table {table}: attributes declared {sorted(declared)} but keys use {sorted(used)} "
            "(Terraform may declare only key attributes)"
        )
    return problems


def table_problems(
    directory: Path, model_specs: dict[str, TableSpec], *, workspace: str, prefix: str, data_key: str
) -> list[str]:
    """Every model has its table in Terraform and every Terraform table has its model, alike in every detail.

    `model_specs` are keyed by short name (`sessions`); Terraform's names are resolved for `workspace` and
    must be `prefix` + the short name.
    """
    declared = terraform_tables(load(directory), workspace=workspace)
    problems = []
    wanted = {f"{prefix}{short}": spec for short, spec in model_specs.items()}
    for name in sorted(wanted.keys() - declared.keys()):
        problems.append(f"table {name}: a model declares it but Terraform has no aws_dynamodb_table named so")
    for name in sorted(declared.keys() - wanted.keys()):
        problems.append(f"table {name}: Terraform declares it (aws_dynamodb_table.{declared[name][0]}) but no model")
    for name in sorted(wanted.keys() & declared.keys()):
        label, spec, body = declared[name]
        model_spec = TableSpec(
            name=name,
            hash_key=wanted[name].hash_key,
            range_key=wanted[name].range_key,
            indexes=wanted[name].indexes,
            ttl_attribute=wanted[name].ttl_attribute,
            stream_view_type=wanted[name].stream_view_type,
        )
        problems += _spec_problems(name, model_spec, spec)
        problems += _settings_problems(name, body, data_key)
    return problems


# --- IAM ------------------------------------------------------------------------------------------------------


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def statements(config: Config, document: str) -> list[dict]:
    """The statements of one aws_iam_policy_document, with `local.` lists filled in."""
    body = config.data.get("aws_iam_policy_document", {}).get(document)
    if body is None:
        return []
    found = []
    for statement in body.get("statement", []):
        expanded = dict(statement)
        for part in ("actions", "resources"):
            values = []
            for value in _as_list(statement.get(part, [])):
                match = re.fullmatch(r"\$\{local\.([A-Za-z0-9_]+)\}", value) if isinstance(value, str) else None
                if match and isinstance(config.locals.get(match.group(1)), list):
                    values += config.locals[match.group(1)]
                else:
                    values.append(value)
            expanded[part] = values
        found.append(expanded)
    return found


def _table_reference(resource: str) -> tuple[str, str] | None:
    """A table's resource as (table, what of it): `${aws_dynamodb_table.users.arn}` -> ("users", ""),
    `.../index/*` -> ("users", "@index"), `${aws_dynamodb_table.events.stream_arn}` -> ("events", "@stream")."""
    match = re.fullmatch(r"\$\{aws_dynamodb_table\.([a-z0-9_]+)\.(arn|stream_arn)\}(.*)", resource)
    if match is None:
        return None
    table, attribute, suffix = match.groups()
    if attribute == "stream_arn":
        return table, f"@stream{suffix}"
    return table, {"": "", "/index/*": "@index", "/stream/*": "@stream"}.get(suffix, f"@{suffix}")


def grants(config: Config, document: str) -> set[tuple[str, str]]:
    """(action, resource) pairs an Allow statement of the document grants, resources as written."""
    pairs = set()
    for statement in statements(config, document):
        if statement.get("effect", "Allow") != "Allow":
            continue
        for action in statement["actions"]:
            for resource in statement["resources"]:
                pairs.add((action, resource))
    return pairs


def wildcard_problems(config: Config, document: str) -> list[str]:
    """No wildcard actions (`dynamodb:*`, `*`), and no `*` resource: every name here is known."""
    problems = []
    for action, resource in sorted(grants(config, document)):
        if action == "*" or action.endswith(":*"):
            problems.append(f"policy {document}: wildcard action {action}")
        if resource == "*":
            problems.append(f"policy {document}: {action} on every resource (*), though the resource is known")
    return problems


def dynamodb_grants(config: Config, document: str) -> dict[str, set[str]]:
    """Table resource label -> the DynamoDB actions the document grants on it (or on its indexes, marked `@index`, or
    on its stream, `@stream`)."""
    found: dict[str, set[str]] = {}
    for action, resource in grants(config, document):
        if not action.startswith("dynamodb:"):
            continue
        reference = _table_reference(resource)
        if reference is None:
            found.setdefault(resource, set()).add(action)
            continue
        table, part = reference
        found.setdefault(table, set()).add(f"{action}{part}")
    return found


def expected_problems(config: Config, document: str, expected: dict[str, set[str]]) -> list[str]:
    """The document grants exactly `expected`: DynamoDB per table, other services by (action, resource)."""
    problems = wildcard_problems(config, document)
    actual = dynamodb_grants(config, document)
    for table in sorted(expected.keys() | actual.keys()):
        if table.startswith("other:"):
            continue
        missing = expected.get(table, set()) - actual.get(table, set())
        extra = actual.get(table, set()) - expected.get(table, set())
        if missing:
            problems.append(f"policy {document}: table {table} lacks {sorted(missing)}")
        if extra:
            problems.append(f"policy {document}: table {table} has more than it needs: {sorted(extra)}")
    others = {(action, resource) for action, resource in grants(config, document) if not action.startswith("dynamodb:")}
    wanted = {tuple(item.split(" on ", 1)) for item in expected.get("other:", set())}
    for action, resource in sorted(wanted - others):
        problems.append(f"policy {document}: lacks {action} on {resource}")
    for action, resource in sorted(others - wanted):
        problems.append(f"policy {document}: has more than it needs: {action} on {resource}")
    return problems


# --- One resource's settings --------------------------------------------------------------------------------------

_MISSING = object()


def _dig(body: dict, path: str):
    """`destination_config.on_failure.destination_arn`: down through nested blocks (each a list of one)."""
    value = body
    for part in path.split("."):
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def resource_problems(directory: Path, kind: str, label: str, expected: dict[str, object]) -> list[str]:
    """One resource has each of the `expected` settings as written (a dotted path reaches into nested blocks)."""
    body = load(directory).resources.get(kind, {}).get(label)
    if body is None:
        return [f"{kind}.{label}: not declared"]
    problems = []
    for path, wanted in expected.items():
        found = _dig(body, path)
        if found is _MISSING:
            problems.append(f"{kind}.{label}: {path} is not set, and must be {wanted!r}")
        elif found != wanted:
            problems.append(f"{kind}.{label}: {path} is {found!r}, not {wanted!r}")
    return problems


def jsonencoded(value: str):
    """What Terraform's `jsonencode({...})` of plain keys, strings, numbers and lists makes, as Python."""
    match = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", value, re.DOTALL)
    if match is None:
        raise ValueError(f"not a jsonencode(...): {value}")
    return json.loads(re.sub(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*=", r'\1"\2":', match.group(1)))


# --- CloudFront ---------------------------------------------------------------------------------------------------


def csp_problems(directory: Path, policy: str) -> list[str]:
    """Every CloudFront response headers policy sends `policy` (the app's) as its Content-Security-Policy."""
    config = load(directory)
    problems = []
    for label, body in sorted(config.resources.get("aws_cloudfront_response_headers_policy", {}).items()):
        headers = body.get("security_headers_config", [{}])[0].get("content_security_policy", [])
        if not headers:
            problems.append(f"response headers policy {label}: sends no Content-Security-Policy")
            continue
        sent = config.resolve(headers[0]["content_security_policy"], workspace="prod")
        if sent != policy:
            problems.append(
                f"response headers policy {label}: sends the Content-Security-Policy {sent!r}, not {policy!r}"
            )
    return problems
