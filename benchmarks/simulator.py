"""How much of a client's time per page is the simulator's own?

Pages through the default-scale estate (3,362 systems) with plain ``requests``, as a client
would, and prints for each endpoint the client's wall time per page next to the simulator's
own handling time per page (from its request log) and the simulator's share.

    python benchmarks/simulator.py [--systems N] [--pagelimit N] [--reports N] [--quick]

Target (issue 3): the simulator's share of a client's time stays small at default scale
(about 20 % and 0.3–0.6 ms per 25-record page when issue 3 closed), so that benchmarks
measure the extractor. The share is a ratio within one run: ``run_all.py`` gates it in CI.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import requests
from figures import Figure

from pmp_intel.testing import simulated_pmp

#: The gated figure's name: reference.json knows it by this name.
SHARE = "simulator share of a bare client's time per page"


def main(argv: list[str] | None = None) -> list[Figure]:
    """Page through the estate, print the per-endpoint table, return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=3362)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pagelimit", type=int, default=25, help="records per page")
    parser.add_argument("--reports", type=int, default=300, help="systemreport fan-out size")
    parser.add_argument("--quick", action="store_true", help="1,000 systems, 100 reports (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.systems, args.reports = 1000, 100

    started = time.perf_counter()
    with simulated_pmp(systems=args.systems, seed=args.seed, auth="token") as pmp:
        session = requests.Session()
        session.headers["Authorization"] = pmp.credentials["token"]
        base = f"{pmp.base_url}/api/1.4/patch"
        # The first request of a version builds the whole-estate aggregates once.
        warm = time.perf_counter()
        session.get(f"{base}/summary", timeout=60).raise_for_status()
        warmup_s = time.perf_counter() - warm
        pmp.request_log.clear()

        client: dict[str, list[float]] = defaultdict(list)
        for endpoint in ("allsystems", "scandetails", "allpatches", "missingpatches"):
            page = 1
            while True:
                t0 = time.perf_counter()
                reply = session.get(
                    f"{base}/{endpoint}",
                    timeout=60,
                    params={"page": page, "pagelimit": args.pagelimit},
                )
                body = reply.json()
                client[endpoint].append(time.perf_counter() - t0)
                if not body["message_response"][endpoint]:
                    break
                page += 1
        for record in list(pmp.records("allsystems"))[: args.reports]:
            t0 = time.perf_counter()
            session.get(
                f"{base}/systemreport",
                timeout=60,
                params={"resid": record["resource_id"], "pagelimit": args.pagelimit},
            ).json()
            client["systemreport"].append(time.perf_counter() - t0)

        server: dict[str, list[float]] = defaultdict(list)
        for entry in pmp.request_log:
            if entry.endpoint:
                server[entry.endpoint].append(entry.elapsed_s)

    print(
        f"estate: {args.systems} systems, seed {args.seed}, pagelimit {args.pagelimit}; "
        f"one-off aggregation on first request: {warmup_s * 1000:.0f} ms"
    )
    print(
        f"{'endpoint':<16}{'pages':>7}{'client ms/page':>16}{'simulator ms/page':>19}{'share':>8}"
    )
    total_client = total_server = 0.0
    for endpoint, times in client.items():
        sim = server[endpoint]
        total_client += sum(times)
        total_server += sum(sim)
        print(
            f"{endpoint:<16}{len(times):>7}{statistics.mean(times) * 1000:>16.3f}"
            f"{statistics.mean(sim) * 1000:>19.3f}{sum(sim) / sum(times):>8.0%}"
        )
    print(
        f"{'all':<16}{sum(len(t) for t in client.values()):>7}{'':>16}{'':>19}"
        f"{total_server / total_client:>8.0%}"
    )
    print(f"wall time {time.perf_counter() - started:.1f} s")
    pages = sum(len(t) for t in client.values())
    return [
        Figure(
            SHARE,
            "small (issue 3; ~20 % when it closed)",
            100 * total_server / total_client,
            "%",
            ratio=total_server / total_client,
            ratio_of="client time",
            gated=True,
        ),
        Figure(
            f"simulator time per {args.pagelimit}-record page",
            "reported (0.3–0.6 ms when issue 3 closed)",
            1000 * total_server / pages,
            "ms",
        ),
    ]


if __name__ == "__main__":
    main()
