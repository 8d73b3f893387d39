from django.urls import include, path

from dashboard import (
    converters,  # noqa: F401  (registers <name:...>)
    feeds,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("overview.json", feeds.overview_json, name="overview_json"),
    path("cctray.xml", feeds.cctray, name="cctray"),
    path("repos/<name:owner>/<name:repo>", views.repo_page, name="repo"),
    path("repos/<name:owner>/<name:repo>/insights", views.insights_page, name="insights"),
    path("repos/<name:owner>/<name:repo>/runs/<github_id:run_id>", views.run_page, name="run"),
    path(
        "repos/<name:owner>/<name:repo>/runs/<github_id:run_id>/<str:action>", views.run_action_page, name="run_action"
    ),
    path("", include("accounts.urls")),
    path("", include("runs.urls")),
    path("", include("webhooks.urls")),
    path("", include("realtime.urls")),
]

handler404 = "dashboard.errors.not_found"
handler500 = "dashboard.errors.server_error"
