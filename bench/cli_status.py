"""``python -m pms_app status`` on MariaDB with a long attempt history: what it costs, and how close
its last-hour count comes to the least any count of the hour has to read.

It creates a migrated PMS database, fills it with ``--deliveries`` delivered deliveries of
endpoint 1 carrying ``--history`` attempts spread over the past week (ids in time order, as the
worker writes them) and ``--recent`` attempts in the last hour, then measures:

(a) ``all_health()`` in this process: every figure of ``status`` (median of ``--repeat`` runs);
(b) its last-hour part alone (``attempts_since``): the hour's range of the ``started_at`` index;
(c) the ceiling of (b): the same count over the primary key from the first id of the hour,
    already known, the least any method has to read;
(d) ``python -m pms_app status --json`` as a real process, start-up included.

Prints one JSON document with the times and the ratio (b)/(c). It creates and drops
its own database. ``--history 200000`` runs quicker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2e import MariaDB, run_module  # noqa: E402  (same folder)

BATCH = 5000


def fill(db: MariaDB, name: str, deliveries: int, history: int, recent: int) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    week = dt.timedelta(days=7)
    with db.connect(name) as conn, conn.cursor() as cur:
        for start in range(1, deliveries + 1, BATCH):
            ids = range(start, min(start + BATCH, deliveries + 1))
            cur.executemany(
                "INSERT INTO outbox_event (seq, id, type, entity_id, entity_version, payload, occurred_at, created_at)"
                " VALUES (%s, %s, 'guest.updated', %s, 1, '{}', %s, %s)",
                [(i, _uuid(i), i, now - week, now - week) for i in ids],
            )
            cur.executemany(
                "INSERT INTO delivery (id, event_seq, event_id, endpoint_id, type, entity_id, entity_version,"
                " guest_id, status, attempt_count, attempts_since_replay, next_attempt_at, next_trigger, created_at,"
                " delivered_at) VALUES (%s, %s, %s, 1, 'guest.updated', %s, 1, %s, 'delivered', 1, 1, %s,"
                " 'scheduled', %s, %s)",
                [(i, i, _uuid(i), i, i, now - week, now - week, now - week) for i in ids],
            )
        total = history + recent
        for start in range(0, total, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, total)):
                if n < history:
                    started = now - week + (week - dt.timedelta(hours=1, minutes=5)) * (n / history)
                else:
                    # Within the hour with ten minutes to spare, so every measurement sees them all.
                    started = now - dt.timedelta(minutes=50) + dt.timedelta(minutes=48) * ((n - history) / recent)
                code = 500 if n % 10 == 0 else 200
                rows.append(
                    (
                        _uuid(n % deliveries + 1),
                        n % deliveries + 1,
                        1,
                        started,
                        code,
                        40,
                        None if code == 200 else "HTTP 500",
                    )
                )
            cur.executemany(
                "INSERT INTO delivery_attempt (event_id, delivery_id, attempt, started_at, status_code, duration_ms,"
                " error) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                rows,
            )


def _uuid(i: int) -> str:
    return f"00000000-0000-0000-0000-{i:012d}"


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mysql", default=os.environ.get("TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/")
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--recent", type=int, default=3_600)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from core.db import Store, open_database, utcnow
    from pms_app.models import db
    from pms_app.services import endpoint_health

    maria = MariaDB(args.mysql)
    name = maria.create("cli_status")
    try:
        url = maria.url(name)
        run_module("pms_app", "migrate", env={"DATABASE_URL": url}, check=True)
        t0 = time.perf_counter()
        fill(maria, name, args.deliveries, args.history, args.recent)
        fill_seconds = time.perf_counter() - t0

        database = open_database(url)
        db.initialize(database)
        store = Store(database, max_workers=1)
        since = utcnow() - endpoint_health.WINDOW

        def known_first_id() -> int:
            return database.execute_sql(
                "SELECT MIN(id) FROM delivery_attempt WHERE started_at >= %s", (since,)
            ).fetchone()[0]

        first = store.call(known_first_id)
        count_sql = (
            "SELECT d.endpoint_id, COUNT(*), SUM(CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 1 ELSE 0"
            " END) FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id WHERE {where}"
            " GROUP BY d.endpoint_id"
        )

        figures_s, entries = median_time(lambda: store.call(endpoint_health.all_health), args.repeat)
        outcomes_s, outcomes = median_time(lambda: store.call(endpoint_health.attempts_since, since), args.repeat)
        ceiling_s, counted = median_time(
            lambda: store.call(
                lambda: database.execute_sql(
                    count_sql.format(where="a.id >= %s AND a.started_at >= %s"), (first, since)
                ).fetchall()
            ),
            args.repeat,
        )
        assert outcomes[1][0] == int(counted[0][1]), (outcomes, counted)

        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pms_app", "status", "--json"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "ENV_FILE": os.devnull, "DATABASE_URL": url},
        )
        process_s = time.perf_counter() - t0
        assert json.loads(done.stdout)["data"][0]["last_hour"] == entries[0]["last_hour"]
        store.close()

        print(
            json.dumps(
                {
                    "deliveries": args.deliveries,
                    "attempts_history": args.history,
                    "attempts_last_hour": args.recent,
                    "fill_seconds": round(fill_seconds, 1),
                    "status_figures_ms": round(figures_s * 1000, 1),
                    "last_hour_count_ms": round(outcomes_s * 1000, 1),
                    "ceiling_count_from_known_id_ms": round(ceiling_s * 1000, 1),
                    "status_process_ms": round(process_s * 1000, 1),
                    "last_hour": entries[0]["last_hour"],
                    "ratio_last_hour_to_ceiling": round(outcomes_s / ceiling_s, 2),
                },
                indent=2,
            )
        )
    finally:
        maria.drop_all()


if __name__ == "__main__":
    main()
