"""A bare Django project: the yardstick the app's cold start is measured against (bench/cold_start.py).

Packaged and started exactly as the app is (Zappa's handler, the same third-party packages from the app's own
zip), so what the app takes beyond it is the app's own: its settings, apps, middleware and first request.
"""
