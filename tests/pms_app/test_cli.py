"""The ops command line as a whole: ``--help`` everywhere, exit statuses and one-line errors for a
database that is unreachable or not migrated, real processes against the test databases, and
``reconcile`` through the same entry."""

from __future__ import annotations

import types

import pytest

from pms_app.sync.models import SyncRun
from tests.support.cli import Cli
from tests.support.processes import free_port

COMMANDS = [
    ["status"],
    ["deliveries"],
    ["deliveries", "list"],
    ["deliveries", "replay"],
    ["endpoints"],
    ["endpoints", "list"],
    ["endpoints", "add"],
    ["endpoints", "disable"],
    ["endpoints", "enable"],
    ["endpoints", "rotate-secret"],
    ["reconcile"],
]


@pytest.fixture
def cli(pms_db, monkeypatch, capsys) -> Cli:
    return Cli(pms_db, monkeypatch, capsys)


def cli_on(url: str, monkeypatch, capsys) -> Cli:
    """The command line on a database the test does not open itself."""
    return Cli(types.SimpleNamespace(url=url, database=None), monkeypatch, capsys)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(monkeypatch, capsys, tmp_path, command):
    cli = cli_on(f"sqlite:///{tmp_path}/never-opened.db", monkeypatch, capsys)
    outcome = cli(*command, "--help")
    assert outcome.status == 0
    assert outcome.out.startswith(f"usage: python -m pms_app {' '.join(command)}")
    assert not (tmp_path / "never-opened.db").exists()


def test_top_level_help_names_the_ops_commands(monkeypatch, capsys, tmp_path):
    outcome = cli_on(f"sqlite:///{tmp_path}/x.db", monkeypatch, capsys).process("--help")
    assert outcome.status == 0
    for name in ("status", "deliveries", "endpoints", "reconcile"):
        assert name in outcome.out


@pytest.mark.parametrize(
    "argv", [["deliveries"], ["deliveries", "forget"], ["endpoints", "remove", "2"], ["status", "--verbose"]]
)
def test_bad_arguments_exit_2_like_argparse(monkeypatch, capsys, tmp_path, argv):
    outcome = cli_on(f"sqlite:///{tmp_path}/x.db", monkeypatch, capsys)(*argv)
    assert outcome.status == 2
    assert "error:" in outcome.err.splitlines()[-1]


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["deliveries", "list"],
        ["endpoints", "list"],
        ["endpoints", "disable", "2", "--operator", "alice"],
        ["deliveries", "replay", "--failed", "--operator", "alice"],
        ["reconcile", "--dry-run"],
    ],
)
def test_an_unmigrated_database_is_named_not_used(monkeypatch, capsys, tmp_path, argv):
    cli = cli_on(f"sqlite:///{tmp_path}/empty.db", monkeypatch, capsys)
    outcome = cli(*argv)
    assert outcome.status == 3
    assert outcome.out == ""
    [line] = outcome.err.splitlines()
    assert line.startswith(
        f"python -m pms_app {' '.join(a for a in argv[:2] if not a.startswith('-'))}: error: the database lacks "
    )
    assert line.endswith("run `python -m pms_app migrate` first")


def test_an_unreachable_database_is_one_line_in_a_real_process(monkeypatch, capsys):
    cli = cli_on(f"mysql://root@127.0.0.1:{free_port()}/pms_db", monkeypatch, capsys)
    outcome = cli.process("endpoints", "list")
    assert outcome.status == 3
    assert outcome.out == ""
    [line] = outcome.err.splitlines()
    assert line.startswith("python -m pms_app endpoints list: error: the database is unavailable: ")
    assert "Can't connect" in line


def test_a_database_url_of_unknown_form_is_a_configuration_error(monkeypatch, capsys):
    outcome = cli_on("postgres://db/pms", monkeypatch, capsys)("status")
    assert outcome.status == 2
    # The settings refuse it before any command runs, as for every other entry point.
    assert outcome.err.strip() == (
        "configuration error: DATABASE_URL must look like sqlite:///relative/path.db, "
        "sqlite:////absolute/path.db or mysql://user:pass@host:3306/name, "
        "got 'postgres://db/pms'"
    )


def test_a_real_process_reads_and_changes_the_test_database(pms_db, cli):
    added = cli.process("endpoints", "add", "billing", "https://billing.example/hook", "--operator", "alice", "--json")
    assert added.status == 0, added.err
    assert added.json["data"]["name"] == "billing"
    listed = cli.process("endpoints", "list", "--json")
    assert [e["name"] for e in listed.json["data"]] == ["crm", "billing"]
    missing = cli.process("endpoints", "enable", "99", "--operator", "alice")
    assert (missing.status, missing.err) == (1, "python -m pms_app endpoints enable: error: endpoint 99 not found\n")


def test_reconcile_runs_through_the_same_entry(pms_db, cli, monkeypatch):
    """With the CRM unreachable, each kind's run is recorded as failed and the command exits 1."""
    monkeypatch.setenv("CRM_API_URL", f"http://127.0.0.1:{free_port()}/api/v1")
    outcome = cli("reconcile", "--json")
    assert outcome.status == 1
    runs = outcome.json["data"]
    assert [(r["kind"], r["status"]) for r in runs] == [("guest", "failed"), ("reservation", "failed")]
    assert pms_db.store.call(lambda: SyncRun.select().count()) == 2
