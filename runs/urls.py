from django.urls import path, register_converter

from runs import openapi, views


class NameConverter:
    """A GitHub owner or repository name (letters, digits, '-', '_' and '.')."""

    regex = r"[A-Za-z0-9_.-]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(NameConverter, "name")

urlpatterns = [
    path("api/user", views.user_detail, name="api_user"),
    path("api/repos", views.repo_list, name="api_repos"),
    path("api/repos/<name:owner>/<name:repo>", views.repo_runs, name="api_repo_runs"),
    path("api/repos/<name:owner>/<name:repo>/runs/<int:run_id>", views.run_detail, name="api_run"),
    path("api/repos/<name:owner>/<name:repo>/runs/<int:run_id>/<str:action>", views.run_action, name="api_run_action"),
    path("api/openapi.json", openapi.openapi_view, name="api_openapi"),
]
