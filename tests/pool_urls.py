"""Views for the connection-pool tests: each holds a database connection for a while."""

from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path


def slow(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.2)")
    return HttpResponse("done")


def stream(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.1)")

    async def body():
        yield b"part one\n" * 1000
        yield b"part two\n" * 1000

    return StreamingHttpResponse(body())


urlpatterns = [path("slow", slow), path("stream", stream)]

handler500 = "herzstadt.web.views.server_error"
