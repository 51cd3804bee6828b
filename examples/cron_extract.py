"""Cron-friendly extraction: one snapshot, JSON logs to stderr, the exit code for cron.

    */30 * * * *  cd /srv/pmp && .venv/bin/python examples/cron_extract.py --max-minutes 25

Configuration comes from the environment (PMP_BASE_URL, PMP_CLIENT_ID, …; see
docs/configuration.md). Exit 0: snapshot complete; 1: fatal; 2: partial or stopped on the
budget — the next run continues where this one stopped.
"""

from __future__ import annotations

import argparse
import sys

from pmp_intel import Extractor, Settings
from pmp_intel.logs import configure_logging
from pmp_intel.settings import LogFormat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-minutes", type=float, default=None, help="time budget")
    parser.add_argument("--max-pages", type=int, default=None, help="page budget")
    args = parser.parse_args(argv)
    configure_logging(LogFormat.JSON)
    result = Extractor(
        Settings(), trigger="cron", max_minutes=args.max_minutes, max_pages=args.max_pages
    ).run()
    return int(result.exit_code)


if __name__ == "__main__":
    sys.exit(main())
