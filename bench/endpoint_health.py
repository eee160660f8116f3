"""Endpoint health benchmark: the cost of ``GET /endpoints/health`` (the endpoints page) as the
last hour's attempts grow, on MariaDB.

For each size (default 10,000 and 100,000 attempts in the last hour, spread over 3 endpoints,
with 200,000 older attempts and 60,000 deliveries beside them) it creates a fresh migrated PMS
database, bulk-inserts the rows and measures, best of 5:

(a) the health of every endpoint, as the route computes it (``services.endpoint_health``);
(b) the ceiling: one bare ``COUNT(*)`` joined to the deliveries over the same hour of the
    ``started_at`` index, the least any exact per-endpoint count has to read.

Prints one JSON document with each size, (a)/(b), and how (a) grows from the smallest size to the
largest. It creates and drops its own databases (``--mysql`` or ``TEST_MYSQL_URL``, default
``mysql://root@127.0.0.1:3306/``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2e import MariaDB  # noqa: E402  (same folder)

OLDER_ATTEMPTS = 200_000
DELIVERIES = 60_000
ENDPOINTS = 3
BATCH = 5000


def best_ms(fn, store, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        store.call(fn)
        times.append(time.perf_counter() - t0)
    return round(min(times) * 1000, 2)


def run_size(server: MariaDB, in_hour: int) -> dict:
    import peewee as pw

    from core.db import Store, open_database, utcnow
    from core.migrations import migrate
    from core.pagination import PageRequest
    from pms_app.endpoints.models import Endpoint
    from pms_app.models import Delivery, DeliveryAttempt, db
    from pms_app.services import endpoint_health

    database = open_database(server.url(server.create("health")), max_connections=4)
    migrate(database, "pms")
    db.initialize(database)
    store = Store(database, max_workers=1, name="bench-health")
    now = utcnow()

    def seed() -> None:
        for n in range(2, ENDPOINTS + 1):
            Endpoint.create(
                name=f"bench-{n}",
                url="https://bench.example/hook",
                event_types=[],
                enabled=True,
                created_at=now,
                updated_at=now,
            )
        deliveries = [
            dict(
                event_seq=i,
                event_id=f"{i:08x}-0000-4000-8000-000000000000",
                endpoint_id=1 + i % ENDPOINTS,
                type="guest.updated",
                entity_id=i,
                entity_version=1,
                status="delivered" if i % 10 else "pending",
                created_at=now - dt.timedelta(minutes=i % 600),
            )
            for i in range(1, DELIVERIES + 1)
        ]
        for k in range(0, len(deliveries), BATCH):
            Delivery.insert_many(deliveries[k : k + BATCH]).execute()
        total = in_hour + OLDER_ATTEMPTS
        for k in range(0, total, BATCH):
            rows = []
            for i in range(k, min(k + BATCH, total)):
                ago = (i % 3500) if i < in_hour else 3700 + i % 86000
                rows.append(
                    dict(
                        event_id="bench",
                        delivery_id=1 + i % DELIVERIES,
                        attempt=1,
                        trigger_kind="scheduled",
                        started_at=now - dt.timedelta(seconds=ago),
                        status_code=202 if i % 7 else 500,
                        duration_ms=i % 300,
                    )
                )
            DeliveryAttempt.insert_many(rows).execute()

    store.call(seed)

    since = now - dt.timedelta(hours=1)

    def ceiling() -> int:
        return (
            DeliveryAttempt.select(pw.fn.COUNT(DeliveryAttempt.id))
            .join(Delivery, on=(Delivery.id == DeliveryAttempt.delivery_id))
            .where(DeliveryAttempt.started_at >= since)
            .scalar()
        )

    health = best_ms(lambda: endpoint_health.list_health(PageRequest(500), now), store)
    floor = best_ms(ceiling, store)
    store.close()
    return {
        "attempts_last_hour": in_hour,
        "older_attempts": OLDER_ATTEMPTS,
        "endpoints": ENDPOINTS,
        "health_ms": health,
        "ceiling_count_ms": floor,
        "health_over_ceiling": round(health / floor, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="attempts in the last hour, comma-separated")
    parser.add_argument("--mysql", default=os.environ.get("TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/")
    args = parser.parse_args()
    server = MariaDB(args.mysql)
    try:
        sizes = [run_size(server, int(n)) for n in args.sizes.split(",")]
    finally:
        server.drop_all()
    first, last = sizes[0], sizes[-1]
    print(
        json.dumps(
            {
                "sizes": sizes,
                "health_growth": round(last["health_ms"] / first["health_ms"], 2),
                "attempts_growth": round(last["attempts_last_hour"] / first["attempts_last_hour"], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
