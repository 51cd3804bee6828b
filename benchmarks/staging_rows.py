"""CPU per record of turning a page into the rows the extractor stages, two ways.

For each endpoint that the extractor stages straight from the wire
(:meth:`Endpoint.for_staging <pmp_intel.endpoints.base.Endpoint.for_staging>`), the
simulator's records are turned into rows

* the ordinary way: ``parse_records`` (a validated model per record), then ``rows()``;
* the staging way: ``for_staging().parse_records`` (rows straight from the wire, the model
  only where a row plan is unsure).

Both give the same rows (tests/endpoints/test_rows_equivalence.py); this prints what each
costs, as process CPU time per record and per row (best of ``--repeat``), and the ratio.

    python benchmarks/staging_rows.py [--systems 3362] [--repeat 7]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from pmp_intel.endpoints import registry
from pmp_intel.endpoints.base import Endpoint, RecordRows
from pmp_intel.testing import simulated_pmp

#: The endpoints with the most records of a default estate (dcapi nests ~40 states each).
ENDPOINTS = ("dcapi_systemreport", "allsystems", "scandetails", "allpatches", "som_computers")


def _pages(pmp: Any, name: str, size: int) -> list[list[dict[str, Any]]]:
    records = list(pmp.records(name))
    return [records[i : i + size] for i in range(0, len(records), size)]


def _model_rows(endpoint: Endpoint, pages: list[list[dict[str, Any]]]) -> int:
    rows = 0
    for page in pages:
        records, _invalid = endpoint.parse_records(page)
        for record in records:
            rows += len(list(endpoint.rows(record)))
    return rows


def _staged_rows(endpoint: Endpoint, pages: list[list[dict[str, Any]]]) -> int:
    staging = endpoint.for_staging()
    rows = 0
    for page in pages:
        records, _invalid = staging.parse_records(page)
        for record in records:
            assert isinstance(record, RecordRows)
            rows += len(record.rows)
    return rows


def _best_cpu(call: Callable[[], int], repeat: int) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        rows = call()
        best = min(best, time.process_time() - started)
    return best, rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=3362)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each way (best kept)")
    args = parser.parse_args(argv)
    with simulated_pmp(systems=args.systems, seed=7) as pmp:
        loaded = {
            name: _pages(pmp, name, registry.get(name).max_page_size or 1000)
            for name in ENDPOINTS
        }
    print(f"{args.systems:,} systems, process CPU, best of {args.repeat}")
    print(f"{'endpoint':<20}{'records':>9}{'rows':>9}{'model µs/row':>14}"
          f"{'staging µs/row':>16}{'ratio':>8}")
    for name, pages in loaded.items():
        endpoint = registry.get(name)
        model_s, rows = _best_cpu(lambda: _model_rows(endpoint, pages), args.repeat)  # noqa: B023
        staged_s, staged = _best_cpu(lambda: _staged_rows(endpoint, pages), args.repeat)  # noqa: B023
        assert staged == rows, f"{name}: {staged} staged rows against {rows}"
        records = sum(len(p) for p in pages)
        print(
            f"{name:<20}{records:>9,}{rows:>9,}{model_s / rows * 1e6:>14.2f}"
            f"{staged_s / rows * 1e6:>16.2f}{staged_s / model_s:>8.2f}"
        )


if __name__ == "__main__":
    main()
