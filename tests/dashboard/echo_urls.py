"""A URLconf for the Lambda handler tests: the real routes plus a view that echoes what reached Django."""

import hashlib

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from dashboard.urls import urlpatterns as real_urlpatterns


@csrf_exempt
def echo(request):
    return JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "query": request.GET.dict(),
            "content_type": request.content_type,
            "body_sha256": hashlib.sha256(request.body).hexdigest(),
            "cookie": request.COOKIES.get("probe"),
        }
    )


urlpatterns = [*real_urlpatterns, path("echo", echo)]
