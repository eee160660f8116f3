"""``python -m pms_app endpoints list|add|disable|enable|rotate-secret``: the webhook endpoints,
checked and changed exactly as the endpoints API does (its validation, its address check, its
audit log entries). A new secret is printed once, by the command that made it."""

from __future__ import annotations

import argparse
import json

from core.pagination import MAX_LIMIT, PageRequest, decode_cursor

from ..endpoints.validation import validate_endpoint, validate_rotation
from ..services import endpoints
from . import output
from .runtime import EXIT_OK, Context, command, positive_int

COLUMNS = ("id", "name", "state", "event_types", "secrets", "url")


def register(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser, acting: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "endpoints", help="list, add, enable, disable endpoints; rotate secrets", description="The webhook endpoints."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        parents=[common],
        help="every endpoint",
        description="Every endpoint, in id order (the shape of GET /endpoints).",
    )
    command(listing, list_command)

    add = actions.add_parser(
        "add",
        parents=[common, acting],
        help="a new endpoint (prints its secret, once)",
        description="A new endpoint, checked like POST /endpoints. Its signing secret is printed once: "
        "store it now, it is never shown again. Unset policies follow the service defaults.",
    )
    add.add_argument("name", help="unique, 1 to 64 of a-z, 0-9 and -")
    add.add_argument("url", help="absolute http or https URL")
    add.add_argument("--description")
    add.add_argument(
        "--event-type",
        dest="event_types",
        action="append",
        metavar="TYPE",
        help="a type or glob (guest.*, *.deleted) to send; repeat for more (default: every type)",
    )
    add.add_argument("--secret", help="the signing secret (default: a new whsec_ one)")
    add.add_argument("--disabled", action="store_true", help="create it disabled (its deliveries are held)")
    add.add_argument(
        "--retry-schedule",
        type=_retry_schedule,
        metavar="SCHEDULE",
        help='seconds before each retry, "5,30,120", or JSON such as '
        '\'{"exponential": {"initial_seconds": 5, "factor": 2, "max_seconds": 3600, '
        '"max_retries": 10}}\'',
    )
    add.add_argument("--timeout-seconds", type=float, metavar="S", help="the limit of one attempt")
    add.add_argument("--rate-limit-per-second", type=float, metavar="N", help="the most attempts per second")
    add.add_argument("--max-in-flight", type=int, metavar="N", help="attempts in flight per worker")
    add.add_argument(
        "--breaker-failure-threshold", type=int, metavar="N", help="consecutive failures that open the breaker"
    )
    add.add_argument(
        "--breaker-recovery-seconds", type=float, metavar="S", help="how long the breaker stays open before a probe"
    )
    command(add, add_command)

    for name, run, help_text in (
        ("disable", disable_command, "stop sending: new and pending deliveries are held"),
        ("enable", enable_command, "send again: held deliveries are due now, oldest first"),
    ):
        action = actions.add_parser(
            name, parents=[common, acting], help=help_text, description=f"{help_text[0].upper()}{help_text[1:]}."
        )
        action.add_argument("id", type=positive_int, help="the endpoint's id")
        command(action, run)

    rotate = actions.add_parser(
        "rotate-secret",
        parents=[common, acting],
        help="a new signing secret (printed once)",
        description="A new signing secret, printed once. The current ones keep signing for the "
        "overlap, so receivers can switch over.",
    )
    rotate.add_argument("id", type=positive_int, help="the endpoint's id")
    rotate.add_argument(
        "--overlap-seconds",
        type=int,
        metavar="S",
        help="how long the old secrets stay valid (default 86400; 0: stop now)",
    )
    command(rotate, rotate_command)


def _retry_schedule(raw: str):
    text = raw.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError:
            raise argparse.ArgumentTypeError("is not valid JSON") from None
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError('must be whole seconds separated by commas, such as "5,30,120"') from None


def list_command(ctx: Context) -> int:
    rows: list[dict] = []
    page = PageRequest(MAX_LIMIT)
    while True:
        found, cursor = ctx.call(endpoints.list_endpoints, ctx.settings, page)
        rows.extend(found)
        if cursor is None:
            break
        page = PageRequest(MAX_LIMIT, *decode_cursor(cursor))
    if ctx.json:
        output.as_json({"data": rows, "next_cursor": None}, ctx.out)
    else:
        output.table(
            COLUMNS,
            ((e["id"], e["name"], _state(e), e["event_types"] or "*", len(e["secrets"]), e["url"]) for e in rows),
            ctx.out,
        )
    return EXIT_OK


def add_command(ctx: Context) -> int:
    args = ctx.args
    body = {
        "name": args.name,
        "url": args.url,
        "description": args.description,
        "event_types": args.event_types,
        "secret": args.secret,
        "retry_schedule": args.retry_schedule,
        "timeout_seconds": args.timeout_seconds,
        "rate_limit_per_second": args.rate_limit_per_second,
        "max_in_flight": args.max_in_flight,
        "breaker": {
            "failure_threshold": args.breaker_failure_threshold,
            "recovery_seconds": args.breaker_recovery_seconds,
        },
    }
    body = _given(body)
    if args.disabled:
        body["enabled"] = False
    values = validate_endpoint(body)
    endpoints.check_address(values, ctx.settings.endpoint_denied_networks)
    created = ctx.call(endpoints.create_endpoint, ctx.actor, ctx.settings, values)
    if ctx.json:
        output.as_json({"data": created}, ctx.out)
        return EXIT_OK
    _show(created, ctx)
    print(f"secret: {created['secret']}", file=ctx.out)
    print("The secret is shown this once: give it to the receiver now.", file=ctx.out)
    return EXIT_OK


def _given(body: dict) -> dict:
    """The fields the command line set (an unset option leaves the service default)."""
    given = {k: v for k, v in body.items() if v is not None and k != "breaker"}
    breaker = {k: v for k, v in body["breaker"].items() if v is not None}
    if breaker:
        given["breaker"] = breaker
    return given


def disable_command(ctx: Context) -> int:
    return _show_change(ctx.call(endpoints.disable_endpoint, ctx.actor, ctx.settings, ctx.args.id), ctx)


def enable_command(ctx: Context) -> int:
    return _show_change(ctx.call(endpoints.enable_endpoint, ctx.actor, ctx.settings, ctx.args.id), ctx)


def _show_change(endpoint: dict, ctx: Context) -> int:
    if ctx.json:
        output.as_json({"data": endpoint}, ctx.out)
    else:
        print(f"endpoint {endpoint['id']} ({endpoint['name']}): {_state(endpoint)}", file=ctx.out)
    return EXIT_OK


def rotate_command(ctx: Context) -> int:
    body = {} if ctx.args.overlap_seconds is None else {"overlap_seconds": ctx.args.overlap_seconds}
    overlap = validate_rotation(body)
    secret = ctx.call(endpoints.rotate_secret, ctx.actor, ctx.args.id, overlap)
    if ctx.json:
        output.as_json({"data": {"secret": secret}}, ctx.out)
    else:
        print(f"secret: {secret}", file=ctx.out)
        print(
            f"The secret is shown this once. The previous secrets of endpoint {ctx.args.id} stay valid "
            f"for {output.duration(overlap) if overlap else 'no longer'}.",
            file=ctx.out,
        )
    return EXIT_OK


def _state(endpoint: dict) -> str:
    return "enabled" if endpoint["enabled"] else f"disabled ({endpoint['disabled_reason']})"


def _show(endpoint: dict, ctx: Context) -> None:
    output.fields(
        (
            ("id", endpoint["id"]),
            ("name", endpoint["name"]),
            ("url", endpoint["url"]),
            ("state", _state(endpoint)),
            ("event_types", endpoint["event_types"] or "*"),
            ("retry_schedule", json.dumps(endpoint["retry_schedule"]) if endpoint["retry_schedule"] else "default"),
            ("timeout_seconds", endpoint["timeout_seconds"]),
            ("max_in_flight", endpoint["max_in_flight"]),
            ("rate_limit_per_second", endpoint["rate_limit_per_second"]),
            (
                "breaker",
                (f"{endpoint['breaker']['failure_threshold']} failures, {endpoint['breaker']['recovery_seconds']}s"),
            ),
        ),
        ctx.out,
    )
