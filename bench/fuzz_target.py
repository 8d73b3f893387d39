"""atheris target: the webhook receiver's verify-and-parse path must refuse anything, and never fail otherwise.

A third of the inputs fuzz every header; the others carry GitHub's headers with a fuzzed signature, or a correct
signature over the fuzzed body, so the fuzzer also reaches the JSON parsing and the depth check behind the
signature. Any exception but `Refused` is a crash.
"""

import contextlib
import hashlib
import hmac
import sys

import atheris

with atheris.instrument_imports():
    from webhooks.verify import Refused, verified_delivery

SECRET = "fuzzing-secret"  # noqa: S105 (a fixed key for the fuzz run, protecting nothing)


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 2)
    content_type = fdp.PickValueInList(["application/json", "application/json; charset=utf-8", "text/plain", ""])
    if mode == 0:  # everything fuzzed: the header checks
        event = fdp.ConsumeUnicodeNoSurrogates(20)
        delivery = fdp.ConsumeUnicodeNoSurrogates(40)
        signature = fdp.ConsumeUnicodeNoSurrogates(80)
    else:  # GitHub's headers, so the signature check (mode 2) or, correctly signed, the parser (mode 1) is reached
        event, delivery = "workflow_run", "72d3162e-cc78-11e3-81ab-4c9367dc0958"
        signature = fdp.ConsumeUnicodeNoSurrogates(80) if mode == 2 else ""
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    if mode == 1:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature}
    with contextlib.suppress(Refused):
        verified_delivery(headers=headers, content_type=content_type, body=body, secrets=[SECRET])


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
