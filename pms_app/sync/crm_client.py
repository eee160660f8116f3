"""Reading the CRM's digests and manifests over HTTP, for the reconciler.

One keep-alive ``requests.Session``; the CRM's ``API_TOKEN`` (``CRM_API_TOKEN`` here) as a
bearer token when set. Every request is counted, so a run can report what it cost. Any
answer but a well-formed 200 is a ``CrmSyncError`` naming what went wrong; the run fails and
says so, and changes nothing.
"""

from __future__ import annotations

from typing import Any

import requests

from core.sync import bucket_bounds

USER_AGENT = "guestsync-pms-reconcile/1"
# A digest of a million entities takes the CRM a few seconds; leave plenty of room.
TIMEOUT_SECONDS = 60.0


class CrmSyncError(Exception):
    """The CRM could not be read: unreachable, refused, or an answer of the wrong shape."""


class CrmSyncClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.requests = 0
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _get(self, path: str, params: dict) -> Any:
        url = self.base_url + path
        self.requests += 1
        try:
            response = self.session.get(url, params=params, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise CrmSyncError(f"the CRM could not be reached at {url}: {exc}") from None
        if response.status_code != 200:
            raise CrmSyncError(f"the CRM answered {response.status_code} to GET {path}: {_error_of(response)}")
        try:
            return response.json()
        except ValueError:
            raise CrmSyncError(f"the CRM's answer to GET {path} is not JSON") from None

    def digest(self, kind: str, from_id: int, to_id: int, buckets: int) -> list[dict]:
        body = self._get("/sync/digest", {"kind": kind, "from_id": from_id, "to_id": to_id, "buckets": buckets})
        data = body.get("data") if isinstance(body, dict) else None
        expected = bucket_bounds(from_id, to_id, buckets)
        if (
            not isinstance(data, list)
            or len(data) != len(expected)
            or any(
                not isinstance(b, dict)
                or (b.get("from_id"), b.get("to_id")) != bounds
                or not isinstance(b.get("count"), int)
                or not isinstance(b.get("hash"), str)
                for b, bounds in zip(data, expected, strict=True)
            )
        ):
            raise CrmSyncError(
                "the CRM's digest does not have the expected buckets (is it running the same version of Guestsync?)"
            )
        return data

    def manifest(self, kind: str, after: int, limit: int) -> tuple[list[dict], str | None]:
        body = self._get("/sync/manifest", {"kind": kind, "after": after, "limit": limit})
        data = body.get("data") if isinstance(body, dict) else None
        cursor = body.get("next_cursor") if isinstance(body, dict) else None
        if not isinstance(data, list) or any(
            not isinstance(r, dict)
            or not isinstance(r.get("id"), int)
            or not isinstance(r.get("version"), int)
            or not isinstance(r.get("deleted"), bool)
            for r in data
        ):
            raise CrmSyncError("the CRM's manifest is not a list of {id, version, deleted}")
        return data, cursor

    def close(self) -> None:
        self.session.close()


def _error_of(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason or "no body"
