"""The minimum Django needs to serve one URL: no database, no apps, no middleware, DEBUG off.

The host comes from the same environment the app's function gets (DJANGO_ALLOWED_HOSTS), so one event serves both.
Translations are off as in the app (the package carries no translation files).
"""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "bare-django-benchmark-only-never-deployed"
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "bare.invalid").split(",")
ROOT_URLCONF = "bare_django.urls"
DATABASES: dict = {}
INSTALLED_APPS: list = []
MIDDLEWARE: list = []
USE_I18N = False
