"""Keyset pagination and the list conventions (docs/http.md, "Lists").

Lists are newest first (``id`` descending) and page with an opaque cursor; ``?since_id=N``
switches to ascending order of ids greater than N, for tailing. The cost of a page never
depends on how deep it is: every page is ``WHERE id < cursor ORDER BY id DESC LIMIT n+1``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from .contract import MAX_ID
from .errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after_id: int | None = None  # keyset position
    ascending: bool = False


def encode_cursor(last_id: int, ascending: bool) -> str:
    raw = f"{'a' if ascending else 'd'}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, bool]:
    """The position and direction of a cursor; 422 on ``cursor`` for anything this API cannot
    have issued, including an id past a BIGINT (which no driver can even bind)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if direction not in ("a", "d") or not (value.isascii() and value.isdigit()) or len(value) > 19:
            raise ValueError
        position = int(value)
        if position > MAX_ID:
            raise ValueError
        return position, direction == "a"
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError.single("cursor", "is not a cursor this API issued") from None


def parse_non_negative_int(field: str, raw: str) -> int:
    """A non-negative integer argument (422 otherwise); values past a BIGINT are clamped to it,
    so a huge id or ``since_id`` simply matches nothing."""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError.single(field, "must be a non-negative integer")
    return min(int(raw[:20]) if len(raw) <= 20 else MAX_ID, MAX_ID)


def parse_page_request(get_argument: Callable[[str], str | None]) -> PageRequest:
    """Read ``limit``, ``cursor`` and ``since_id`` (422 on bad values; limit capped at 500)."""
    limit = DEFAULT_LIMIT
    raw_limit = get_argument("limit")
    if raw_limit is not None and raw_limit != "":
        limit = parse_non_negative_int("limit", raw_limit)
        if limit < 1:
            raise ValidationError.single("limit", "must be at least 1")
        limit = min(limit, MAX_LIMIT)
    cursor = get_argument("cursor")
    if cursor:
        after_id, ascending = decode_cursor(cursor)
        return PageRequest(limit, after_id, ascending)
    raw_since = get_argument("since_id")
    if raw_since is not None and raw_since != "":
        return PageRequest(limit, parse_non_negative_int("since_id", raw_since), True)
    return PageRequest(limit)


def paginate(query: peewee.ModelSelect, id_field: peewee.Field, page: PageRequest) -> tuple[list, str | None]:
    """Rows of one page and the cursor of the next (``None`` on the last page)."""
    if page.ascending:
        if page.after_id is not None:
            query = query.where(id_field > page.after_id)
        query = query.order_by(id_field.asc())
    else:
        if page.after_id is not None:
            query = query.where(id_field < page.after_id)
        query = query.order_by(id_field.desc())
    rows = list(query.limit(page.limit + 1))
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, encode_cursor(getattr(rows[-1], id_field.name), page.ascending)


def paginate_per_parent(
    query: peewee.ModelSelect,
    parent_field: peewee.Field,
    id_field: peewee.Field,
    parent_ids: list[int],
    page: PageRequest,
) -> dict[int, tuple[list, str | None]]:
    """One page of children for each of many parents, in one statement (batch loading).

    The same keyset page as ``paginate`` is taken within each parent: a window function numbers
    every parent's rows in page order and only the first ``limit + 1`` of each are read, so the
    cost follows the number of parents and the page size, never how many rows a parent has.
    """
    pages: dict[int, tuple[list, str | None]] = {parent: ([], None) for parent in parent_ids}
    if not parent_ids:
        return pages
    order = id_field.asc() if page.ascending else id_field.desc()
    ranked = query.select(
        id_field.alias("ranked_id"),
        peewee.fn.ROW_NUMBER().over(partition_by=[parent_field], order_by=[order]).alias("position"),
    )
    ranked = ranked.where(parent_field.in_(sorted(set(parent_ids))))
    if page.after_id is not None:
        ranked = ranked.where((id_field > page.after_id) if page.ascending else (id_field < page.after_id))
    window = ranked.alias("ranked")
    wanted = peewee.Select([window], [window.c.ranked_id]).where(window.c.position <= page.limit + 1)
    rows = query.model.select().where(id_field.in_(wanted)).order_by(parent_field, order)
    # A foreign key's raw id (``guest_id``), never the related row (which would be a query).
    parent_attr: str = getattr(parent_field, "object_id_name", None) or parent_field.name
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(getattr(row, parent_attr), []).append(row)
    for parent, children in grouped.items():
        if len(children) <= page.limit:
            pages[parent] = (children, None)
        else:
            children = children[: page.limit]
            pages[parent] = (children, encode_cursor(getattr(children[-1], id_field.name), page.ascending))
    return pages
