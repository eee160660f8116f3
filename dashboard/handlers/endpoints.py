"""``/endpoints`` (every endpoint's health at a glance), ``/endpoints/new`` and ``/endpoints/:id``
(edit, enable/disable, rotate the secret, send a test ping, its deliveries, its breaker history).

Every change is a POST (XSRF-protected) sent to the PMS in the signed-in operator's name, which
redirects back with a flash message; a form the PMS refuses is shown again with its messages
beside the fields. A new secret (at creation and at rotation) is shown on the answer to that
POST and never again: it is not put in a cookie, a flash message or a URL.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ..clients import ServiceNotFound, ServiceRejected, ServiceUnavailable
from ..links import segment
from .base import PageHandler, rejection_text
from .deliveries import delivery_link

ENDPOINT_ID = r"([0-9]{1,18})"
_SPLIT = re.compile(r"[\s,]+")
TEXT_FIELDS = ("name", "url", "description")
NUMBER_FIELDS = ("timeout_seconds", "rate_limit_per_second")


def number_or_text(raw: str) -> Any:
    """A number typed in a form; anything else goes as typed, for the PMS to refuse by name."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    return int(value) if value.is_integer() else value


def endpoint_values(form: dict[str, str], creating: bool) -> dict:
    """The form as the endpoints API wants it. Empty numbers mean the service default (left out
    at creation, ``null`` on an edit); the URL is left out of an edit when it is the one shown,
    since the one shown has its password masked."""
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = form.get(name, "").strip()
        if name == "url" and not creating and value == form.get("url_shown", ""):
            continue
        if value or name == "description":
            values[name] = value or None
    values["event_types"] = [t for t in _SPLIT.split(form.get("event_types", "")) if t]
    for name in NUMBER_FIELDS:
        raw = form.get(name, "").strip()
        if raw:
            values[name] = number_or_text(raw)
        elif not creating:
            values[name] = None
    if creating:
        values["enabled"] = form.get("enabled", "") == "1"
    return values


def field_errors(exc: ServiceRejected) -> dict[str, str]:
    return {d["field"]: d["message"] for d in exc.details if d.get("field")}


class EndpointsHandler(PageHandler):
    async def get(self) -> None:
        pms = self.services.pms
        listed, health = await asyncio.gather(
            self.fetch_optional(pms.endpoints(limit=500), False), self.fetch_optional(pms.endpoints_health(limit=500))
        )
        unsupported = listed is False
        if unsupported:
            self.add_banner(
                "PMS",
                "This PMS has no endpoints (it is older than this dashboard): it delivers to the CRM only.",
                level="warn",
            )
            listed = None
        by_id = {h.get("endpoint_id"): h for h in (health or {}).get("data") or []}
        self.render_page(
            "endpoints.html",
            title="Endpoints",
            endpoints=listed.get("data") if listed else None,
            health=by_id,
            health_missing=health is None,
            unsupported=unsupported,
        )


class EndpointFormPage(PageHandler):
    def form_args(self) -> dict[str, str]:
        names = (*TEXT_FIELDS, "url_shown", "event_types", *NUMBER_FIELDS, "enabled")
        return {name: self.get_argument(name, "")[:4000] for name in names}


class NewEndpointHandler(EndpointFormPage):
    def get(self) -> None:
        self.render_page("endpoint_form.html", title="New endpoint", form={"enabled": "1"}, errors={})

    async def post(self) -> None:
        form = self.form_args()
        try:
            created = await self.services.pms.create_endpoint(
                endpoint_values(form, creating=True), operator=self.current_user
            )
        except ServiceRejected as exc:
            self.add_banner(
                exc.service, f"The {exc.service} refused this endpoint: {rejection_text(exc)}", level="warn"
            )
            self.render_page(
                "endpoint_form.html",
                status_code=exc.status or 422,
                title="New endpoint",
                form=form,
                errors=field_errors(exc),
            )
            return
        except (ServiceUnavailable, ServiceNotFound) as exc:
            self.add_banner(exc.service, f"The {exc.service} {exc.message}: nothing was created.")
            self.render_page("endpoint_form.html", status_code=503, title="New endpoint", form=form, errors={})
            return
        self.render_page(
            "endpoint_secret.html",
            status_code=201,
            title=f"Endpoint {created.get('name')} created",
            endpoint=created,
            secret=created.get("secret"),
            created=True,
        )


class EndpointHandler(EndpointFormPage):
    async def get(self, endpoint_id: str) -> None:
        await self.show(int(endpoint_id))

    async def show(self, endpoint_id: int, form: dict | None = None, errors: dict | None = None) -> None:
        pms = self.services.pms
        try:
            endpoint = await pms.endpoint(endpoint_id)
        except ServiceNotFound:
            self.render_page(
                "endpoint.html",
                status_code=404,
                title=f"Endpoint {endpoint_id}",
                endpoint=None,
                endpoint_id=endpoint_id,
            )
            return
        except (ServiceUnavailable, ServiceRejected) as exc:
            self.add_banner(
                exc.service, f"The {exc.service} {exc.message}, so this endpoint cannot be shown right now."
            )
            self.render_page("endpoint.html", title=f"Endpoint {endpoint_id}", endpoint=None, endpoint_id=endpoint_id)
            return
        health, transitions, recent = await asyncio.gather(
            self.fetch_optional(pms.endpoints_health(limit=500)),
            self.fetch_optional(pms.endpoint_transitions(endpoint_id, limit=20)),
            self.fetch(pms.endpoint_deliveries(endpoint_id, limit=10)),
        )
        mine = next((h for h in (health or {}).get("data") or [] if h.get("endpoint_id") == endpoint_id), None)
        shown = form or {
            "name": endpoint.get("name") or "",
            "url": endpoint.get("url") or "",
            "description": endpoint.get("description") or "",
            "event_types": ", ".join(endpoint.get("event_types") or []),
            "timeout_seconds": endpoint.get("timeout_seconds") or "",
            "rate_limit_per_second": endpoint.get("rate_limit_per_second") or "",
        }
        shown["url_shown"] = endpoint.get("url") or ""
        self.render_page(
            "endpoint.html",
            status_code=422 if errors else None,
            title=f"Endpoint {endpoint.get('name')}",
            endpoint=endpoint,
            endpoint_id=endpoint_id,
            health=mine,
            form=shown,
            errors=errors or {},
            transitions=(transitions or {}).get("data") if transitions is not None else None,
            deliveries=(recent or {}).get("data") if recent is not None else None,
            here=self.request.path,
            delivery_link=delivery_link,
        )

    async def post(self, endpoint_id: str) -> None:
        form = self.form_args()
        try:
            await self.services.pms.update_endpoint(
                int(endpoint_id), endpoint_values(form, creating=False), operator=self.current_user
            )
        except ServiceRejected as exc:
            self.add_banner(
                exc.service, f"The {exc.service} refused these changes: {rejection_text(exc)}", level="warn"
            )
            await self.show(int(endpoint_id), form=form, errors=field_errors(exc))
            return
        except (ServiceUnavailable, ServiceNotFound) as exc:
            self.flash("bad", f"Not saved: the {exc.service} {exc.message}.")
        else:
            self.flash("good", "Saved.")
        self.redirect("/endpoints/" + segment(endpoint_id))


ACTION_MESSAGES = {
    "enable": "Enabled: what was held is being sent, oldest first.",
    "disable": "Disabled: new deliveries to it are held until it is enabled again.",
}


class EndpointActionHandler(PageHandler):
    """``enable`` and ``disable``: act, then back to the endpoint with a flash message."""

    async def post(self, endpoint_id: str, action: str) -> None:
        try:
            await self.services.pms.endpoint_action(int(endpoint_id), action, operator=self.current_user)
            self.flash("good", ACTION_MESSAGES[action])
        except (ServiceUnavailable, ServiceRejected, ServiceNotFound) as exc:
            self.flash("bad", f"Not done: the {exc.service} {exc.message}.")
        self.redirect("/endpoints/" + segment(endpoint_id))


class PingHandler(PageHandler):
    async def post(self, endpoint_id: str) -> None:
        try:
            attempt = await self.services.pms.endpoint_action(int(endpoint_id), "test", operator=self.current_user)
        except (ServiceUnavailable, ServiceRejected, ServiceNotFound) as exc:
            self.flash("bad", f"No test ping sent: the {exc.service} {exc.message}.")
        else:
            code, took = attempt.get("status_code"), attempt.get("duration_ms")
            if code is not None and 200 <= code < 300:
                self.flash("good", f"Test ping delivered: the endpoint answered {code} in {took} ms.")
            elif code is not None:
                self.flash(
                    "bad",
                    f"Test ping failed: the endpoint answered {code} in {took} ms"
                    f"{': ' + attempt['error'] if attempt.get('error') else ''}.",
                )
            else:
                self.flash("bad", f"Test ping failed: {attempt.get('error') or 'no answer'}.")
        self.redirect("/endpoints/" + segment(endpoint_id))


class RotateSecretHandler(PageHandler):
    async def post(self, endpoint_id: str) -> None:
        raw = (self.get_argument("overlap_seconds", "") or "").strip()
        body = {"overlap_seconds": number_or_text(raw)} if raw else {}
        try:
            answer = await self.services.pms.endpoint_action(
                int(endpoint_id), "secret/rotate", operator=self.current_user, body=body
            )
        except (ServiceUnavailable, ServiceRejected, ServiceNotFound) as exc:
            text = rejection_text(exc) if isinstance(exc, ServiceRejected) else exc.message
            self.flash("bad", f"No new secret: the {exc.service} {text}.")
            self.redirect("/endpoints/" + segment(endpoint_id))
            return
        # The secret exists now: show it even if the endpoint cannot be read back.
        endpoint = await self.fetch(self.services.pms.endpoint(int(endpoint_id)), {"id": int(endpoint_id)})
        self.render_page(
            "endpoint_secret.html",
            title=f"New secret for {endpoint.get('name')}",
            endpoint=endpoint,
            secret=answer.get("secret"),
            created=False,
            overlap_seconds=body.get("overlap_seconds", 86400),
        )


default_handlers = [
    (r"/endpoints", EndpointsHandler),
    (r"/endpoints/new", NewEndpointHandler),
    (r"/endpoints/" + ENDPOINT_ID, EndpointHandler),
    (r"/endpoints/" + ENDPOINT_ID + r"/(enable|disable)", EndpointActionHandler),
    (r"/endpoints/" + ENDPOINT_ID + r"/test", PingHandler),
    (r"/endpoints/" + ENDPOINT_ID + r"/rotate", RotateSecretHandler),
]
