"""Settings for Actions Dashboard, read from the environment.

Every variable is documented in the README's settings table (a test keeps the two in sync). Stages differ
only in their environment: `local` and `test` run with no configuration at all, `dev` and `prod` refuse to
start without the values production needs.
"""

import base64
import hashlib
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from dashboard.lib.env import envbool, envchoice, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

STAGES = ("local", "test", "dev", "prod")
STAGE = envchoice("DASHBOARD_STAGE", "local", STAGES)
IS_DEPLOYED = STAGE in ("dev", "prod")

# Deployed stages keep their secrets in SSM Parameter Store, loaded into the environment before anything reads it.
SSM_PATH = envstr("DASHBOARD_SSM_PATH")
if SSM_PATH:
    from dashboard.lib.parameters import export_parameters

    export_parameters(SSM_PATH, region=envstr("AWS_REGION", "eu-west-2"))

# Local stages get a fixed, obviously fake key so sessions survive restarts; deployed stages must bring one.
SECRET_KEY = envstr("DJANGO_SECRET_KEY", required=IS_DEPLOYED) or "local-only-insecure-key-never-used-when-deployed"
if IS_DEPLOYED and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")

DEBUG = envbool("DJANGO_DEBUG", STAGE == "local")
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", [] if IS_DEPLOYED else ["127.0.0.1", "localhost", "testserver"])
if IS_DEPLOYED and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names the app is served on.")

INSTALLED_APPS = [
    # Before staticfiles, so that dashboard's ASGI `runserver` replaces the WSGI one.
    "dashboard",
    "django.contrib.staticfiles",
    # auth and contenttypes give request.user, login() and CSRF; their ORM models are never queried.
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.messages",
    # allauth does the OAuth protocol only; users and tokens are kept in DynamoDB by accounts/.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "accounts",
    "runs",
    "webhooks",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dashboard.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.GitHubAuthorizationMiddleware",
    "dashboard.middleware.PrivateResponsesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.theme",
            ],
        },
    },
]

# No SQL database anywhere: every table lives in DynamoDB, reached through PynamoDB (dashboard/lib/dynamo.py).
DATABASES: dict = {}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "build" / "static"
# Deployed, static files carry a hash of their content in their names (collectstatic writes them to S3, and
# CloudFront serves them cached for a year); the names come from the manifest collectstatic leaves in
# STATIC_ROOT, which the Lambda package carries. Locally, files are served as they are edited.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        if IS_DEPLOYED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- DynamoDB ---------------------------------------------------------------------------------------------
# Short timeouts and few retries: a webhook must be answered within GitHub's 10 seconds, and one slow
# DynamoDB call must not eat that budget (PynamoDB's own defaults are 15 s + 30 s with 3 retries).
DYNAMODB_REGION = envstr("DYNAMODB_REGION", envstr("AWS_REGION", "eu-west-2"))
DYNAMODB_ENDPOINT_URL = envstr("DYNAMODB_ENDPOINT_URL", "" if IS_DEPLOYED else "http://127.0.0.1:8001")
DYNAMODB_TABLE_PREFIX = envstr("DYNAMODB_TABLE_PREFIX", f"actions-dashboard-{STAGE}-")
DYNAMODB_CONNECT_TIMEOUT = envfloat("DYNAMODB_CONNECT_TIMEOUT", 1.0, minimum=0.05, maximum=10)
DYNAMODB_READ_TIMEOUT = envfloat("DYNAMODB_READ_TIMEOUT", 2.0, minimum=0.05, maximum=10)
DYNAMODB_MAX_RETRIES = envint("DYNAMODB_MAX_RETRIES", 1, minimum=0, maximum=5)

# --- Users and sessions -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.GitHubUser"
AUTHENTICATION_BACKENDS = ["accounts.backends.GitHubBackend"]
LOGIN_URL = "/auth/github"
SESSION_ENGINE = "accounts.sessions"
# An absolute lifetime: a session ends this long after sign-in, however active it is.
SESSION_COOKIE_AGE = envint("SESSION_LIFETIME_SECONDS", 7 * 24 * 3600, minimum=300, maximum=30 * 24 * 3600)
# Lax, not Strict: the OAuth callback is a cross-site top-level GET that must carry the session.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
# `__Host-` cookies need Secure, which plain-HTTP local runs cannot give.
SESSION_COOKIE_NAME = "__Host-session" if IS_DEPLOYED else "dashboard_session"
CSRF_COOKIE_NAME = "__Host-csrftoken" if IS_DEPLOYED else "dashboard_csrftoken"

# --- GitHub ------------------------------------------------------------------------------------------------
# github.com, a GitHub Enterprise Server, or the local simulator (the default for local stages, see ghsim/).
GITHUB_URL = envstr("GITHUB_URL", "https://github.com" if IS_DEPLOYED else "http://127.0.0.1:8002").rstrip("/")
GITHUB_API_URL = "https://api.github.com" if GITHUB_URL == "https://github.com" else f"{GITHUB_URL}/api/v3"
# The simulator's defaults, so local runs need no configuration; deployed stages must bring the real ones.
GITHUB_CLIENT_ID = envstr("GITHUB_CLIENT_ID", required=IS_DEPLOYED) or "Iv1.local-dashboard"
GITHUB_CLIENT_SECRET = (
    envstr("GITHUB_CLIENT_SECRET", required=IS_DEPLOYED) or "ghsim-local-client-secret-not-a-real-secret"
)
GITHUB_TIMEOUT = envfloat("GITHUB_TIMEOUT", 5.0, minimum=0.5, maximum=30)
# The App itself, for installation tokens (server-side reads): its id and its private key (PEM, from SSM when
# deployed; locally the simulator writes its key to a file).
GITHUB_APP_ID = envint("GITHUB_APP_ID", 1, minimum=1)
GITHUB_APP_PRIVATE_KEY = envstr("GITHUB_APP_PRIVATE_KEY", required=IS_DEPLOYED)
GITHUB_APP_PRIVATE_KEY_PATH = envstr(
    "GITHUB_APP_PRIVATE_KEY_PATH", str(BASE_DIR / ".data" / "ghsim" / "app-private-key.pem")
)
if GITHUB_APP_PRIVATE_KEY and "-----BEGIN" not in GITHUB_APP_PRIVATE_KEY:
    raise ImproperlyConfigured("GITHUB_APP_PRIVATE_KEY must be the App's private key in PEM form.")
if IS_DEPLOYED and "GITHUB_APP_ID" not in os.environ:
    raise ImproperlyConfigured("The environment variable GITHUB_APP_ID must be set.")
# Webhook signatures; the previous secret is accepted too while a new one is rolled out.
GITHUB_WEBHOOK_SECRET = (
    envstr("GITHUB_WEBHOOK_SECRET", required=IS_DEPLOYED) or "ghsim-local-webhook-secret-not-a-real-secret"
)
GITHUB_WEBHOOK_SECRET_PREVIOUS = envstr("GITHUB_WEBHOOK_SECRET_PREVIOUS")

# --- Live updates --------------------------------------------------------------------------------------------------
# Locally, changes reach this process's sockets through realtime/hub.py, not a channel layer.
CHANNEL_LAYERS: dict = {}
# Stream /events (local ASGI), or answer with the events missed and let the browser reconnect (API Gateway
# cannot stream).
SSE_STREAM = envbool("SSE_STREAM", not IS_DEPLOYED)
# Deployed: the API Gateway WebSocket API's management endpoint (https://{api-id}.execute-api.{region}.amazonaws.com/
# {stage}). When set, changes reach sockets through it as well as this process's hub (realtime/fanout.py).
WEBSOCKET_API_ENDPOINT = envstr("WEBSOCKET_API_ENDPOINT")
# A connection gets at most one message this often, carrying every change since its last (realtime/coalesce.py);
# the first change after a quiet interval goes at once. 0 sends each batch of the stream as it comes.
REALTIME_COALESCE_SECONDS = envfloat("REALTIME_COALESCE_SECONDS", 1.0, minimum=0, maximum=60)

# --- The event pipeline (pipeline/) ---------------------------------------------------------------------------------
# Locally, the ASGI process reads the events table's stream from DynamoDB Local and calls the stream handler, as the
# event source mapping does deployed (pipeline/local.py). Off where nothing should read it (deployed functions).
STREAM_LOCAL_READER = envbool("STREAM_LOCAL_READER", not IS_DEPLOYED)
# How long the local reader waits between reads of a stream with nothing new (Lambda polls 4 times a second).
STREAM_POLL_SECONDS = envfloat("STREAM_POLL_SECONDS", 0.05, minimum=0.005, maximum=5)
# Where the local reader keeps how far it read each shard (positions.json) and the records its retries could not
# get through (failures.jsonl), beside DynamoDB Local's data.
STREAM_LOCAL_STATE_DIR = envstr("STREAM_LOCAL_STATE_DIR", str(BASE_DIR / ".data" / "stream"))
# Deployed: the SQS queue the event source mapping parks exhausted records in (infra/), read by `stream_replay`.
STREAM_FAILURE_QUEUE_URL = envstr("STREAM_FAILURE_QUEUE_URL")

# --- Runs ----------------------------------------------------------------------------------------------------------
# How far back a repository's runs are loaded the first time it is shown.
RUNS_BACKFILL_DAYS = envint("RUNS_BACKFILL_DAYS", 30, minimum=1, maximum=90)
# Reconciliation re-reads runs still unfinished this long after their last update.
RECONCILE_AFTER_MINUTES = envint("RECONCILE_AFTER_MINUTES", 10, minimum=1, maximum=24 * 60)

SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = GITHUB_TIMEOUT
SOCIALACCOUNT_PROVIDERS = {
    "github": {
        "OAUTH_PKCE_ENABLED": True,
        # allauth computes its GitHub URLs at import: this must be settled before django.setup().
        **({} if GITHUB_URL == "https://github.com" else {"GITHUB_URL": GITHUB_URL}),
    }
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = "login"
ACCOUNT_USER_MODEL_EMAIL_FIELD = None

# --- Token encryption --------------------------------------------------------------------------------------
# Deployed stages seal GitHub tokens with KMS envelope encryption; local stages with a key derived from SECRET_KEY.
TOKEN_KMS_KEY_ID = envstr("TOKEN_KMS_KEY_ID", required=IS_DEPLOYED)
TOKEN_LOCAL_KEY = base64.urlsafe_b64encode(hashlib.sha256(f"token-key:{SECRET_KEY}".encode()).digest())

# --- Security ---------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The Content-Security-Policy of every response (dashboard/middleware.py), in the shape of Django 6's setting of
# this name. The pages run only their own scripts and styles (no inline script, style or event handler anywhere),
# talk only to their own origin (fetch, /events, and the /ws socket: CSP 3's 'self' covers ws: and wss: to the
# same host, and deployed, CloudFront passes /ws on to the WebSocket API), show the user's GitHub avatar, and post
# forms only to themselves (signing in with GitHub is a link). CloudFront sends the same policy with what S3 serves
# (infra/cdn.tf); a test keeps the two equal.
# Avatars: github.com's come from their own host; GitHub Enterprise Server's (and the simulator's) from
# {GITHUB_URL}/avatars/, or from avatars.{host} when subdomain isolation is on.
_AVATARS = (
    ["https://avatars.githubusercontent.com"]
    if GITHUB_URL == "https://github.com"
    else [GITHUB_URL, GITHUB_URL.replace("://", "://avatars.", 1)]
)
SECURE_CSP = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", *_AVATARS],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
CSRF_COOKIE_HTTPONLY = True
if IS_DEPLOYED:
    # API Gateway terminates TLS and forwards the original scheme in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if not host.startswith(".")]

# --- Logging ----------------------------------------------------------------------------------------------
LOG_LEVEL = envchoice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
# Deployed, every line is one JSON object (dashboard/lib/logs.py: secrets masked, headers and bodies never printed)
# on stdout, which Lambda sends to CloudWatch Logs; metrics are lines in the embedded metric format
# (dashboard/lib/metrics.py), printed whatever LOG_LEVEL says. Locally, plain lines, and metrics stay quiet.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "dashboard.lib.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if IS_DEPLOYED else "plain",
            **({"stream": "ext://sys.stdout"} if IS_DEPLOYED else {}),
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "dashboard.lib.metrics": {"level": "INFO" if IS_DEPLOYED else "WARNING"},
        # botocore at DEBUG prints request headers, which carry signatures and tokens.
        "botocore": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
        # allauth logs OAuth errors with the provider's response, which can carry codes and tokens.
        "allauth": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
