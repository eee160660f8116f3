"""``python -m pms_app status``: every endpoint's health, one row each, with the same figures as
``GET /endpoints/health`` (the dashboard's endpoints page)."""

from __future__ import annotations

import argparse

from core.config import redact_url

from ..endpoints.models import Endpoint
from ..services.endpoint_health import all_health
from . import output
from .runtime import EXIT_OK, Context, command

COLUMNS = (
    "id",
    "name",
    "state",
    "breaker",
    "pending",
    "in_flight",
    "held",
    "failed",
    "oldest_pending",
    "ok_last_hour",
    "p95_last_hour",
    "last_success",
    "url",
)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "status",
        parents=[common],
        help="the health of every endpoint",
        description="The health of every endpoint, as the dashboard's endpoints page shows it: enabled or "
        "why not, the breaker (the worst of the live workers'), deliveries pending, in flight, "
        "held and failed, the age of the oldest one not yet delivered, the attempts of the last "
        "hour that succeeded and their 95th percentile duration, the last success.",
    )
    command(parser, status)


def _health_and_urls() -> tuple[list[dict], dict[int, str]]:
    urls = {endpoint_id: redact_url(url) for endpoint_id, url in Endpoint.select(Endpoint.id, Endpoint.url).tuples()}
    return all_health(), urls


def status(ctx: Context) -> int:
    entries, urls = ctx.call(_health_and_urls)
    if ctx.json:
        output.as_json({"data": entries, "next_cursor": None}, ctx.out)
    else:
        output.table(COLUMNS, (_row(entry, urls.get(entry["endpoint_id"])) for entry in entries), ctx.out)
    return EXIT_OK


def _row(entry: dict, url: str | None) -> tuple:
    breaker = entry["breaker"]
    deliveries = entry["deliveries"]
    last_hour = entry["last_hour"]
    return (
        entry["endpoint_id"],
        entry["name"],
        "enabled" if entry["enabled"] else f"disabled ({entry['disabled_reason']})",
        breaker["state"] if breaker["state"] == "closed" else f"{breaker['state']} ({breaker['failure_count']})",
        deliveries["pending"],
        deliveries["delivering"],
        deliveries["held"],
        deliveries["failed"],
        output.duration(entry["oldest_pending_age_seconds"]),
        f"{last_hour['succeeded']}/{last_hour['attempts']}" if last_hour["attempts"] else None,
        f"{last_hour['p95_ms']}ms" if last_hour["p95_ms"] is not None else None,
        output.ago(entry["last_success_at"]),
        url,
    )
