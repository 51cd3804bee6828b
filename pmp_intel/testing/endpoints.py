"""The endpoints the simulator serves: their registry names, paths, envelopes, filters, and how
each turns query parameters into a listing of records (pmp-api.md §4, §5).

Unfiltered listings are lazy: a page of ``allsystems`` builds only the systems on that page.
Filters, search and ordering need every candidate once; their results are cached per estate
version and parameter set.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pmp_intel.testing.catalogue import PLATFORM_NAMES
from pmp_intel.testing.estate import DECLINED, FAILED, INSTALLED, MISSING
from pmp_intel.testing.records import RecordBuilder
from pmp_intel.testing.wire import Record


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint: registry name, canonical path, envelope style and keys."""

    name: str
    path: str
    message_type: str
    list_key: str | None
    style: str = "list"
    optional: bool = False
    required: str | None = None


def _patch(
    name: str,
    required: str | None = None,
    key: str | None = None,
    style: str = "list",
    optional: bool = False,
) -> EndpointSpec:
    return EndpointSpec(
        name,
        f"/api/1.4/patch/{name}",
        name,
        None if style == "object" else (key or name),
        style,
        optional,
        required,
    )


#: Registry names shared by records(), total(), fault specs and the request log.
ENDPOINTS: dict[str, EndpointSpec] = {
    spec.name: spec
    for spec in (
        _patch("summary", style="object"),
        _patch("allsystems"),
        _patch("scandetails"),
        _patch("allpatches"),
        _patch("allpatchdetails", required="patchid"),
        _patch("systemreport", required="resid"),
        _patch("supportedpatches"),
        _patch("installedpatches"),
        _patch("missingpatches"),
        _patch("deploymentpolicies"),
        _patch("viewconfig"),
        _patch("healthpolicy", style="object"),
        _patch("approvalsettings", style="object"),
        _patch("dbupdatestatus", style="object"),
        EndpointSpec(
            "apdtasks",
            "/api/1.3/patch/apdTaskListdetails",
            "apdTaskListdetails",
            "apdtasklistdetails",
        ),
        EndpointSpec("som_computers", "/api/1.4/som/computers", "computers", "computers"),
        EndpointSpec("som_summary", "/api/1.4/som/summary", "summary", None, "object"),
        EndpointSpec(
            "som_remoteoffice", "/api/1.4/som/remoteoffice", "remoteoffice", "remoteoffice"
        ),
        EndpointSpec("dcapi_patches", "/dcapi/threats/patches", "patches", "patches", "dcapi"),
        EndpointSpec(
            "dcapi_systemreport",
            "/dcapi/threats/systemreport/patches",
            "systemreport",
            "systemreport",
            "dcapi",
        ),
        _patch("vulnerabilities", optional=True),
        _patch("deploymenttasks", optional=True),
        _patch("patchgroups", optional=True),
    )
}

#: ``(section, lower-case leaf)`` → registry name, for ``/api/{version}/{section}/{leaf}``.
API_ROUTES: dict[tuple[str, str], str] = {
    ("patch", spec.path.rsplit("/", 1)[1].lower()): spec.name
    for spec in ENDPOINTS.values()
    if "/patch/" in spec.path
}
API_ROUTES.update(
    {
        ("som", "computers"): "som_computers",
        ("som", "summary"): "som_summary",
        ("som", "remoteoffice"): "som_remoteoffice",
    }
)
DCAPI_ROUTES = {spec.path: spec.name for spec in ENDPOINTS.values() if spec.style == "dcapi"}

#: Application error codes. PMP's real numbering is unverified (pmp-api.md §3c, §8): these
#: are placeholders a client must not attach meaning to.
MISSING_PARAMETER = "10001"
INVALID_PARAMETER = "10002"
NOT_FOUND = "10003"
NOT_APPLICABLE = "10004"


class BadRequest(Exception):
    """A request the server answers with an error envelope (HTTP 200, status error)."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class Listing:
    """All records of one list request: ``total`` and a page fetcher."""

    total: int
    fetch: Callable[[int, int], list[Record]]

    @classmethod
    def of(cls, keys: Sequence[Any], build: Callable[[Any], Record]) -> Listing:
        """Lazily build records for a slice of ``keys``."""
        return cls(
            len(keys), lambda offset, limit: [build(k) for k in keys[offset : offset + limit]]
        )

    @classmethod
    def records(cls, records: list[Record]) -> Listing:
        """A listing over records already built."""
        return cls(len(records), lambda offset, limit: records[offset : offset + limit])


class PresentSystems(Sequence[int]):
    """The present managed systems as a lazy sequence of indices."""

    def __init__(self, builder: RecordBuilder) -> None:
        self.estate = builder.estate

    def __len__(self) -> int:
        return self.estate.present_count()

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            start, stop, _ = item.indices(len(self))
            return list(self.estate.present(start, stop))
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError(item)
        return self.estate.present_index(item)


class SupportedPatches(Sequence[int]):
    """Positions in the (very long) supported-patch catalogue."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            return range(*item.indices(self.size))
        return range(self.size)[item]


_INT_FILTERS = {
    "healthfilter": (0, 1, 2, 3),
    "livestatusfilter": (1, 2, 3),
    "agentinstallationstatusfilter": (21, 22, 23, 24, 29),
    "installstatusfilter": (21, 22, 23, 24, 29),
    "severityfilter": (0, 1, 2, 3, 4),
    "patchstatusfilter": (INSTALLED, MISSING, FAILED),
    "approvalstatusfilter": (0, 211, 212),
}
_SYSTEM_FILTERS = {
    "resid",
    "residfilter",
    "domainfilter",
    "branchofficefilter",
    "customgroupfilter",
    "platformfilter",
    "healthfilter",
    "livestatusfilter",
    "agentinstallationstatusfilter",
    "installstatusfilter",
}
_SCOPE_FILTERS = (
    "domainfilter",
    "branchofficefilter",
    "customgroupfilter",
    "livestatusfilter",
    "residfilter",
)


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(INVALID_PARAMETER, f"{name} must be a number, got {raw!r}") from None
    allowed = _INT_FILTERS.get(name)
    if allowed is not None and value not in allowed:
        raise BadRequest(INVALID_PARAMETER, f"{name} must be one of {allowed}, got {value}")
    return value


def _platform(params: dict[str, str]) -> int | None:
    raw = params.get("platformfilter")
    if not raw:
        return None
    for code, name in PLATFORM_NAMES.items():
        if name.casefold() == raw.casefold():
            return code
    raise BadRequest(
        INVALID_PARAMETER, f"platformfilter must be Windows, Mac or Linux, got {raw!r}"
    )


class Catalog:
    """Turns ``(endpoint, params)`` into a :class:`Listing` or an object."""

    def __init__(self, builder: RecordBuilder) -> None:
        self.b = builder
        self.estate = builder.estate
        self._lock = threading.Lock()
        self._memo: OrderedDict[Any, Any] = OrderedDict()

    def _memoised(self, memo_key: Any, build: Callable[[], Any]) -> Any:
        full_key = (self.estate.version, memo_key)
        with self._lock:
            if full_key in self._memo:
                self._memo.move_to_end(full_key)
                return self._memo[full_key]
        value = build()
        with self._lock:
            self._memo[full_key] = value
            while len(self._memo) > 32:
                self._memo.popitem(last=False)
        return value

    # --------------------------------------------------------------- dispatch ---
    def object(self, name: str, params: dict[str, str]) -> Record:
        """The object of an object endpoint."""
        if name == "summary":
            return self.b.summary()
        if name == "healthpolicy":
            from pmp_intel.testing.estate import HEALTH_POLICY

            policy: Record = {
                level: {sev: str(limit) for sev, limit in rule.items()}
                for level, rule in HEALTH_POLICY.items()
            }
            policy["consider_only_approved_patches"] = True
            return policy
        if name == "approvalsettings":
            return {"patch_approval": "manual"}
        if name == "dbupdatestatus":
            return self.b.db_status()
        if name == "som_summary":
            return self.b.som_summary()
        raise KeyError(name)

    def listing(self, name: str, params: dict[str, str]) -> Listing:
        """Every record ``name`` answers for ``params`` (before paging)."""
        handler = getattr(self, f"_list_{name}")
        listing: Listing = handler(params)
        if params.get("searchtype") or params.get("searchcolumn") or params.get("orderby"):
            listing = self._search_and_order(name, params, listing)
        return listing

    def _search_and_order(self, name: str, params: dict[str, str], listing: Listing) -> Listing:
        column = params.get("searchcolumn")
        if (column is not None or params.get("searchtype") is not None) and (
            params.get("searchtype") != column
        ):
            # S1: "the api requires searchtype to be set same as searchcolumn value".
            raise BadRequest(INVALID_PARAMETER, "searchtype must equal searchcolumn")
        order = params.get("orderby")
        descending = params.get("sortorder", "ASC").upper() == "DESC"
        value = params.get("searchvalue", "").casefold()

        def build() -> list[Record]:
            records = listing.fetch(0, listing.total)
            if records and column and column not in records[0]:
                raise BadRequest(INVALID_PARAMETER, f"unknown search column {column!r}")
            if column:
                records = [r for r in records if value in str(r.get(column, "")).casefold()]
            if order:
                if records and order not in records[0]:
                    raise BadRequest(INVALID_PARAMETER, f"unknown orderby column {order!r}")
                records.sort(
                    key=lambda r: (isinstance(r[order], str), r[order]), reverse=descending
                )
            return records

        memo_key = (
            name,
            tuple(sorted((k, v) for k, v in params.items() if k not in ("page", "pagelimit"))),
        )
        return Listing.records(self._memoised(memo_key, build))

    # ------------------------------------------------------------ system lists ---
    def _system_keys(self, name: str, params: dict[str, str]) -> Sequence[int]:
        predicate = self._system_predicate(params)
        if predicate is None:
            return PresentSystems(self.b)
        memo_key = (
            "systems",
            tuple(sorted((k, v) for k, v in params.items() if k in _SYSTEM_FILTERS)),
        )
        keys: list[int] = self._memoised(
            memo_key, lambda: [i for i in self.estate.present() if predicate(i)]
        )
        return keys

    def _system_predicate(self, params: dict[str, str]) -> Callable[[int], bool] | None:
        e = self.estate
        checks: list[Callable[[int], bool]] = []
        for name in ("resid", "residfilter"):
            resid = _int_param(params, name)
            if resid is not None:
                checks.append(_equals(lambda i: e.system(i).resource_id, resid))
        texts: tuple[tuple[str, Callable[[int], str]], ...] = (
            ("domainfilter", lambda i: e.system(i).domain),
            ("branchofficefilter", lambda i: e.system(i).org.name),
            ("customgroupfilter", lambda i: e.system(i).custom_group),
        )
        for name, text in texts:
            raw = params.get(name)
            if raw:
                checks.append(_equals(_folded(text), raw.casefold()))
        platform = _platform(params)
        if platform is not None:
            checks.append(_equals(lambda i: e.system(i).os.platform, platform))
        health = _int_param(params, "healthfilter")
        if health is not None:
            checks.append(_equals(lambda i: e.state(i).health, health))
        live = _int_param(params, "livestatusfilter")
        if live is not None:
            checks.append(_equals(lambda i: e.live_status(e.system(i)), live))
        for name in ("agentinstallationstatusfilter", "installstatusfilter"):
            status = _int_param(params, name)
            if status is not None:
                checks.append(_equals(lambda i: e.system(i).installation_status, status))
        if not checks:
            return None
        return lambda i: all(check(i) for check in checks)

    def _list_allsystems(self, params: dict[str, str]) -> Listing:
        return Listing.of(self._system_keys("allsystems", params), self.b.allsystems)

    def _list_scandetails(self, params: dict[str, str]) -> Listing:
        return Listing.of(self._system_keys("scandetails", params), self.b.scandetails)

    def _list_dcapi_systemreport(self, params: dict[str, str]) -> Listing:
        return Listing.of(PresentSystems(self.b), self.b.dcapi_system)

    def _list_som_computers(self, params: dict[str, str]) -> Listing:
        e = self.estate
        predicate = self._system_predicate(params)
        present = PresentSystems(self.b)
        unmanaged = e.unmanaged_count()
        if predicate is None:

            def fetch(offset: int, limit: int) -> list[Record]:
                end = offset + limit
                managed = [self.b.som_computer(e.system(i)) for i in present[offset:end]]
                first = max(0, offset - len(present))
                last = max(0, min(unmanaged, end - len(present)))
                return managed + [self.b.som_computer(e.unmanaged(j)) for j in range(first, last)]

            return Listing(len(present) + unmanaged, fetch)
        keys = self._system_keys("som_computers", params)
        return Listing.of(keys, lambda i: self.b.som_computer(e.system(i)))

    def _list_som_remoteoffice(self, params: dict[str, str]) -> Listing:
        return Listing.records(self.b.remote_offices())

    # ------------------------------------------------------------- patch lists ---
    def _scoped_counts(self, params: dict[str, str]) -> dict[int, list[int]]:
        scope = {k: params[k] for k in _SCOPE_FILTERS if params.get(k)}
        if not scope:
            return self.estate.aggregates().counts
        predicate = self._system_predicate(scope)
        assert predicate is not None

        def build() -> dict[int, list[int]]:
            counts: dict[int, list[int]] = {}
            for i in self.estate.present():
                if not predicate(i):
                    continue
                for row in self.estate.state(i).rows:
                    entry = counts.setdefault(row[0], [0, 0, 0])
                    entry[0 if row[1] == INSTALLED else 1 if row[1] == MISSING else 2] += 1
            return counts

        return self._memoised(("scope", tuple(sorted(scope.items()))), build)  # type: ignore[no-any-return]

    def _patch_keys(
        self, params: dict[str, str], which: str
    ) -> tuple[list[int], dict[int, list[int]]]:
        e = self.estate
        counts = self._scoped_counts(params)
        order = e.aggregates().by_patch_sorted
        platform = _platform(params)
        patch_id = _int_param(params, "patchid")
        bulletin = params.get("bulletinid", "").casefold()
        severity = _int_param(params, "severityfilter")
        approval = _int_param(params, "approvalstatusfilter")
        status = _int_param(params, "patchstatusfilter")
        keys = []
        for pid in order:
            c = counts.get(pid)
            if c is None:
                continue
            if which == "missing" and not (c[1] or c[2]):
                continue
            if which == "installed" and (c[1] or c[2] or not c[0]):
                continue
            if patch_id is not None and pid != patch_id:
                continue
            p = e.patch(pid)
            assert p is not None
            if platform is not None and p.product.platform != platform:
                continue
            if bulletin and p.bulletin_id.casefold() != bulletin:
                continue
            if severity is not None and p.severity != severity:
                continue
            if approval is not None and e.approval(p) != approval:
                continue
            if status is not None and not c[(INSTALLED, MISSING, FAILED).index(status)]:
                continue
            keys.append(pid)
        return keys, counts

    def _patch_listing(
        self, params: dict[str, str], which: str, build: Callable[[int, list[int]], Record]
    ) -> Listing:
        memo_key = (which, tuple(sorted(params.items())))
        keys, counts = self._memoised(memo_key, lambda: self._patch_keys(params, which))
        return Listing.of(keys, lambda pid: build(pid, counts[pid]))

    def _list_allpatches(self, params: dict[str, str]) -> Listing:
        return self._patch_listing(self._filters_only(params), "all", self.b.allpatches)

    def _list_missingpatches(self, params: dict[str, str]) -> Listing:
        return self._patch_listing(self._filters_only(params), "missing", self.b.patch_aggregate)

    def _list_installedpatches(self, params: dict[str, str]) -> Listing:
        return self._patch_listing(self._filters_only(params), "installed", self.b.patch_aggregate)

    def _list_dcapi_patches(self, params: dict[str, str]) -> Listing:
        agg = self.estate.aggregates()
        keys = sorted(agg.counts)
        return Listing.of(keys, lambda pid: self.b.dcapi_patch(pid, agg.counts[pid]))

    @staticmethod
    def _filters_only(params: dict[str, str]) -> dict[str, str]:
        ignored = {
            "page",
            "pagelimit",
            "searchtype",
            "searchcolumn",
            "searchvalue",
            "orderby",
            "sortorder",
        }
        return {k: v for k, v in params.items() if k not in ignored}

    def _list_supportedpatches(self, params: dict[str, str]) -> Listing:
        applicable = self.b.cached("supported_ids", lambda: sorted(self.estate.aggregates().counts))
        size = len(applicable) + self.estate.config.synthetic_supported
        return Listing.of(SupportedPatches(size), lambda pos: self.b.supported(pos, applicable))

    def _list_systemreport(self, params: dict[str, str]) -> Listing:
        e = self.estate
        resid = _int_param(params, "resid")
        index = e.index_of(resid) if resid is not None else None
        if index is None or not e.is_present(index):
            raise BadRequest(NOT_FOUND, f"no computer with resid {params.get('resid')}")
        platform = _platform(params)
        if platform is not None and e.system(index).os.platform != platform:
            return Listing.records([])
        status = _int_param(params, "patchstatusfilter")
        severity = _int_param(params, "severityfilter")
        approval = _int_param(params, "approvalstatusfilter")
        rows = list(e.state(index).rows)
        if status is not None:
            rows = [r for r in rows if r[1] == status]
        if severity is not None:
            rows = [r for r in rows if e.patch(r[0]).severity == severity]  # type: ignore[union-attr]
        if approval is not None:
            rows = [r for r in rows if e.approval(e.patch(r[0])) == approval]  # type: ignore[arg-type]
        return Listing.of(rows, lambda row: self.b.systemreport(index, row))

    def _list_allpatchdetails(self, params: dict[str, str]) -> Listing:
        e = self.estate
        pid = _int_param(params, "patchid")
        decoded = e.decode_patch_id(pid) if pid is not None else None
        patch = e.patch(pid) if decoded is not None and pid is not None else None
        if patch is None or pid not in e.aggregates().counts:
            raise BadRequest(NOT_FOUND, f"no applicable patch with patchid {params.get('patchid')}")
        pi, _, fi, _ = decoded  # type: ignore[misc]
        bulletin = params.get("bulletinid", "").casefold()
        severity = _int_param(params, "severityfilter")
        status = _int_param(params, "patchstatusfilter")
        if (bulletin and bulletin != patch.bulletin_id.casefold()) or (
            severity is not None and severity != patch.severity
        ):
            return Listing.records([])
        scope = {
            k: params[k]
            for k in ("domainfilter", "branchofficefilter", "customgroupfilter", "platformfilter")
            if params.get(k)
        }
        predicate = self._system_predicate(scope)

        def build() -> list[tuple[int, tuple[int, int, int, int, int, int]]]:
            found = []
            for index in self.b.holders(pi, fi):
                if predicate is not None and not predicate(index):
                    continue
                for row in e.state(index).rows:
                    if row[0] == pid and (status is None or row[1] == status):
                        found.append((index, row))
            return found

        memo_key = ("details", tuple(sorted(params.items())))
        pairs = self._memoised(memo_key, build)
        return Listing.of(pairs, lambda pair: self.b.allpatchdetails(*pair))

    # ----------------------------------------------------------- configuration ---
    def _list_deploymentpolicies(self, params: dict[str, str]) -> Listing:
        records = self.b.policies()
        name = params.get("policyname", "").casefold()
        if name:
            records = [r for r in records if name in str(r["template_name"]).casefold()]
        platform = params.get("platform")
        if platform:
            code = next(
                (c for c, n in PLATFORM_NAMES.items() if n.casefold() == platform.casefold()), None
            )
            if code is None:
                raise BadRequest(INVALID_PARAMETER, f"unknown platform {platform!r}")
            records = [r for r in records if r["scriptaction.platform_id"] == code]
        return Listing.records(records)

    def _list_viewconfig(self, params: dict[str, str]) -> Listing:
        return Listing.records(self.b.view_configs())

    def _list_apdtasks(self, params: dict[str, str]) -> Listing:
        return Listing.records(self.b.apd_tasks())

    # ------------------------------------------ optional (404 unless switched on) ---
    def _list_vulnerabilities(self, params: dict[str, str]) -> Listing:
        def build() -> list[Record]:
            by_cve: dict[str, Record] = {}
            for pid in sorted(self.estate.aggregates().counts):
                p = self.estate.patch(pid)
                assert p is not None
                for cve, score in p.cves:
                    entry = by_cve.setdefault(
                        cve,
                        {
                            "cve_id": cve,
                            "cvss_score": score,
                            "cvss_severity": _band(score),
                            "description": f"Vulnerability fixed by {p.bulletin_id}",
                            "published_time": p.released_ms,
                            "patch_ids": [],
                        },
                    )
                    entry["patch_ids"].append(pid)
            for entry in by_cve.values():
                entry["patch_ids"] = ",".join(str(pid) for pid in entry["patch_ids"])
            return sorted(by_cve.values(), key=lambda r: str(r["cve_id"]))

        return Listing.records(self.b.cached("vulns", build))

    def _list_deploymenttasks(self, params: dict[str, str]) -> Listing:
        return Listing.records(
            [
                {
                    "task_id": int(t["task_id"]),
                    "task_name": t["task_name"],
                    "task_type": int(t["task_type"]),
                    "collection_id": int(t["collection_id"]),
                    "status": "Active" if t["collection_status"] == "2" else "Suspended",
                    "created_time": int(t["task_creation_time"]),
                }
                for t in self.b.apd_tasks()
            ]
        )

    def _list_patchgroups(self, params: dict[str, str]) -> Listing:
        groups: dict[str, int] = {}
        for pid in self.estate.aggregates().counts:
            p = self.estate.patch(pid)
            assert p is not None
            groups[p.product.update_name] = groups.get(p.product.update_name, 0) + 1
        return Listing.records(
            [
                {"group_id": 100 + i, "group_name": name, "patch_count": n}
                for i, (name, n) in enumerate(sorted(groups.items()))
            ]
        )


def _folded(get: Callable[[int], str]) -> Callable[[int], str]:
    return lambda i: get(i).casefold()


def _equals(get: Callable[[int], object], wanted: object) -> Callable[[int], bool]:
    return lambda i: get(i) == wanted


def _band(score: float) -> str:
    from pmp_intel.testing.records import cvss_severity

    return cvss_severity(score)


#: Approval status codes accepted by filters (for docs/tests).
APPROVAL_CODES = (0, 211, DECLINED)
