"""A one-file Django resource server that trusts a JWKS through djangorestframework-simplejwt's JWK_URL.

Usage: /usr/bin/python3 simplejwt-resource-server.py JWKS_URL ALGORITHM
Listens on 127.0.0.1, on a free port it prints as its first line ("port 12345"), and serves GET /hello/ behind
simplejwt's JWTStatelessUserAuthentication (no database): 200 {"user_id": ...} or simplejwt's 401 body.
Needs Debian's python3-djangorestframework-simplejwt (scripts/provision.mjs installs it). Stop it with SIGTERM.
"""
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django
from django.conf import settings

jwks_url, algorithm = sys.argv[1], sys.argv[2]

settings.configure(
    DEBUG=False,
    SECRET_KEY="resource-server-test-only-not-a-jwt-key",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={},
    MIDDLEWARE=[],
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "UNAUTHENTICATED_USER": None,
    },
    SIMPLE_JWT={"ALGORITHM": algorithm, "JWK_URL": jwks_url, "SIGNING_KEY": None, "VERIFYING_KEY": None},
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class Hello(APIView):
    def get(self, request):
        return Response({"user_id": request.user.id})


urlpatterns = [path("hello/", Hello.as_view())]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
print(f"port {server.server_port}", flush=True)
server.serve_forever()
