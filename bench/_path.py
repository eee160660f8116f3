"""Makes the repository root importable for the benchmarks, which run as ``python bench/<name>.py``
(the directory on ``sys.path`` is then ``bench/``): the services' packages, and ``tests.support``,
whose helpers (free ports, processes, MySQL databases, percentiles) the benchmarks share with the
tests. Each benchmark imports it first: ``from _path import ROOT``."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
