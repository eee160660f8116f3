"""Reconciliation benchmark: a run over N guests and N reservations on MariaDB, in sync and with drift.

For each size (default 10,000 and 100,000 entities of each kind) it creates fresh PMS and CRM
databases, bulk-inserts the same guests and reservations into both (2% of them deleted: PMS
tombstones, CRM tombstones), starts the CRM as a real process (with an API token) and then,
from this process, as ``python -m pms_app reconcile`` does:

(a) a run while both sides are in sync: its time and the number of HTTP requests to the CRM;
(b) a run after 1% of the guests and 1% of the reservations moved one version ahead in the PMS
    (changes whose deliveries were lost): time, requests, entities repaired (the repair events
    are queued in the outbox, not delivered);
(c) the ceiling: one bare scan of every (id, version) row of both kinds on both databases
    through the same indexes, the least any comparison has to read.

Prints one JSON document with each size and how (a) and (b) grow from the smallest to the
largest size. It creates and drops its own databases. ``--sizes 2000,20000`` runs quicker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import _path  # noqa: F401 - puts the repository root on sys.path
from e2e import MariaDB, Proc  # same folder

from tests.support.processes import free_port, run_module

TOKEN = "bench-crm-token"
DELETED_EVERY = 50  # 2% of the ids are tombstones on both sides
BATCH = 5000


# -- data -----------------------------------------------------------------------------------


def versions(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(1, 6) for _ in range(n + 1)]


def fill(db: MariaDB, pms_db: str, crm_db: str, n: int) -> None:
    """N guests and N reservations, identical on both sides (ids 1..N; every 50th deleted)."""
    now = dt.datetime(2026, 11, 30, 12, 0, 0)
    gv, rv = versions(n, 1), versions(n, 2)
    live_guests = [i for i in range(1, n + 1) if i % DELETED_EVERY]

    def guest_of(rid: int) -> int:
        return live_guests[rid % len(live_guests)]

    pms_guests, pms_res, pms_tombs = [], [], []
    crm_guests, crm_res = [], []
    for i in range(1, n + 1):
        if i % DELETED_EVERY:
            email = f"bench{i}@example.com"
            pms_guests.append((i, email, email, f"Bench Guest {i}", "+14155550100", None, "PT", gv[i], now, now))
            crm_guests.append(
                (
                    i,
                    email,
                    email,
                    f"Bench Guest {i}",
                    "+14155550100",
                    None,
                    "PT",
                    gv[i],
                    0,
                    1,
                    1,
                    0,
                    2,
                    '{"USD": "240.00"}',
                    now.date(),
                    now.date(),
                    "new",
                    now,
                    now,
                )
            )
            pms_res.append(
                (
                    i,
                    guest_of(i),
                    "101",
                    "double",
                    "2027-03-01",
                    "2027-03-03",
                    "confirmed",
                    "240.00",
                    "USD",
                    2,
                    0,
                    None,
                    rv[i],
                    now,
                    now,
                )
            )
            crm_res.append(
                (
                    i,
                    guest_of(i),
                    rv[i],
                    0,
                    "101",
                    "double",
                    "2027-03-01",
                    "2027-03-03",
                    "confirmed",
                    "240.00",
                    "USD",
                    2,
                    0,
                    now,
                )
            )
        else:
            pms_tombs += [("guest", i, gv[i], now, None), ("reservation", i, rv[i], now, guest_of(i))]
            crm_guests.append(
                (i, None, None, None, None, None, None, gv[i], 1, 0, 0, 0, 0, None, None, None, "new", now, now)
            )
            crm_res.append((i, guest_of(i), rv[i], 1, None, None, None, None, None, None, None, None, None, now))
    inserts = {
        pms_db: [
            (
                "INSERT INTO guest (id, email, email_key, name, phone, date_of_birth, country, version, created_at,"
                " updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                pms_guests,
            ),
            (
                "INSERT INTO reservation (id, guest_id, room_number, room_type, check_in, check_out, status,"
                " total_amount, currency, adults, children, notes, version, created_at, updated_at)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                pms_res,
            ),
            (
                "INSERT INTO tombstone (kind, entity_id, version, deleted_at, guest_id) VALUES (%s,%s,%s,%s,%s)",
                pms_tombs,
            ),
        ],
        crm_db: [
            (
                "INSERT INTO guest_profile (guest_id, email, email_key, name, phone, date_of_birth, country, version,"
                " deleted, listed, total_reservations, cancelled_reservations, total_nights, lifetime_value,"
                " first_check_in, last_check_out, tier, created_at, updated_at)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                crm_guests,
            ),
            (
                "INSERT INTO reservation_mirror (reservation_id, guest_id, version, deleted, room_number, room_type,"
                " check_in, check_out, status, total_amount, currency, adults, children, updated_at)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                crm_res,
            ),
        ],
    }
    for name, statements in inserts.items():
        with db.connect(name) as conn, conn.cursor() as cur:
            for sql, rows in statements:
                for start in range(0, len(rows), BATCH):
                    cur.executemany(sql, rows[start : start + BATCH])
            for table in ("guest", "reservation", "tombstone", "guest_profile", "reservation_mirror"):
                cur.execute("SHOW TABLES LIKE %s", (table,))
                if cur.fetchone():
                    cur.execute(f"ANALYZE TABLE `{table}`")


def drift(db: MariaDB, pms_db: str, n: int, fraction: float) -> int:
    """Move ``fraction`` of the live guests and reservations one version ahead in the PMS only."""
    rng = random.Random(3)
    live = [i for i in range(1, n + 1) if i % DELETED_EVERY]
    moved = 0
    with db.connect(pms_db) as conn, conn.cursor() as cur:
        for table in ("guest", "reservation"):
            ids = rng.sample(live, max(1, int(len(live) * fraction)))
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                cur.execute(f"UPDATE `{table}` SET version = version + 1 WHERE id IN ({','.join(map(str, chunk))})")
            moved += len(ids)
    return moved


def bare_scans(db: MariaDB, pms_db: str, crm_db: str) -> float:
    """Seconds to read every (id, version) of both kinds on both sides through the same indexes."""
    scans = [
        (pms_db, "SELECT id, version FROM guest FORCE INDEX (guest_id_version) ORDER BY id"),
        (pms_db, "SELECT id, version FROM reservation FORCE INDEX (reservation_id_version) ORDER BY id"),
        (
            pms_db,
            "SELECT entity_id, version FROM tombstone FORCE INDEX (tombstone_kind_entity_id_version)"
            " WHERE kind IN ('guest', 'reservation') ORDER BY kind, entity_id",
        ),
        (
            crm_db,
            "SELECT guest_id, version, deleted FROM guest_profile FORCE INDEX"
            " (guest_profile_guest_id_version_deleted) WHERE version IS NOT NULL ORDER BY guest_id",
        ),
        (
            crm_db,
            "SELECT reservation_id, version, deleted FROM reservation_mirror FORCE INDEX"
            " (reservation_mirror_reservation_id_version_deleted) WHERE version > 0 ORDER BY reservation_id",
        ),
    ]
    total = 0.0
    for name, sql in scans:
        with db.connect(name) as conn, conn.cursor() as cur:
            t0 = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            total += time.perf_counter() - t0
    return total


# -- runs -----------------------------------------------------------------------------------


def timed_run(store, crm_url: str) -> dict:
    from pms_app.sync.crm_client import CrmSyncClient
    from pms_app.sync.service import reconcile

    client = CrmSyncClient(crm_url, TOKEN)
    t0 = time.perf_counter()
    runs = reconcile(store, client)
    seconds = time.perf_counter() - t0
    client.close()
    assert all(r["status"] == "completed" for r in runs), runs
    total = {key: sum(r[key] for r in runs) for key in ("compared", "drifted", "repaired", "unrepairable", "in_flight")}
    return {"seconds": round(seconds, 3), "http_requests": client.requests, **total}


def measure(db: MariaDB, log_dir: Path, n: int, fraction: float) -> dict:
    from core.db import Store, open_database
    from core.migrations import migrate
    from pms_app.models import db as pms_proxy

    pms_db, crm_db = db.create("pms"), db.create("crm")
    port = free_port()
    crm_env = {"DATABASE_URL": db.url(crm_db), "APP_PORT": str(port), "API_TOKEN": TOKEN}
    run_module("crm_app", "migrate", env=crm_env, check=True)
    database = open_database(db.url(pms_db), max_connections=4)
    migrate(database, "pms")
    pms_proxy.initialize(database)
    store = Store(database, max_workers=1, name="bench")
    crm = None
    try:
        t0 = time.perf_counter()
        fill(db, pms_db, crm_db, n)
        fill_seconds = time.perf_counter() - t0
        crm = Proc(["crm_app"], crm_env, log_dir, f"crm-{n}")
        crm.wait_http(f"http://127.0.0.1:{port}/api/v1/health")
        crm_url = f"http://127.0.0.1:{port}/api/v1"
        first = timed_run(store, crm_url)  # cold caches
        in_sync = timed_run(store, crm_url)
        moved = drift(db, pms_db, n, fraction)
        repair = timed_run(store, crm_url)
        after = timed_run(store, crm_url)  # the repairs are queued, not yet delivered
        ceiling = min(bare_scans(db, pms_db, crm_db) for _ in range(3))
    finally:
        if crm is not None:
            crm.stop()
        store.close()
    return {
        "entities_per_kind": n,
        "fill_seconds": round(fill_seconds, 1),
        "in_sync_first_run": first,
        "in_sync": in_sync,
        "drifted_entities": moved,
        "repair": repair,
        "rerun_before_delivery": after,
        "ceiling_bare_index_scans_seconds": round(ceiling, 3),
        "in_sync_vs_ceiling": round(in_sync["seconds"] / ceiling, 2) if ceiling else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql-url", default=os.environ.get("TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/")
    parser.add_argument("--sizes", default="10000,100000", help="entities of each kind, comma-separated")
    parser.add_argument("--drift", type=float, default=0.01, help="fraction moved ahead in the PMS for (b)")
    parser.add_argument("--log-dir", default=None, help="where the CRM's logs go (default: a temporary folder)")
    args = parser.parse_args()

    from pms_app.sync.compare import LEAF_ROWS, TARGET_BUCKET_ROWS

    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="guestsync-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    db = MariaDB(args.mysql_url)
    result: dict = {
        "benchmark": "reconcile",
        "cpu_count": os.cpu_count(),
        "drift_fraction": args.drift,
        "target_bucket_rows": TARGET_BUCKET_ROWS,
        "leaf_rows": LEAF_ROWS,
        "sizes": [],
    }
    try:
        for n in sizes:
            result["sizes"].append(measure(db, log_dir, n, args.drift))
            db.drop_all()
            db.created.clear()
    finally:
        db.drop_all()
    if len(result["sizes"]) > 1:
        small, large = result["sizes"][0], result["sizes"][-1]
        result["growth_smallest_to_largest"] = {
            "entities": round(large["entities_per_kind"] / small["entities_per_kind"], 1),
            **{
                f"{part}_{key}": round(large[part][key] / max(small[part][key], 1e-9), 2)
                for part in ("in_sync", "repair")
                for key in ("seconds", "http_requests")
            },
        }
    result["target_in_sync"] = "a few seconds and a few dozen requests at 100,000 entities"
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
