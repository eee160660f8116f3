"""Async clients for the PMS and CRM JSON APIs (the dashboard's only data source).

One ``ServiceClient`` per service wraps Tornado's ``AsyncHTTPClient`` with the service's
``/api/v1`` base, its bearer token and a timeout. Every failure becomes one of three narrow
errors so pages can say plainly what went wrong without ever showing a token or a traceback:
``ServiceUnavailable`` (unreachable, timed out, 5xx, or our token refused), ``ServiceNotFound``
(404) and ``ServiceRejected`` (any other 4xx, with the service's message).

Every action sent to the PMS names the operator who asked for it in ``X-Operator``; the
handler passes the signed-in operator's name explicitly on each call.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from collections.abc import Mapping
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .links import segment

log = logging.getLogger("guestsync.dashboard.clients")

CRM_ENDPOINT = 1  # the CRM: part one's delivery routes are its view


class ServiceError(Exception):
    def __init__(self, service: str, message: str, status: int | None = None):
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status = status


class ServiceUnavailable(ServiceError):
    """The service could not answer usefully (down, timed out, 5xx, or refused our token)."""


class ServiceNotFound(ServiceError):
    """The service answered 404 for the thing asked for."""


class ServiceRejected(ServiceError):
    """The service refused the request (4xx other than 404), for example a bad filter;
    ``details`` are the service's ``[{"field", "message"}]`` when it gave any."""

    def __init__(self, service: str, message: str, status: int | None = None, details: list | None = None):
        super().__init__(service, message, status)
        self.details = details or []


def _error_message(body: bytes) -> str | None:
    try:
        error = json.loads(body)["error"]
        return str(error.get("message") or error.get("code"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _error_details(body: bytes) -> list[dict]:
    """The ``[{"field", "message"}]`` of a validation error, as strings."""
    try:
        details = json.loads(body)["error"].get("details") or []
        return [
            {"field": str(d.get("field", "")), "message": str(d.get("message", ""))}
            for d in details
            if isinstance(d, dict)
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


class ServiceClient:
    """JSON requests to one service's API."""

    def __init__(self, name: str, api_base: str, token: str | None, http: AsyncHTTPClient, timeout: float = 5.0):
        self.name = name
        self.api_base = api_base.rstrip("/")
        self._token = token
        self._http = http
        self.timeout = timeout

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        return self.api_base + path + ("?" + urlencode(query) if query else "")

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        headers = {"Accept": "application/json", **(headers or {})}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None
        if method in ("POST", "PUT"):
            data = json.dumps(body if body is not None else {}).encode()
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(
            self.url(path, params),
            method=method,
            headers=headers,
            body=data,
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        try:
            response = await self._http.fetch(request, raise_error=False)
        except HTTPClientError as exc:  # timeouts surface as 599 errors
            raise ServiceUnavailable(self.name, f"did not answer ({exc.message})") from None
        except OSError as exc:
            raise ServiceUnavailable(self.name, f"is unreachable ({exc.strerror or exc})") from None
        return self._decode(response)

    def _decode(self, response) -> Any:
        code = response.code
        if code == 599:
            reason = str(response.error) if response.error else "no response"
            raise ServiceUnavailable(self.name, f"is unreachable ({reason})")
        if code in (401, 403):
            raise ServiceUnavailable(
                self.name, "refused the dashboard's API token (check the dashboard's API token settings)", code
            )
        if code == 404:
            raise ServiceNotFound(self.name, _error_message(response.body) or "not found", code)
        if 400 <= code < 500:
            raise ServiceRejected(
                self.name, _error_message(response.body) or f"answered {code}", code, _error_details(response.body)
            )
        if code >= 300 or code < 200:
            detail = _error_message(response.body)
            raise ServiceUnavailable(self.name, f"answered {code}" + (f": {detail}" if detail else ""), code)
        if not response.body:
            return None
        try:
            return json.loads(response.body)
        except ValueError:
            raise ServiceUnavailable(self.name, "answered with something that is not JSON", code) from None

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.request("GET", path, params)

    async def post(self, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        return await self.request("POST", path, body=body, headers=headers)

    async def put(self, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        return await self.request("PUT", path, body=body, headers=headers)


def operator_header(operator: str) -> dict[str, str]:
    """``X-Operator`` for an action; refuses a name that could not travel in a header."""
    if not operator or not operator.isascii() or not operator.isprintable() or len(operator) > 64:
        raise ValueError(f"not an operator name: {operator!r}")
    return {"X-Operator": operator}


class PmsClient(ServiceClient):
    async def status(self) -> dict:
        return (await self.get("/guests/webhook/status"))["data"]

    async def deliveries(self, **params: Any) -> dict:
        return await self.get("/webhooks/deliveries", params)

    async def breaker_transitions(self, **params: Any) -> dict:
        return await self.get("/guests/webhook/transitions", params)

    async def delivery(self, delivery_id: str) -> dict:
        return (await self.get(f"/webhooks/deliveries/{segment(delivery_id)}"))["data"]

    async def replay(self, delivery_id: str, operator: str) -> Any:
        return await self.post(f"/webhooks/deliveries/{segment(delivery_id)}/replay", headers=operator_header(operator))

    async def replay_failed(self, operator: str) -> int:
        body = await self.post("/webhooks/deliveries/replay", headers=operator_header(operator))
        data = (body or {}).get("data") or {}
        return int(data.get("replayed") or 0)

    async def notifications(self, **params: Any) -> dict:
        """Operational notifications: newest first, or ascending after ``since_id``."""
        return await self.get("/notifications", params)

    async def endpoints_activity(self) -> dict:
        """Every endpoint's breaker, counts and attempts (per minute too) over the last hour."""
        return (await self.get("/endpoints/activity"))["data"]

    async def sync_runs(self, **params: Any) -> dict:
        """Reconciliation runs, newest first."""
        return await self.get("/sync/runs", params)

    async def audit(self, **params: Any) -> dict:
        """Operator actions, newest first (``operator``, ``action``, ``cursor``, ``limit``)."""
        return await self.get("/audit", params)

    # --- endpoints (every route names the endpoint by its integer id) -----------------------

    async def endpoints(self, **params: Any) -> dict:
        return await self.get("/endpoints", params)

    async def endpoints_health(self, **params: Any) -> dict:
        return await self.get("/endpoints/health", params)

    async def endpoint(self, endpoint_id: int) -> dict:
        return (await self.get(f"/endpoints/{segment(endpoint_id)}"))["data"]

    async def create_endpoint(self, values: dict, operator: str) -> dict:
        """The new endpoint, with its ``secret`` (the one answer that ever shows it)."""
        return (await self.post("/endpoints", values, headers=operator_header(operator)))["data"]

    async def update_endpoint(self, endpoint_id: int, values: dict, operator: str) -> dict:
        return (await self.put(f"/endpoints/{segment(endpoint_id)}", values, headers=operator_header(operator)))["data"]

    async def endpoint_action(self, endpoint_id: int, action: str, operator: str, body: Any = None) -> dict:
        """``enable``, ``disable``, ``test`` or ``secret/rotate``: the ``data`` of the answer."""
        if action not in ("enable", "disable", "test", "secret/rotate"):
            raise ValueError(f"not an endpoint action: {action!r}")
        answer = await self.post(f"/endpoints/{segment(endpoint_id)}/{action}", body, headers=operator_header(operator))
        return (answer or {}).get("data") or {}

    async def endpoint_transitions(self, endpoint_id: int, **params: Any) -> dict:
        return await self.get(f"/endpoints/{segment(endpoint_id)}/transitions", params)

    # Endpoint 1 (the CRM) is read through part one's routes, which every PMS serves; any
    # other endpoint through its own routes.

    def _deliveries_path(self, endpoint_id: int) -> str:
        return (
            "/webhooks/deliveries" if endpoint_id == CRM_ENDPOINT else f"/endpoints/{segment(endpoint_id)}/deliveries"
        )

    async def endpoint_deliveries(self, endpoint_id: int, **params: Any) -> dict:
        """One page of the endpoint's deliveries (every list filter, ``id_prefix`` included)."""
        return await self.get(self._deliveries_path(endpoint_id), params)

    async def endpoint_deliveries_count(self, endpoint_id: int, **params: Any) -> int:
        body = await self.get(self._deliveries_path(endpoint_id) + "/count", params)
        return int(((body or {}).get("data") or {}).get("count") or 0)

    async def endpoint_delivery(self, endpoint_id: int, delivery_id: str) -> dict:
        """One delivery by its id or an unambiguous prefix (409, ``ServiceRejected``, when not)."""
        return (await self.get(f"{self._deliveries_path(endpoint_id)}/{segment(delivery_id)}"))["data"]

    async def endpoint_replay(self, endpoint_id: int, delivery_id: str, operator: str) -> dict:
        answer = await self.post(
            f"{self._deliveries_path(endpoint_id)}/{segment(delivery_id)}/replay", headers=operator_header(operator)
        )
        return (answer or {}).get("data") or {}

    async def endpoint_replay_many(self, endpoint_id: int, operator: str, since: str | None = None) -> int:
        """Every failed delivery of the endpoint again, or with ``since`` every one created since."""
        body = await self.post(
            f"/endpoints/{segment(endpoint_id)}/deliveries/replay",
            {"since": since} if since else {},
            headers=operator_header(operator),
        )
        return int(((body or {}).get("data") or {}).get("replayed") or 0)


class CrmClient(ServiceClient):
    async def events(self, **params: Any) -> dict:
        return await self.get("/events", params)

    async def event(self, event_id: int) -> dict:
        return (await self.get(f"/events/{segment(event_id)}"))["data"]

    async def profiles(self, **params: Any) -> dict:
        return await self.get("/guest-profiles", params)

    async def profile(self, guest_id: int) -> dict:
        return (await self.get(f"/guest-profiles/{segment(guest_id)}"))["data"]

    async def rejections(self, **params: Any) -> dict:
        return await self.get("/webhooks/rejections", params)

    async def rejections_summary(self, **params: Any) -> dict:
        return (await self.get("/webhooks/rejections/summary", params))["data"]


class Services:
    """The two clients and the HTTP client they share; owned by the app, closed on stop."""

    def __init__(self, pms: PmsClient, crm: CrmClient, http: AsyncHTTPClient):
        self.pms = pms
        self.crm = crm
        self.http = http

    @classmethod
    def from_settings(cls, settings) -> Services:
        http = AsyncHTTPClient(force_instance=True, max_clients=32)
        timeout = settings.request_timeout_seconds
        return cls(
            PmsClient("PMS", settings.pms_api, settings.pms_api_token, http, timeout),
            CrmClient("CRM", settings.crm_api, settings.crm_api_token, http, timeout),
            http,
        )

    def close(self) -> None:
        self.http.close()
