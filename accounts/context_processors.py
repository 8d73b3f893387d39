def theme(request):
    """The user's theme, remembered in the session so a page costs no extra DynamoDB read for it."""
    session = getattr(request, "session", None)
    return {"theme": session.get("theme", "system") if session is not None else "system"}
