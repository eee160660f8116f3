"""``python -m core.probe [URL]``: exit 0 when URL answers 2xx within 3 s, else 1.

The container health check of every service (the image has no curl). Without a URL it probes
``$HEALTHCHECK_URL``, else this container's own ``/api/v1/ready`` on ``$APP_PORT`` (4001).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def default_url(environ: dict[str, str]) -> str:
    return environ.get("HEALTHCHECK_URL") or f"http://127.0.0.1:{environ.get('APP_PORT') or 4001}/api/v1/ready"


def probe(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300, f"{url}: {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: {exc.code} {exc.read(500).decode('utf-8', 'replace')}"
    except (OSError, ValueError) as exc:
        return False, f"{url}: {exc}"


USAGE = "usage: python -m core.probe [URL]   (default: $HEALTHCHECK_URL, else http://127.0.0.1:$APP_PORT/api/v1/ready)"


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    ok, summary = probe(argv[0] if argv else default_url(dict(os.environ)))
    # Docker keeps the output of the last checks: `docker inspect` shows why one failed.
    print(summary, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
