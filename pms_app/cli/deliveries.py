"""``python -m pms_app deliveries list|replay``: one endpoint's deliveries (endpoint 1, the CRM,
unless ``--endpoint`` says otherwise, like the API's ``/webhooks/deliveries`` routes), and
replays recorded in the audit log with the operator's name."""

from __future__ import annotations

import argparse

from core.pagination import MAX_LIMIT, PageRequest, decode_cursor
from core.validation import parse_utc_datetime

from ..models import CRM_ENDPOINT_ID, DELIVERY_STATUSES, HELD
from ..services import deliveries
from ..services.deliveries import DeliveryFilter
from . import output
from .runtime import EXIT_OK, Context, command, positive_int

COLUMNS = ("id", "type", "status", "entity", "attempts", "last_result", "created_at", "next_attempt_at")


def register(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser, acting: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "deliveries",
        help="list and replay deliveries",
        description="One endpoint's deliveries: list them, replay them.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        parents=[common],
        help="deliveries, newest first",
        description="One endpoint's deliveries, newest first (the shape of GET /webhooks/deliveries).",
    )
    _endpoint_option(listing)
    listing.add_argument("--status", choices=DELIVERY_STATUSES, help="only deliveries in this state")
    listing.add_argument(
        "--limit",
        type=positive_int,
        default=50,
        metavar="N",
        help="at most N deliveries (default 50; more than 500 reads several pages)",
    )
    listing.add_argument("--cursor", help="continue after the page that printed this next_cursor")
    command(listing, list_command)

    replay = actions.add_parser(
        "replay",
        parents=[common, acting],
        help="queue deliveries again now",
        description="Queue deliveries again now, whatever their state, with a fresh retry schedule; "
        "a disabled endpoint's wait, held, until it is enabled. Recorded in the audit log "
        "and on the attempt (trigger 'replay', replayed_by the operator).",
        epilog="ID: one delivery (its event's id, the webhook-id). --failed: every failed one, "
        "only those created since --since if given. --since alone: every delivery created "
        "since then, whatever its state (after the receiver lost data).",
    )
    replay.add_argument("id", nargs="?", metavar="ID", help="the delivery's event id")
    replay.add_argument("--failed", action="store_true", help="every failed delivery of the endpoint")
    replay.add_argument("--since", metavar="ISO", help="only deliveries created at or after this time")
    _endpoint_option(replay)
    command(replay, replay_command, _check_replay)


def _endpoint_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        type=positive_int,
        default=CRM_ENDPOINT_ID,
        metavar="N",
        help="the endpoint's id (default 1, the CRM)",
    )


def list_command(ctx: Context) -> int:
    args = ctx.args
    where = DeliveryFilter(status=args.status)
    after_id, ascending = decode_cursor(args.cursor) if args.cursor else (None, False)
    rows: list[dict] = []
    cursor = None
    while True:
        page = PageRequest(min(args.limit - len(rows), MAX_LIMIT), after_id, ascending)
        found, cursor = ctx.call(deliveries.list_endpoint_deliveries, page, args.endpoint, where)
        rows.extend(found)
        if cursor is None or len(rows) >= args.limit:
            break
        after_id, ascending = decode_cursor(cursor)
    if ctx.json:
        output.as_json({"data": rows, "next_cursor": cursor}, ctx.out)
        return EXIT_OK
    output.table(COLUMNS, (_row(d) for d in rows), ctx.out)
    if cursor is not None:
        print(f"more: --cursor {cursor}", file=ctx.out)
    return EXIT_OK


def _row(delivery: dict) -> tuple:
    if delivery["last_status_code"] is not None:
        last = f"HTTP {delivery['last_status_code']}"
    else:
        last = output.cut(delivery["last_error"], 40)
    return (
        delivery["id"],
        delivery["type"],
        delivery["status"],
        f"{delivery['entity_id']} v{delivery['entity_version']}",
        delivery["attempt_count"],
        last,
        delivery["created_at"],
        delivery["next_attempt_at"],
    )


def _check_replay(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.id is not None and (args.failed or args.since):
        parser.error("give either ID or --failed/--since, not both")
    if args.id is None and not (args.failed or args.since):
        parser.error("give ID, --failed or --since")


def replay_command(ctx: Context) -> int:
    args = ctx.args
    if args.id is not None:
        delivery = ctx.call(deliveries.replay, ctx.actor, args.id, args.endpoint)
        if ctx.json:
            output.as_json({"data": delivery}, ctx.out)
        else:
            when = "held until the endpoint is enabled" if delivery["status"] == HELD else "pending, due now"
            print(
                f"delivery {delivery['id']} to endpoint {delivery['endpoint_id']}: {when} "
                f"(replayed by {ctx.actor.operator})",
                file=ctx.out,
            )
        return EXIT_OK
    since = parse_utc_datetime("--since", args.since) if args.since else None
    replayed = ctx.call(deliveries.replay_endpoint, ctx.actor, args.endpoint, since, not args.failed)
    if ctx.json:
        output.as_json({"data": {"replayed": replayed}}, ctx.out)
    else:
        which = output.plural(replayed, "failed delivery" if args.failed else "delivery")
        since_text = f" created since {args.since}" if since else ""
        print(
            f"replayed {which}{since_text} to endpoint {args.endpoint} (replayed by {ctx.actor.operator})", file=ctx.out
        )
    return EXIT_OK
