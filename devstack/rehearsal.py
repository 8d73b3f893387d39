"""The deploy rehearsal: first deploy, update and rollback of every stage against a local AWS API.

    python -m devstack.rehearsal            # what `make deploy-rehearsal` runs (and `make test`, through its tests)
    python -m devstack.rehearsal --observe  # IAM not enforced: only report the actions the deploy role used

No machine here reaches AWS. This runs the documented path as the pipeline runs it, against the AWS stand-in
(devstack/aws_stand_in.py: moto's server, plus what Zappa calls and moto lacks):

1. what Terraform makes first: the buckets, each function's role, the tables (the events table with its stream),
   the stream's failure queue, the stage's secrets and the queue's URL in SSM, the tokens key, and the pipeline's
   deploy role with the actions of `infra/iam.tf`'s deploy policy;
2. from then on moto checks every call against that policy (actions only: see "What it cannot tell");
3. as the deploy role: `release publish` and `release deploy` of a first release (every function created, each
   new version invoked with its checks, the `live` alias made), then of a second (updated, checked, promoted),
   then `release rollback` (the alias back);
4. what AWS then holds is read back and held to what it must be (functions, handlers, runtime, versions, aliases,
   environments without secrets, no schedule of Zappa's), and the actions the deploy role really used are the
   policy's own: nothing missing, nothing unused.

What it cannot tell: anything moto does not check. IAM is evaluated on actions only (moto matches Lambda, IAM and
EventBridge statements against `*`, so resource scoping and conditions are not exercised); role trust, iam:PassRole
and the functions' own roles are not evaluated (their calls are signed as an administrator; tests/infra/test_iam.py
holds those policies to the code instead); quotas (reserved concurrency, account limits) are not enforced; the
functions run on this machine's Python rather than Lambda's runtime; CloudFront serves nothing and API Gateway is
not rehearsed; nor is the events stream's source mapping (Terraform's, on the `live` alias: moto would invoke the
function through Docker), so the stream function is deployed, checked with an empty batch, promoted and rolled back
like the others, but no stream record reaches it here.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from contextlib import contextmanager
from pathlib import Path

from devstack import package, release
from devstack.dynamodb_local import free_port

ROOT = package.ROOT
STAND_IN_VENV = ROOT / ".venv-rehearsal"
REGION = release.REGION
ACCOUNT = "123456789012"  # moto's account
STAGES = ("dev", "prod")
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
# What AWS authorizes a call with besides its own action (AWS's service authorization reference): the role handed
# to a function, the zip read from S3, and the artifacts bucket's KMS key behind each object written or read.
IMPLIED = {
    "lambda:CreateFunction": {"iam:PassRole", "s3:GetObject"},
    "lambda:UpdateFunctionCode": {"s3:GetObject"},
    "lambda:UpdateFunctionConfiguration": {"iam:PassRole"},
    "s3:PutObject": {"kms:GenerateDataKey"},
    "s3:GetObject": {"kms:Decrypt"},
}
# Zappa asks PyPI whether it is the latest version on every command; here that request goes to a closed local
# port and fails at once, so the rehearsal never leaves the machine.
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"}
# Answered by AWS whatever the caller's policies say (its API reference: "No permissions are required"): the
# release script asks it for the account's id, which every bucket's name carries.
NEED_NO_PERMISSION = {"sts:GetCallerIdentity"}
# In the policy though no rehearsal call needs it, each with why.
NOT_EXERCISED = {
    "lambda:DeleteFunction": "Zappa deletes the versions past num_retained_versions (10); two releases do not reach it",
}


class RehearsalFailed(Exception):
    """What AWS holds after the rehearsal is not what a working deploy leaves."""


def say(message: str) -> None:
    print(f"[rehearsal] {message}", flush=True)


@contextmanager
def stand_in():
    """The AWS stand-in on a free port, for as long as the block runs."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="aws-stand-in-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [str(STAND_IN_VENV / "bin" / "python"), "-m", "devstack.aws_stand_in", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "LAMBDA_LOCAL_PYTHON": str(package.LAMBDA_VENV / "bin" / "python")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{endpoint}/_stand_in/calls"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RehearsalFailed(f"the AWS stand-in did not start: see {log.name}")
            time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def deploy_policy_actions() -> set[str]:
    """Every action of infra/iam.tf's deploy policy."""
    import hcl2

    with (ROOT / "infra" / "iam.tf").open() as source:
        parsed = hcl2.load(source, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
    for block in parsed["data"]:
        document = block.get("aws_iam_policy_document", {}).get("deploy")
        if document:
            return {action for statement in document["statement"] for action in statement["actions"]}
    raise RehearsalFailed("infra/iam.tf has no deploy policy document")


class Rehearsal:
    """One rehearsal against one stand-in: Terraform's part, then the pipeline's, as the deploy role."""

    def __init__(self, endpoint: str, *, project: Path = ROOT, policy: set[str] | None = None):
        self.endpoint = endpoint
        self.project = project
        self.policy = deploy_policy_actions() if policy is None else policy
        self.admin = self._env("terraform", "terraform")
        self.deployer: dict[str, str] = {}
        self.distributions: dict[str, str] = {}

    def _env(self, key: str, secret: str) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def client(self, service: str, env: dict[str, str] | None = None):
        import boto3

        env = env or self.admin
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    # What Terraform makes

    def terraform(self) -> None:
        """Buckets, roles, tables, secrets and keys of both stages; an administrator and the deploy role's user."""
        iam = self.client("iam")
        admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.create_user(UserName="terraform")
        iam.put_user_policy(UserName="terraform", PolicyName="admin", PolicyDocument=json.dumps(admin))
        key = iam.create_access_key(UserName="terraform")["AccessKey"]
        self.admin = self._env(key["AccessKeyId"], key["SecretAccessKey"])
        # The functions' own calls (SSM, DynamoDB) are signed with these: their roles' policies are not rehearsed.
        credentials = {name: self.admin[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        request = urllib.request.Request(
            f"{self.endpoint}/_stand_in/execution-credentials", data=json.dumps(credentials).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=10).close()
        for stage in STAGES:
            self._stage(stage)
        self.deployer = self.deploy_user("deploy", self.policy)

    def deploy_user(self, name: str, actions: set[str]) -> dict[str, str]:
        """A user with the deploy role's actions (moto checks actions against `*`, so resources are `*`)."""
        iam = self.client("iam")
        statement = {"Effect": "Allow", "Action": sorted(actions), "Resource": "*"}
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return self._env(key["AccessKeyId"], key["SecretAccessKey"])

    def _stage(self, stage: str) -> None:
        s3, iam, ssm, kms = (self.client(name) for name in ("s3", "iam", "ssm", "kms"))
        self.distributions[stage] = self._distribution(stage)
        for bucket in vars(release.Buckets.of(stage, ACCOUNT)).values():
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        for function in package.FUNCTIONS:
            role = release.SETTINGS[package.zappa_stage(stage, function)]["role_name"]
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
        environment = package.stage_environment(stage)
        subprocess.run(
            [sys.executable, "manage.py", "createtables"],
            cwd=ROOT,
            env={
                **self.admin,
                "PATH": os.environ["PATH"],
                "DYNAMODB_ENDPOINT_URL": self.endpoint,
                "DYNAMODB_TABLE_PREFIX": f"{release.PROJECT}-{stage}-",
            },
            check=True,
            capture_output=True,
        )
        key_id = kms.create_key(Description=f"tokens of {stage}")["KeyMetadata"]["KeyId"]
        for name, value in {**package.deployed_placeholders(), "TOKEN_KMS_KEY_ID": key_id}.items():
            ssm.put_parameter(Name=f"{environment['DASHBOARD_SSM_PATH']}{name}", Value=value, Type="SecureString")
        # The stream's failure queue, and its URL where Terraform puts it (infra/stream.tf, infra/parameters.tf).
        queue = self.client("sqs").create_queue(QueueName=f"{release.PROJECT}-{stage}-stream-failures")["QueueUrl"]
        ssm.put_parameter(
            Name=f"{environment['DASHBOARD_SSM_PATH']}STREAM_FAILURE_QUEUE_URL", Value=queue, Type="String"
        )

    def _distribution(self, stage: str) -> str:
        """The stage's CloudFront distribution (only what an invalidation needs of it)."""
        origin = f"{release.Buckets.of(stage, ACCOUNT).static}.s3.{REGION}.amazonaws.com"
        config = {
            "CallerReference": stage,
            "Comment": f"{release.PROJECT}-{stage}",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "static", "DomainName": origin, "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "static",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            },
        }
        return self.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]

    def enforce_iam(self) -> None:
        """From now on moto checks every call against its caller's policies."""
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(request, timeout=10).close()

    # What the pipeline does, as the deploy role

    def release(self, *arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`python -m devstack.release ARGUMENTS` as the pipeline's deploy job runs it (the packaging environment)."""
        return subprocess.run(
            [str(package.LAMBDA_VENV / "bin" / "python"), "-m", "devstack.release", *arguments],
            cwd=self.project,
            env={
                "PATH": os.environ["PATH"],
                "HOME": os.environ.get("HOME", "/root"),
                **OFFLINE,
                **(env or self.deployer),
            },
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def calls(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.endpoint}/_stand_in/calls", timeout=10) as answer:
            return json.loads(answer.read())

    def actions_used(self, env: dict[str, str] | None = None) -> set[str]:
        """The actions the deploy role's calls needed, with the ones AWS checks besides a call's own."""
        key = (env or self.deployer)["AWS_ACCESS_KEY_ID"]
        used = {call["action"] for call in self.calls() if call["key"] == key and call["action"]} - NEED_NO_PERMISSION
        return used | {implied for action in used for implied in IMPLIED.get(action, ())}

    # What AWS holds

    def holds(self, stage: str) -> dict[str, dict]:
        """Each function's configuration, versions and aliases, as AWS would answer."""
        lambda_client = self.client("lambda")
        held = {}
        for function in package.FUNCTIONS:
            name = release.function_name(stage, function)
            versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
            aliases = lambda_client.list_aliases(FunctionName=name)["Aliases"]
            held[function] = {
                "configuration": lambda_client.get_function_configuration(FunctionName=name),
                "versions": sorted(int(item["Version"]) for item in versions if item["Version"] != "$LATEST"),
                "aliases": {alias["Name"]: alias["FunctionVersion"] for alias in aliases},
            }
        return held


def variant(directory: Path, sha: str, new_sha: str) -> None:
    """Another release made of the same build (a marker file added to each zip): an update without a rebuild."""
    for function in package.FUNCTIONS:
        source, target = directory / release.zip_name(function, sha), directory / release.zip_name(function, new_sha)
        shutil.copy(source, target)
        with zipfile.ZipFile(target, "a") as archive:
            archive.writestr("RELEASE", new_sha)
    static = json.loads((directory / "manifest.json").read_text())["static"]["files"]
    manifest = release.manifest(new_sha, directory, static_files=static)
    (directory / f"manifest-{new_sha}.json").write_text(json.dumps(manifest, indent=2))


def use_release(directory: Path, sha: str) -> None:
    """Make `sha` the release `release publish` uploads from `directory`."""
    source = directory / f"manifest-{sha}.json"
    shutil.copy(source, directory / "manifest.json")


def build_releases(directory: Path, shas: tuple[str, str]) -> None:
    """The first release built for this machine's Python (the stand-in runs it), the second a variant of it."""
    first, second = shas
    built = release.build(first, directory=directory, local=True)
    (directory / f"manifest-{first}.json").write_text(json.dumps(built, indent=2))
    variant(directory, first, second)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise RehearsalFailed(message)


def verify(held: dict[str, dict], stage: str, *, live: str) -> None:
    """What AWS holds for a stage after a deploy: every function, as the settings say, `live` on the release."""
    secrets = set(package.deployed_placeholders()) | {"TOKEN_KMS_KEY_ID"}
    for function, state in held.items():
        settings = release.SETTINGS[package.zappa_stage(stage, function)]
        configuration = state["configuration"]
        expected_handler = settings.get("lambda_handler") or "handler.lambda_handler"
        expect(configuration["Handler"] == expected_handler, f"{function}: handler {configuration['Handler']}")
        expect(configuration["Runtime"] == package.lambda_runtime(), f"{function}: runtime {configuration['Runtime']}")
        environment = configuration.get("Environment", {}).get("Variables", {})
        expect(environment.get("DASHBOARD_STAGE") == stage, f"{function}: DASHBOARD_STAGE {environment}")
        expect(environment.get("DASHBOARD_DEPLOY", "").endswith("+00:00"), f"{function}: no deploy mark {environment}")
        snap_start = configuration.get("SnapStart", {}).get("ApplyOn")
        wanted = package.stage_setting(package.zappa_stage(stage, function), "snap_start", "None")
        expect(snap_start == wanted, f"{function}: SnapStart {snap_start}, not {wanted}")
        leaked = secrets & set(environment)
        expect(not leaked, f"{function}: secrets in its plain environment: {sorted(leaked)}")
        expect(state["aliases"].get("live") == state[live], f"{function}: live alias {state['aliases']}")


SHAS = ("1" * 40, "2" * 40)


def run(built: Path | None = None, *, enforce: bool = True) -> dict:
    """The whole rehearsal; what it found (raises RehearsalFailed on any departure).

    `built` is a directory `build_releases` filled (else they are built first). `enforce=False` lets every call
    through and only reports the actions used: how the policy is derived.
    """
    shas = SHAS
    if built is None:
        built = Path(tempfile.mkdtemp(prefix="rehearsal-")) / "release"
        say("building the release (for this machine's Python, which runs it here) ...")
        build_releases(built, shas)
    with stand_in() as endpoint:
        rehearsal = Rehearsal(endpoint)
        rehearsal.terraform()
        if enforce:
            rehearsal.enforce_iam()
        found = {}
        for stage in STAGES:
            found[stage] = rehearse_stage(rehearsal, built, stage, shas)
        used, policy = rehearsal.actions_used(), rehearsal.policy
        found["actions"] = {"missing": sorted(used - policy), "unused": sorted(policy - used - set(NOT_EXERCISED))}
        expect(used == policy - set(NOT_EXERCISED), f"the deploy policy is not the calls' own: {found['actions']}")
        say(f"the deploy role used exactly its policy's {len(policy)} actions")
    return found


def rehearse_stage(rehearsal: Rehearsal, directory: Path, stage: str, shas: tuple[str, str]) -> dict:
    """First deploy, update and rollback of one stage, each checked against what AWS then holds."""
    steps = {}
    for sha in shas:
        use_release(directory, sha)
        _release_ok(rehearsal, "publish", "--stage", stage, cwd_release=directory)
        _release_ok(rehearsal, "deploy", "--stage", stage, "--sha", sha)
        held = rehearsal.holds(stage)
        for state in held.values():
            state["newest"] = str(max(state["versions"]))
        verify(held, stage, live="newest")
        steps[sha] = {function: state["aliases"]["live"] for function, state in held.items()}
        say(f"{stage}: release {sha[:7]} live: {steps[sha]}")
    _release_ok(rehearsal, "invalidate", "--distribution", rehearsal.distributions[stage], "--reference", stage)
    _release_ok(rehearsal, "rollback", "--stage", stage)
    held = rehearsal.holds(stage)
    for function, state in held.items():
        expect(state["aliases"]["live"] == steps[shas[0]][function], f"{stage} {function}: not rolled back")
    say(f"{stage}: rolled back to {shas[0][:7]}")
    events = rehearsal.client("events").list_rules()["Rules"]
    expect(events == [], f"a schedule was made by the deploy (Terraform owns it): {events}")
    return steps


def _release_ok(rehearsal: Rehearsal, *arguments: str, cwd_release: Path | None = None) -> None:
    if cwd_release is not None:  # `publish` reads build/release/ of the project: point it at the rehearsal's
        arguments = (*arguments, "--directory", str(cwd_release))
    result = rehearsal.release(*arguments)
    if result.returncode != 0:
        raise RehearsalFailed(f"release {' '.join(arguments)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    try:
        found = run(enforce="--observe" not in arguments)
    except RehearsalFailed as failure:
        say(f"FAILED: {failure}")
        return 1
    say(json.dumps(found["actions"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
