"""Write infra/dynamodb.tf from the PynamoDB models, so Terraform declares exactly the tables the app uses.

    python -m devstack.terraform        # what `make infra-tables` runs; then review the diff

The tests hold the committed file against the models by parsing it (tests/infra/test_tables.py), so a model
changed without running this fails the suite. Every table is on-demand, with point-in-time recovery, encrypted
under the stage's data key, and protected from deletion; a model whose `Meta` names a `stream_view_type` gets its
DynamoDB Stream (infra/stream.tf reads the events table's).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "infra" / "dynamodb.tf"

HEADER = """\
# Generated from the PynamoDB models by `make infra-tables` (devstack/terraform.py): do not edit by hand.
# tests/infra/test_tables.py fails when a table here and its model differ.
"""


def _block(name: str, attributes: list[tuple[str, str]], indent: str) -> list[str]:
    """One HCL block with its `key = value` lines aligned as `terraform fmt` aligns them."""
    width = max(len(key) for key, _ in attributes)
    return [
        f"{indent}{name} {{",
        *[f"{indent}  {key.ljust(width)} = {value}" for key, value in attributes],
        f"{indent}}}",
    ]


def _quoted(value: str) -> str:
    return f'"{value}"'


def resource_name(short_name: str) -> str:
    """`workflow-cache` -> `workflow_cache`: the Terraform resource label of a table."""
    return short_name.replace("-", "_")


def render_table(spec, *, short_name: str, model_path: str) -> list[str]:
    lines = [f'resource "aws_dynamodb_table" "{resource_name(short_name)}" {{']
    head = [
        ("name", f'"${{local.table_prefix}}{short_name}"'),
        ("billing_mode", _quoted("PAY_PER_REQUEST")),
        ("hash_key", _quoted(spec.hash_key[0])),
    ]
    if spec.range_key:
        head.append(("range_key", _quoted(spec.range_key[0])))
    head.append(("deletion_protection_enabled", "true"))
    if spec.stream_view_type:
        head += [("stream_enabled", "true"), ("stream_view_type", _quoted(spec.stream_view_type))]
    width = max(len(key) for key, _ in head)
    lines += [f"  {key.ljust(width)} = {value}" for key, value in head]
    for attribute in spec.attribute_definitions():
        name, kind = _quoted(attribute["AttributeName"]), _quoted(attribute["AttributeType"])
        lines += ["", *_block("attribute", [("name", name), ("type", kind)], "  ")]
    for index in spec.indexes:
        attributes = [("name", _quoted(index.name)), ("hash_key", _quoted(index.hash_key[0]))]
        if index.range_key:
            attributes.append(("range_key", _quoted(index.range_key[0])))
        attributes.append(("projection_type", _quoted(index.projection)))
        lines += ["", *_block("global_secondary_index", attributes, "  ")]
    if spec.ttl_attribute:
        lines += ["", *_block("ttl", [("attribute_name", _quoted(spec.ttl_attribute)), ("enabled", "true")], "  ")]
    lines += ["", *_block("point_in_time_recovery", [("enabled", "true")], "  ")]
    lines += [
        "",
        *_block("server_side_encryption", [("enabled", "true"), ("kms_key_arn", "aws_kms_key.data.arn")], "  "),
    ]
    lines += ["", "  tags = {", f"    Model = {_quoted(model_path)}", "  }", "}"]
    return lines


def render(models, prefix: str) -> str:
    from dashboard.lib.tables import table_spec

    out = [HEADER]
    for model in models:
        spec = table_spec(model)
        short_name = spec.name.removeprefix(prefix)
        model_path = f"{model.__module__}.{model.__name__}"
        out.append("\n".join(render_table(spec, short_name=short_name, model_path=model_path)) + "\n")
    return "\n".join(out)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from django.conf import settings

    from dashboard.lib.dynamo import table_models

    OUTPUT.write_text(render(table_models(), settings.DYNAMODB_TABLE_PREFIX))
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(table_models())} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
