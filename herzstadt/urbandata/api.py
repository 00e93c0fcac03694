"""The device registry's JSON API under ``/api/v1/`` (namespace ``api``).

- ``GET /api/v1/devices/`` — the city's devices; ``POST`` — provision one (201, ``Location``);
- ``GET|PUT|DELETE /api/v1/devices/<id>/`` — one device (PUT sends every field);
- ``GET /api/v1/dead-letters/?limit=`` — the newest rejected MQTT messages of the city.

Credentials: the key of an API client with the *admin* scope (``X-API-Key: hzk_…`` or
``Authorization: ApiKey …``) or its OAuth2 bearer token; the client's city is the one served.
Errors are RFC 7807 ProblemDetails (``application/problem+json``). No cookies, so no CSRF.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from herzstadt.core.models import City
from herzstadt.ngsi.auth import Scope
from herzstadt.urbandata import devices
from herzstadt.urbandata.models import ApiClient, DeadLetter, Device
from herzstadt.urbandata.verifier import SiteVerifier

MAX_BODY = 64 * 1024
PROBLEM = "https://herzstadt.org/problems/"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> HttpResponse:
    body = {"type": PROBLEM + title.lower().replace(" ", "-"), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/problem+json")


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def _city(request: HttpRequest) -> City | HttpResponse:
    """The city of the request's admin credential, or the error response."""
    key = request.headers.get("X-API-Key", "")
    auth = request.headers.get("Authorization", "")
    scheme, _sp, value = auth.partition(" ")
    principal = None
    verifier = SiteVerifier()
    if key:
        principal = verifier.authenticate("apikey", key.strip())
    elif scheme.lower() == "apikey" and value:
        principal = verifier.authenticate("apikey", value.strip())
    elif scheme.lower() == "bearer" and value:
        principal = verifier.authenticate("bearer", value.strip())
    if principal is None or not principal.client_id.startswith(ApiClient.AUDIT_PREFIX):
        response = problem(401, "Unauthorized", "An API client key or token is needed.")
        response["WWW-Authenticate"] = 'ApiKey realm="herzstadt", Bearer realm="herzstadt"'
        return response
    if Scope.ADMIN not in principal.scopes:
        return problem(403, "Forbidden", "The API client needs the admin scope.")
    pk = principal.client_id.removeprefix(ApiClient.AUDIT_PREFIX)
    client = ApiClient.objects.select_related("city").filter(pk=int(pk)).first()
    if client is None:
        return problem(401, "Unauthorized", "An API client key or token is needed.")
    return client.city


def _body(request: HttpRequest) -> Any | HttpResponse:
    if request.content_type != "application/json":
        return problem(415, "Unsupported media type", "Send application/json.")
    if len(request.body) > MAX_BODY:
        return problem(413, "Payload too large", f"At most {MAX_BODY} bytes.")
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return problem(400, "Bad request", "The body is not JSON.")


def _save(city: City, data: Any, instance: Device | None = None) -> Device | HttpResponse:
    try:
        device = devices.check(city, data, instance)
        device.save()
    except devices.DeviceError as e:
        return problem(400, "Bad request", str(e), errors=e.errors)
    except IntegrityError:
        return problem(409, "Conflict", "This city has such a device already.")
    return device


@csrf_exempt
def device_list(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    if isinstance(city, HttpResponse):
        return city
    if request.method in ("GET", "HEAD"):
        found = Device.objects.filter(city=city).order_by("device_id", "pk")
        return _json([devices.as_json(d) for d in found])
    if request.method != "POST":
        response = problem(405, "Method not allowed")
        response["Allow"] = "GET, HEAD, POST"
        return response
    data = _body(request)
    if isinstance(data, HttpResponse):
        return data
    device = _save(city, data)
    if isinstance(device, HttpResponse):
        return device
    response = _json(devices.as_json(device), 201)
    response["Location"] = f"{request.path}{device.pk}/"
    return response


@csrf_exempt
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    city = _city(request)
    if isinstance(city, HttpResponse):
        return city
    device = Device.objects.filter(city=city, pk=pk).first()
    if device is None:
        return problem(404, "Not found", "No such device in this city.")
    if request.method in ("GET", "HEAD"):
        return _json(devices.as_json(device))
    if request.method == "DELETE":
        device.delete()
        return HttpResponse(status=204)
    if request.method != "PUT":
        response = problem(405, "Method not allowed")
        response["Allow"] = "GET, HEAD, PUT, DELETE"
        return response
    data = _body(request)
    if isinstance(data, HttpResponse):
        return data
    saved = _save(city, data, device)
    if isinstance(saved, HttpResponse):
        return saved
    return _json(devices.as_json(saved))


@csrf_exempt
def dead_letters(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    if isinstance(city, HttpResponse):
        return city
    if request.method not in ("GET", "HEAD"):
        response = problem(405, "Method not allowed")
        response["Allow"] = "GET, HEAD"
        return response
    try:
        limit = int(request.GET.get("limit", "100"))
    except ValueError:
        return problem(400, "Bad request", "limit must be a number.")
    if not 1 <= limit <= 1000:
        return problem(400, "Bad request", "limit is 1 to 1000.")
    found = DeadLetter.objects.filter(city=city).order_by("-received_at", "-pk")[:limit]
    return _json(
        [
            {
                "receivedAt": d.received_at.isoformat(),
                "topic": d.topic,
                "deviceId": d.device_id,
                "reason": d.reason,
                "payload": d.payload,
            }
            for d in found
        ]
    )
