#!/usr/bin/env python3
"""Validate the compose files: ``docker compose config -q`` when Docker's compose plugin is
installed, else the Compose Specification's JSON schema (shipped by check-jsonschema) plus the
checks a schema cannot make: every ``depends_on`` names a service of the file, and every file a
service mounts or reads (``./`` volumes, ``env_file``) exists, or its ``.example`` template does.

    python .ci/check_compose.py [--schema] [FILE ...]     # default: both files of the repository

Exit status 0 when every file passes, 1 otherwise (each problem on its own line).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = ("docker-compose.yml", "docker-compose.prod.yml")


def compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return result.returncode == 0


def check_with_docker(path: Path) -> list[str]:
    """``docker compose config -q`` in a scratch copy where each missing secrets file is its
    ``.example`` template (a clean clone has only the templates)."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if (path.parent / "docker").is_dir():
            shutil.copytree(path.parent / "docker", work / "docker")
        for example in work.rglob("*.env.example"):
            target = example.with_name(example.name[: -len(".example")])
            if not target.exists():
                shutil.copy(example, target)
        shutil.copy(path, work / path.name)
        result = subprocess.run(
            ["docker", "compose", "-f", str(work / path.name), "config", "-q"], capture_output=True, text=True, cwd=work
        )
    return [f"{path.name}: {line}" for line in result.stderr.splitlines() if line.strip()] if result.returncode else []


def check_with_schema(path: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", "-o", "text", str(path)],
        capture_output=True,
        text=True,
    )
    problems = (
        []
        if result.returncode == 0
        else [
            f"{path.name}: {line.strip()}"
            for line in (result.stdout + result.stderr).splitlines()
            if line.strip() and "validation done" not in line
        ]
        or [f"{path.name}: schema check failed"]
    )
    return problems + check_references(path)


def check_references(path: Path) -> list[str]:
    from ruamel.yaml import YAML

    try:
        document = YAML(typ="safe").load(path.read_text()) or {}
    except Exception as exc:  # noqa: BLE001 - any parse error is the file's problem to report
        return [f"{path.name}: not YAML: {exc}"]
    services = document.get("services") or {}
    problems = []
    for name, service in services.items():
        service = service or {}
        depends = service.get("depends_on") or []
        for needed in depends if isinstance(depends, list) else list(depends):
            if needed not in services:
                problems.append(f"{path.name}: service {name} depends on {needed}, which the file does not define")
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else (volume or {}).get("source", "")
            if source.startswith("./") and not (path.parent / source).exists():
                problems.append(f"{path.name}: service {name} mounts {source}, which does not exist")
        env_files = service.get("env_file") or []
        for entry in [env_files] if isinstance(env_files, (str, dict)) else env_files:
            file = entry if isinstance(entry, str) else entry.get("path", "")
            target = path.parent / file
            if not target.exists() and not target.with_name(target.name + ".example").exists():
                problems.append(f"{path.name}: service {name} reads {file}, which has no .example template either")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", action="store_true", help="use the schema check even if Docker is installed")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    files = args.files or [ROOT / name for name in DEFAULT_FILES]
    use_docker = not args.schema and compose_plugin()
    problems = []
    for path in files:
        problems += check_with_docker(path) if use_docker else check_with_schema(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    method = "docker compose config" if use_docker else "the Compose Specification schema"
    print(f"compose files {'invalid' if problems else 'valid'} ({method}): {', '.join(p.name for p in files)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
