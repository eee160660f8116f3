"""``/static/...``: the dashboard's assets, with the protective headers and no 500 on odd names."""

from __future__ import annotations

import re

from tornado.web import HTTPError, StaticFileHandler

from ..headers import set_protective_headers

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")


class StaticFiles(StaticFileHandler):
    def set_default_headers(self) -> None:
        # Asset URLs are versioned (?v=...), so they may be cached; an SVG opened on its own
        # still gets the CSP and cannot be framed.
        set_protective_headers(self, cacheable=True)

    def parse_url_path(self, url_path: str) -> str:
        # The file system refuses a NUL byte with ValueError (a 500); no asset has such a name.
        if _UNSAFE.search(url_path):
            raise HTTPError(404)
        return super().parse_url_path(url_path)
