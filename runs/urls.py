from django.urls import path

from dashboard import converters  # noqa: F401  (registers <name:...>)
from runs import openapi, views

urlpatterns = [
    path("api/user", views.user_detail, name="api_user"),
    path("api/repos", views.repo_list, name="api_repos"),
    path("api/repos/<name:owner>/<name:repo>", views.repo_runs, name="api_repo_runs"),
    path("api/repos/<name:owner>/<name:repo>/runs/<github_id:run_id>", views.run_detail, name="api_run"),
    path(
        "api/repos/<name:owner>/<name:repo>/runs/<github_id:run_id>/<str:action>",
        views.run_action,
        name="api_run_action",
    ),
    path("api/openapi.json", openapi.openapi_view, name="api_openapi"),
]
