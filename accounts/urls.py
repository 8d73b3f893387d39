from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/github", views.github_login, name="github_login"),
    # The name is allauth's: its OAuth client builds the redirect_uri by reversing "github_callback".
    path("auth/callback", views.github_callback, name="github_callback"),
    path("auth/logout", views.logout, name="logout"),
    path("auth/session", views.session_state, name="session_state"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/feed-token", views.feed_token, name="feed_token"),
    path("api/settings", views.settings_api, name="settings_api"),
]
