"""``python -m pms_app status``: the webhook status of every endpoint, one row each."""

from __future__ import annotations

import argparse

from ..services.endpoint_overview import overview
from ..services.outbox_counts import OutboxCounts
from . import output
from .runtime import EXIT_OK, Context, command

COLUMNS = ("id", "name", "state", "breaker", "pending", "in_flight", "held", "failed", "oldest_pending",
           "ok_last_hour", "last_success", "url")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "status", parents=[common], help="the webhook status of every endpoint",
        description="The webhook status of every endpoint: enabled or why not, the breaker (the worst of "
                    "the live workers'), deliveries pending, in flight, held and failed, the age of the "
                    "oldest pending one, the attempts of the last hour that succeeded, the last success.")
    command(parser, status)


def status(ctx: Context) -> int:
    entries = ctx.call(overview, OutboxCounts())
    if ctx.json:
        output.as_json({"data": entries}, ctx.out)
    else:
        output.table(COLUMNS, (_row(entry) for entry in entries), ctx.out)
    return EXIT_OK


def _row(entry: dict) -> tuple:
    breaker = entry["breaker"]
    last_hour = entry["last_hour"]
    return (
        entry["id"],
        entry["name"],
        "enabled" if entry["enabled"] else f"disabled ({entry['disabled_reason']})",
        breaker["state"] if breaker["state"] == "closed" else f"{breaker['state']} ({breaker['failure_count']})",
        entry["outbox"]["pending"],
        entry["outbox"]["delivering"],
        entry["held"],
        entry["outbox"]["failed"],
        output.duration(entry["oldest_pending_age_seconds"]),
        f"{last_hour['succeeded']}/{last_hour['attempts']}" if last_hour["attempts"] else None,
        output.ago(entry["last_success_at"]),
        entry["endpoint"],
    )
