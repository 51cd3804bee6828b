"""The simulated MSP estate: a seeded, lazily computed model of systems, patches and their states.

Nothing is materialised per system-patch pair. A system is a pure function of ``(seed, index)``;
which patches apply to it is a function of its products and the clock; whether each one is
installed, missing or failed is a function of a per-row hash and the patch's age. So any page of
any endpoint can be computed on its own, a 100,000-system estate streams in constant memory, and
time moving (:meth:`Estate.advance`) installs patches with recorded install times, releases new
ones and supersedes old ones without storing a single row. Only genuinely stateful churn (systems
added and retired) is kept, as compact overrides.

Aggregates that need the whole estate (the summary, per-patch counts) are computed once per
``version`` and cached; ``version`` changes whenever time moves.
"""

from __future__ import annotations

import math
import random
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from pmp_intel.testing.catalogue import (
    AGENT_VERSIONS,
    CATEGORIES,
    ERROR_CODES,
    ESU_ERROR_CODE,
    KIND_WEIGHTS,
    OPERATING_SYSTEMS,
    ORG_PREFIXES,
    ORG_SUFFIXES,
    PRODUCTS,
    Org,
    OsSpec,
    Product,
)
from pmp_intel.testing.rng import (
    GOLDEN,
    MASK64,
    SPAN64,
    Weighted,
    key,
    label,
    mix64,
    threshold,
    unit,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
#: The sample day of the real summary (maia-legacy.md §2.6).
DEFAULT_START = datetime(2025, 11, 25, tzinfo=UTC)
#: The real estate the defaults are scaled from (maia-legacy.md §6).
REFERENCE_SYSTEMS = 3362

INSTALLED, MISSING, FAILED = 201, 202, 206
APPROVED, NOT_APPROVED, DECLINED = 211, 0, 212
DEPLOY_INSTALLED, DEPLOY_REBOOT_PENDING, DEPLOY_FAILED, DEPLOY_DELAYED = 209, 207, 206, 245
SCAN_FAILED, SCAN_IN_PROGRESS, SCAN_SUCCESS, SCAN_NOT_SCANNED = 226, 227, 228, 229
HEALTH_UNKNOWN, HEALTHY, VULNERABLE, HIGHLY_VULNERABLE = 0, 1, 2, 3

RESOURCE_ID_BASE = 95_000_010_000_000
RESOURCE_ID_STEP = 3_067
PATCH_ID_BASE = 400_000
SYNTHETIC_PATCH_ID_BASE = 20_000_000
#: Release index offset so that every stream's k is non-negative from 2015 on.
K_OFFSET = 50
CATALOGUE_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
CATALOGUE_EPOCH_MS = int(CATALOGUE_EPOCH.timestamp() * 1000)

#: Fraction of systems whose agent never completes a scan (summary: 38 of 3,358 unscanned).
NEVER_SCANNED = 0.011
#: Per-day chance that a system's latest scan failed (summary: 25 of 3,320 scans failed).
SCAN_FAILURE = 0.0075
INSTALL_LAG_MS = DAY_MS // 2
FAIL_LAG_MS = 2 * DAY_MS

#: Health thresholds (healthpolicy): missing counts per severity; 0 means "not considered".
#: Observed rule: Vulnerable = 1+ important missing, Highly Vulnerable = 1+ critical missing.
HEALTH_POLICY = {
    "vulnerable": {"critical": 0, "important": 1, "moderate": 0, "low": 0},
    "highly_vulnerable": {"critical": 1, "important": 0, "moderate": 0, "low": 0},
}


_SYSTEM_LABEL = label("system")
_PRODUCTS_LABEL = label("products")
_KIND_TAGS = {"ws": "WS", "srv": "SRV", "mac": "MAC", "linux": "LNX"}
_KIND_GROUPS = {
    "ws": "Workstations",
    "srv": "Servers",
    "mac": "Mac Devices",
    "linux": "Linux Servers",
}


def _scaled(reference: int, systems: int, minimum: int = 1) -> int:
    """Scale a count seen on the real estate to ``systems`` (square root: these are things
    people create, which grow slower than the fleet)."""
    return max(minimum, round(reference * math.sqrt(systems / REFERENCE_SYSTEMS)))


@dataclass(frozen=True)
class EstateConfig:
    """Shape of a simulated estate. Unset counts scale from the real 3,362-system estate."""

    systems: int = REFERENCE_SYSTEMS
    seed: int = 7
    start: datetime = DEFAULT_START
    orgs: int | None = None
    policies: int | None = None
    view_configs: int | None = None
    apd_tasks: int | None = None
    supported_patches: int | None = None
    unmanaged_share: float = 0.035
    esu_org_share: float = 0.3
    add_rate: float = 0.0010
    retire_rate: float = 0.0008

    def __post_init__(self) -> None:
        if self.systems < 1:
            raise ValueError("an estate needs at least one system")

    @property
    def org_count(self) -> int:
        """Number of customer organisations (~30 at the default scale)."""
        return min(self.systems, self.orgs or _scaled(30, self.systems, 2))

    @property
    def policy_count(self) -> int:
        """Number of deployment policies (92 on the real estate)."""
        return self.policies if self.policies is not None else _scaled(92, self.systems, 3)

    @property
    def view_config_count(self) -> int:
        """Number of view configurations (225 on the real estate)."""
        return self.view_configs if self.view_configs is not None else _scaled(225, self.systems, 3)

    @property
    def apd_task_count(self) -> int:
        """Number of automated patch deployment tasks (70 on the real estate)."""
        return self.apd_tasks if self.apd_tasks is not None else _scaled(70, self.systems, 2)

    @property
    def synthetic_supported(self) -> int:
        """Supported-but-not-applicable catalogue entries (~360k on the real server)."""
        if self.supported_patches is not None:
            return self.supported_patches
        return round(107.0 * self.systems)


@dataclass(frozen=True, slots=True)
class System:
    """The time-independent facts of one managed (or SoM-only) computer."""

    index: int
    resource_id: int
    skey: int
    org: Org
    os: OsSpec
    name: str
    ip_address: str
    mac_address: str
    agent_version: str
    agent_installed_on: int
    added_ms: int
    never_scanned: bool
    custom_group: str
    owner: str
    description: str
    managed: bool = True
    installation_status: int = 22

    @property
    def kind(self) -> str:
        """``ws``, ``srv``, ``mac`` or ``linux``."""
        return self.os.kind

    @property
    def domain(self) -> str:
        """NetBIOS domain (Windows) or workgroup."""
        return self.org.abbreviation if self.os.platform == 1 else "WORKGROUP"


#: One system-patch state: ``(patch_id, status, hash, installed_time, error_code,
#: deployment_status)``. A plain tuple: a system has ~40 of them and they are built on every
#: page, so the constructor cost of a dataclass shows.
Row = tuple[int, int, int, int, int, int]
R_PATCH, R_STATUS, R_HASH, R_INSTALLED, R_ERROR, R_DEPLOY = range(6)


@dataclass(frozen=True, slots=True)
class SystemState:
    """A system's patch rows and everything derived from them at one moment."""

    rows: tuple[Row, ...]
    missing: dict[str, int]
    installed: dict[str, int]
    missing_by_severity: tuple[int, int, int, int, int]
    health: int
    scan_status: int
    live_status: int
    last_patched: int
    reboot_required: bool


@dataclass(frozen=True, slots=True)
class Patch:
    """One patch (time-independent facts)."""

    patch_id: int
    product: Product
    product_index: int
    k: int
    flavour: str
    part: str
    update_id: int
    released_ms: int
    kb: int
    version: str
    severity: int
    size: int
    name: str
    description: str
    bulletin_id: str
    cves: tuple[tuple[str, float], ...]


@dataclass
class Aggregates:
    """Whole-estate figures for one version: the summary and per-patch counts agree by
    construction because both come from this one pass."""

    counts: dict[int, list[int]] = field(default_factory=dict)
    health: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    scan: dict[int, int] = field(default_factory=dict)
    live: dict[int, int] = field(default_factory=dict)
    systems: int = 0
    rows: int = 0
    by_patch_sorted: list[int] = field(default_factory=list)
    missing_sorted: list[int] = field(default_factory=list)
    installed_sorted: list[int] = field(default_factory=list)


class Estate:
    """A seeded, lazily evaluated MSP estate (same seed and same calls → same answers)."""

    def __init__(self, config: EstateConfig | None = None, **overrides: object) -> None:
        if config is None:
            config = EstateConfig(**overrides)  # type: ignore[arg-type]
        elif overrides:
            raise TypeError("pass either config or keyword overrides, not both")
        self.config = config
        self.seed = config.seed
        self.start_ms = int(config.start.timestamp() * 1000)
        self.now_ms = self.start_ms
        self.version = 0
        self._lock = threading.RLock()
        self.created = config.systems
        self.added: dict[int, int] = {}
        self._retired: list[int] = []
        self._retired_set: set[int] = set()
        self.orgs = self._make_orgs()
        self._org_pick = Weighted(self.orgs, [o.weight for o in self.orgs])
        self._kind_pick = Weighted(tuple(KIND_WEIGHTS), tuple(KIND_WEIGHTS.values()))
        self._os_by_kind = {
            kind: [os for os in OPERATING_SYSTEMS if os.kind == kind] for kind in KIND_WEIGHTS
        }
        self._os_pick = {
            kind: Weighted(options, [os.weight for os in options])
            for kind, options in self._os_by_kind.items()
        }
        self._slots: list[int] = []
        slot = 0
        for product in PRODUCTS:
            self._slots.append(slot)
            slot += len(product.flavours) * len(product.parts)
        self.slot_count = slot
        self._slot_owner = [(pi, s) for pi, s in enumerate(self._slots)]
        self._flavour_pick = [
            Weighted(p.flavours, [1.0 / (i + 1) ** p.skew for i in range(len(p.flavours))])
            for p in PRODUCTS
        ]
        # Per OS stream: the products a system may have, with their adoption and flavour pick.
        self._candidates: dict[str, list[tuple[int, float, Weighted | None]]] = {}
        for os in OPERATING_SYSTEMS:
            self._candidates[os.stream] = [
                (
                    pi,
                    p.applies_to(os.kind, os.stream),
                    self._flavour_pick[pi] if len(p.flavours) > 1 else None,
                )
                for pi, p in enumerate(PRODUCTS)
                if not p.group and p.applies_to(os.kind, os.stream) > 0.0
            ]
        self._windows: dict[int, tuple[tuple[int, int, int], ...]] = {}
        self._patches: dict[int, Patch] = {}
        self._aggregates: Aggregates | None = None
        self._states: dict[int, SystemState] = {}
        self._state_cap = 4_096
        self._system_cache = lru_cache(maxsize=8_192)(self._build_system)
        self._products_cache = lru_cache(maxsize=8_192)(self._build_products)

    # ------------------------------------------------------------------ organisations ---
    def _make_orgs(self) -> tuple[Org, ...]:
        rng = random.Random(key(self.seed, label("orgs")))
        count = self.config.org_count
        names: list[str] = []
        used: set[str] = set()
        while len(names) < count:
            name = f"{rng.choice(ORG_PREFIXES)} {rng.choice(ORG_SUFFIXES)}"
            if name in used:
                name = f"{name} {len(names) + 1}"
            used.add(name)
            names.append(name)
        avs = self._group_indices("av")
        oems = self._group_indices("oem")
        orgs: list[Org] = []
        for index, name in enumerate(names):
            letters = "".join(word[0] for word in name.split() if word[0].isalpha())
            abbreviation = (name.split()[0][:6] + letters[1:]).upper()
            orgs.append(
                Org(
                    index=index,
                    name=name,
                    abbreviation=abbreviation
                    if abbreviation not in {o.abbreviation for o in orgs}
                    else f"{abbreviation}{index}",
                    branch_office_id=301 + 3 * index,
                    customer_id=1000 + index,
                    weight=1.0 / (index + 1) ** 0.8,
                    has_esu=rng.random() < self.config.esu_org_share,
                    av_product=avs[rng.randrange(len(avs))],
                    oem_product=oems[rng.randrange(len(oems))],
                )
            )
        return tuple(orgs)

    @staticmethod
    def _group_indices(group: str) -> list[int]:
        return [i for i, p in enumerate(PRODUCTS) if p.group == group]

    def org_by_name(self, name: str) -> Org | None:
        """The organisation (branch office) called ``name``, case-insensitively."""
        wanted = name.casefold()
        return next((o for o in self.orgs if o.name.casefold() == wanted), None)

    # ------------------------------------------------------------------------ systems ---
    def resource_id(self, index: int) -> int:
        """The 14-digit ``resource_id`` of system ``index``."""
        return RESOURCE_ID_BASE + index * RESOURCE_ID_STEP + (mix64(self.seed ^ index) % 997)

    def index_of(self, resource_id: int) -> int | None:
        """System index of a ``resource_id`` (managed, present or not), or None."""
        offset = resource_id - RESOURCE_ID_BASE
        if offset < 0:
            return None
        index = offset // RESOURCE_ID_STEP
        if self.resource_id(index) != resource_id:
            return None
        return index

    def system(self, index: int) -> System:
        """System ``index`` (cached; a pure function of seed and index)."""
        return self._system_cache(index)

    def _build_system(self, index: int) -> System:
        managed = index >= 0
        h = key(self.seed, _SYSTEM_LABEL, index)
        u = [unit(mix64(h + n)) for n in range(8)]
        org = self.orgs[self._org_pick.index(u[0])]
        kind = str(self._kind_pick.options[self._kind_pick.index(u[1])])
        os = self._os_by_kind[kind][self._os_pick[kind].index(u[2])]
        added = self.added.get(index)
        if added is None:
            added = self.start_ms - int((30 + u[3] * 5 * 365) * DAY_MS)
        tag = _KIND_TAGS[kind]
        number = abs(index) * 7 % 100_000 + abs(index) // 100_000 * 100_000
        group = _KIND_GROUPS[kind]
        installation_status = 22
        if not managed:
            installation_status = (21, 21, 29, 23)[int(u[4] * 4)]
        owner = "--" if u[5] < 0.66 else f"user{index % 997}@{org.abbreviation.lower()}.example"
        return System(
            index=index,
            resource_id=self.resource_id(index) if managed else 96_000_020_000_000 - index * 211,
            skey=mix64(h ^ 0xA5A5A5A5),
            org=org,
            os=os,
            name=f"{org.abbreviation[:6]}-{tag}{number:05d}",
            ip_address=f"10.{org.index % 250}.{(abs(index) >> 8) & 255}.{abs(index) & 255}",
            mac_address=":".join(f"{(h >> (8 * i)) & 255:02x}" for i in range(6)),
            agent_version=AGENT_VERSIONS[int(u[6] * len(AGENT_VERSIONS))],
            agent_installed_on=added + int((0.01 + u[7] * 2) * HOUR_MS),
            added_ms=added,
            never_scanned=managed and unit(mix64(h + 9)) < NEVER_SCANNED,
            custom_group=f"{org.name} {group}",
            owner=owner,
            description="--" if u[5] < 0.75 else f"{group[:-1]} for {org.name}",
            managed=managed,
            installation_status=installation_status,
        )

    def products(self, system: System) -> tuple[tuple[int, int], ...]:
        """``(product index, flavour index)`` of everything installed on ``system``."""
        return self._products_cache(system.index)

    def _build_products(self, index: int) -> tuple[tuple[int, int], ...]:
        system = self.system(index)
        rng = random.Random(key(self.seed, _PRODUCTS_LABEL, index))
        random_ = rng.random
        kind, stream = system.kind, system.os.stream
        products: list[tuple[int, int]] = []
        for pi, chance, flavours in self._candidates[stream]:
            if random_() < chance:
                products.append((pi, flavours.index(random_()) if flavours else 0))
        for pi in (system.org.av_product, system.org.oem_product):
            chance = PRODUCTS[pi].applies_to(kind, stream)
            if chance > 0.0 and random_() < chance:
                products.append((pi, self._flavour_pick[pi].index(random_())))
        return tuple(products)

    def present_count(self) -> int:
        """Managed systems present now."""
        return self.created - len(self._retired)

    def present_index(self, position: int) -> int:
        """Index of the ``position``-th present managed system (0-based, index order)."""
        retired = self._retired
        candidate = position
        while True:
            nxt = position + bisect_right(retired, candidate)
            if nxt == candidate:
                break
            candidate = nxt
        while candidate in self._retired_set:
            candidate += 1
        return candidate

    def present(self, start: int = 0, stop: int | None = None) -> Iterator[int]:
        """Indices of present managed systems from position ``start`` to ``stop``."""
        total = self.present_count()
        stop = total if stop is None else min(stop, total)
        if start >= stop:
            return
        index = self.present_index(start)
        for _ in range(stop - start):
            while index in self._retired_set:
                index += 1
            yield index
            index += 1

    def is_present(self, index: int) -> bool:
        """True when system ``index`` is a managed system present now."""
        return 0 <= index < self.created and index not in self._retired_set

    # ------------------------------------------------------------- unmanaged (SoM only) ---
    def unmanaged_count(self) -> int:
        """Computers SoM knows whose agent is not installed (they never reach patch data)."""
        return round(self.config.systems * self.config.unmanaged_share)

    def unmanaged(self, j: int) -> System:
        """The ``j``-th SoM-only computer."""
        return self.system(-1 - j)

    # ----------------------------------------------------------------------- patches ---
    def release_ms(self, product: Product, k: int) -> int:
        """When release ``k`` of ``product`` was (or will be) published."""
        if product.patch_tuesday:
            month = k - K_OFFSET
            year = CATALOGUE_EPOCH.year + month // 12
            first = datetime(year, month % 12 + 1, 1, 17, tzinfo=UTC)
            offset_days = (1 - first.weekday()) % 7 + 7
            return int(first.timestamp() * 1000) + offset_days * DAY_MS
        # Each stream has its own phase, so weekly releases do not all land on one weekday.
        phase = (label(product.key) % 997) / 997.0
        jitter = (mix64(key(label(product.key), k)) % 1000) / 1000.0 * 0.3
        days = (k - K_OFFSET + phase + jitter) * product.cadence_days
        return CATALOGUE_EPOCH_MS + int(days * DAY_MS)

    def latest_k(self, product: Product, now_ms: int) -> int:
        """Index of the newest release published at or before ``now_ms``."""
        approx = int((now_ms - CATALOGUE_EPOCH_MS) / (product.cadence_days * DAY_MS)) + K_OFFSET
        k = approx + 1
        while self.release_ms(product, k) > now_ms:
            k -= 1
        return k

    def window(self, pi: int) -> tuple[tuple[int, int, int], ...]:
        """The current releases of product ``pi``: ``(k, released_ms, install_threshold)``.

        ``install_threshold`` is the 64-bit bound below which a row hash means "installed by
        now" for a system that existed at release time.
        """
        cached = self._windows.get(pi)
        if cached is not None:
            return cached
        product = PRODUCTS[pi]
        latest = self.latest_k(product, self.now_ms)
        entries = []
        for k in range(latest - product.keep + 1, latest + 1):
            released = self.release_ms(product, k)
            entries.append((k, released, self._install_threshold(product, self.now_ms - released)))
        result = tuple(entries)
        self._windows[pi] = result
        return result

    @staticmethod
    def _install_threshold(product: Product, age_ms: int) -> int:
        age_days = (age_ms - INSTALL_LAG_MS) / DAY_MS
        if age_days <= 0:
            return 0
        share = 1.0 - product.never - product.fail
        return threshold(share * (1.0 - math.exp(-age_days / product.install_days)))

    def patch_id(self, pi: int, k: int, flavour: int, part: int) -> int:
        """The unique ``patch_id`` of one flavour/part of release ``k`` of product ``pi``."""
        slot = self._slots[pi] + flavour * len(PRODUCTS[pi].parts) + part
        return PATCH_ID_BASE + k * self.slot_count + slot

    def decode_patch_id(self, patch_id: int) -> tuple[int, int, int, int] | None:
        """``(product index, k, flavour, part)`` of a patch id, or None if it is not one."""
        offset = patch_id - PATCH_ID_BASE
        if offset < 0:
            return None
        k, slot = divmod(offset, self.slot_count)
        pi = bisect_right(self._slots, slot) - 1
        product = PRODUCTS[pi]
        flavour, part = divmod(slot - self._slots[pi], len(product.parts))
        return pi, k, flavour, part

    def patch(self, patch_id: int) -> Patch | None:
        """Facts of one applicable-catalogue patch (None for unknown ids)."""
        cached = self._patches.get(patch_id)
        if cached is not None:
            return cached
        decoded = self.decode_patch_id(patch_id)
        if decoded is None:
            return None
        pi, k, fi, part_i = decoded
        product = PRODUCTS[pi]
        h = key(self.seed, label("patch"), patch_id)
        released = self.release_ms(product, k) + fi % 3 * 60_000
        when = datetime.fromtimestamp(released / 1000, tz=UTC)
        kb = 5_000_000 + (k * 131 + self._slots[pi] * 7 + part_i) % 990_000
        version = (
            f"{product.major0 + (k - K_OFFSET) // product.per_major}."
            f"{(k - K_OFFSET) % product.per_major}.{100 + h % 900}"
        )
        severity = Weighted(range(5), product.severity).index(unit(mix64(h)))
        flavour = product.flavours[fi]
        part = product.parts[part_i]
        fields = {
            "kb": kb,
            "ver": version,
            "fl": flavour,
            "part": part,
            "title": product.title,
            "ym": when.strftime("%Y-%m"),
        }
        if product.bulletin == "MS":
            bulletin = f"MS{when:%y}-{when.month:03d}"
        else:
            bulletin = f"{product.bulletin}-{(k * 7 + self._slots[pi]) % 1000:03d}"
        cves: tuple[tuple[str, float], ...] = ()
        if product.security and severity >= 2:
            count = 1 + h % (2 if severity < 4 else 5)
            cves = tuple(
                (
                    f"CVE-{when.year}-{20000 + (h >> (8 * n)) % 40000}",
                    round(min(10.0, 4.0 + severity * 1.2 + ((h >> (4 * n)) % 20) / 10.0), 1),
                )
                for n in range(count)
            )
        low, high = product.size_mb
        patch = Patch(
            patch_id=patch_id,
            product=product,
            product_index=pi,
            k=k,
            flavour=flavour,
            part=part,
            update_id=h % 10,
            released_ms=released,
            kb=kb,
            version=version,
            severity=severity,
            size=int((low + (high - low) * unit(h ^ 0x55)) * 1_048_576),
            name=product.name_fmt.format(**fields),
            description=product.desc_fmt.format(**fields).replace(" ()", ""),
            bulletin_id=bulletin,
            cves=cves,
        )
        with self._lock:
            self._patches[patch_id] = patch
        return patch

    def approval(self, patch: Patch) -> int:
        """Approval status now: manual approval, a few days after release; a few declined."""
        h = key(self.seed, label("approval"), patch.patch_id)
        if h % 100 == 0:
            return DECLINED
        lag = (2 + (h >> 8) % 8) * DAY_MS
        return APPROVED if self.now_ms - patch.released_ms >= lag else NOT_APPROVED

    def superseded_by(self, patch: Patch) -> int | None:
        """The patch that replaces this one, if it has been released."""
        product = patch.product
        newer = patch.k + product.keep
        if self.release_ms(product, newer) > self.now_ms:
            return None
        fi = product.flavours.index(patch.flavour)
        return self.patch_id(patch.product_index, newer, fi, product.parts.index(patch.part))

    # ---------------------------------------------------------------------- state ---
    def state(self, index: int) -> SystemState:
        """Patch rows and derived status of present system ``index`` now (cached per version)."""
        cached = self._states.get(index)
        if cached is not None:
            return cached
        state = self._compute_state(self.system(index))
        with self._lock:
            if len(self._states) >= self._state_cap:
                self._states.clear()
            self._states[index] = state
        return state

    def live_status(self, system: System) -> int:
        """``computer_live_status`` today (1 live, 2 down, 3 unknown); changes daily."""
        u = unit(key(self.seed, label("live"), system.index, self.now_ms // DAY_MS))
        down_share = 0.03 if system.kind == "srv" else 0.14
        if not system.managed:
            down_share = 0.6
        if u < down_share:
            return 2
        return 3 if u < down_share + 0.02 else 1

    def last_contact_ms(self, system: System) -> int:
        """When the agent last contacted the server (hours ago if live, days if down)."""
        h = key(self.seed, label("contact"), system.index, self.now_ms // DAY_MS)
        if self.live_status(system) == 1:
            return self.now_ms - int(unit(h) * 2 * HOUR_MS)
        return max(system.added_ms, self.now_ms - int((1 + unit(h) * 40) * DAY_MS))

    def _compute_state(self, system: System) -> SystemState:
        now = self.now_ms
        dh = key(self.seed, label("day"), system.index, now // DAY_MS)
        live = self.live_status(system)
        if system.never_scanned or now - system.added_ms < DAY_MS // 4:
            return SystemState(
                (),
                dict.fromkeys(CATEGORIES, 0),
                dict.fromkeys(CATEGORIES, 0),
                (0, 0, 0, 0, 0),
                HEALTH_UNKNOWN,
                SCAN_NOT_SCANNED,
                live,
                0,
                False,
            )
        su = unit(mix64(dh))
        scan = SCAN_SUCCESS
        if su < SCAN_FAILURE:
            scan = SCAN_FAILED
        elif su < SCAN_FAILURE + 0.002:
            scan = SCAN_IN_PROGRESS
        rows: list[Row] = []
        missing = dict.fromkeys(CATEGORIES, 0)
        installed = dict.fromkeys(CATEGORIES, 0)
        by_severity = [0, 0, 0, 0, 0]
        # Health counts approved (or failed) patches only: consider_only_approved_patches.
        considered = [0, 0, 0, 0, 0]
        last_patched = 0
        reboot = False
        skey = system.skey
        added = system.added_ms
        no_esu = not system.org.has_esu
        patches = self._patches
        slot_count = self.slot_count
        append = rows.append
        log = math.log
        windows = self._windows
        for pi, fi in self.products(system):
            product = PRODUCTS[pi]
            parts = len(product.parts)
            fail_bound = MASK64 + 1 - threshold(product.fail)
            install_scale = (1.0 - product.never - product.fail) * SPAN64
            mean_ms = product.install_days * DAY_MS
            base_slot = PATCH_ID_BASE + self._slots[pi] + fi * parts
            reboots = product.noreboot == 1
            esu_start = product.esu_start_ms if no_esu else 0
            n_installed = n_missing = 0
            window = windows.get(pi) or self.window(pi)
            for k, released, install_bound in window:
                effective = released
                bound = install_bound
                if added > released:
                    effective = added
                    bound = self._install_threshold(product, now - added)
                esu = esu_start and released >= esu_start
                if esu:
                    bound = 0
                first_pid = base_slot + k * slot_count
                for pid in range(first_pid, first_pid + parts) if parts > 1 else (first_pid,):
                    h = (((skey ^ (pid * GOLDEN)) & MASK64) * 0xD6E8FEB86659FD93) & MASK64
                    h ^= h >> 29
                    if h < bound:
                        when = (
                            effective + INSTALL_LAG_MS - int(mean_ms * log(1.0 - h / install_scale))
                        )
                        if when > now:
                            when = now
                        if when > last_patched:
                            last_patched = when
                        n_installed += 1
                        if reboots and h & 7 == 0 and now - when < 3 * DAY_MS:
                            reboot = True
                            append((pid, INSTALLED, h, when, -1, DEPLOY_REBOOT_PENDING))
                        else:
                            append((pid, INSTALLED, h, when, -1, DEPLOY_INSTALLED))
                        continue
                    n_missing += 1
                    patch = patches.get(pid) or self.patch(pid)
                    assert patch is not None
                    by_severity[patch.severity] += 1
                    age = now - effective
                    if esu and age > FAIL_LAG_MS:
                        considered[patch.severity] += 1
                        append((pid, FAILED, h, 0, ESU_ERROR_CODE, DEPLOY_FAILED))
                    elif not esu and h >= fail_bound and age > FAIL_LAG_MS:
                        considered[patch.severity] += 1
                        error = ERROR_CODES[h % len(ERROR_CODES)][0]
                        append((pid, FAILED, h, 0, error, DEPLOY_FAILED))
                    else:
                        if self.approval(patch) == APPROVED:
                            considered[patch.severity] += 1
                        append((pid, MISSING, h, 0, -1, DEPLOY_DELAYED if h & 15 == 1 else 0))
            installed[product.category] += n_installed
            missing[product.category] += n_missing
        return SystemState(
            tuple(rows),
            missing,
            installed,
            (by_severity[0], by_severity[1], by_severity[2], by_severity[3], by_severity[4]),
            self._health(considered),
            scan,
            live,
            last_patched,
            reboot,
        )

    @staticmethod
    def _health(by_severity: list[int]) -> int:
        names = ("low", "moderate", "important", "critical")
        for level, rule in (
            (HIGHLY_VULNERABLE, HEALTH_POLICY["highly_vulnerable"]),
            (VULNERABLE, HEALTH_POLICY["vulnerable"]),
        ):
            for sev, name in zip(range(1, 5), names, strict=True):
                limit = rule[name]
                if limit and by_severity[sev] >= limit:
                    return level
        return HEALTHY

    # ----------------------------------------------------------------- aggregates ---
    def aggregates(self) -> Aggregates:
        """Whole-estate counts for the current version (one pass, then cached)."""
        with self._lock:
            if self._aggregates is not None:
                return self._aggregates
            agg = Aggregates()
            counts = agg.counts
            for index in self.present():
                state = self.state(index)
                agg.systems += 1
                agg.health[state.health] += 1
                agg.scan[state.scan_status] = agg.scan.get(state.scan_status, 0) + 1
                agg.live[state.live_status] = agg.live.get(state.live_status, 0) + 1
                agg.rows += len(state.rows)
                for row in state.rows:
                    entry = counts.get(row[0])
                    if entry is None:
                        entry = counts[row[0]] = [0, 0, 0]
                    status = row[1]
                    entry[0 if status == INSTALLED else 1 if status == MISSING else 2] += 1
            order = sorted(counts, key=lambda pid: (-self.patch(pid).released_ms, -pid))  # type: ignore[union-attr]
            agg.by_patch_sorted = order
            agg.missing_sorted = [pid for pid in order if counts[pid][1] or counts[pid][2]]
            agg.installed_sorted = [pid for pid in order if not (counts[pid][1] or counts[pid][2])]
            self._aggregates = agg
            return agg

    def supported_count(self) -> int:
        """Entries of the supported-patch catalogue (applicable ones plus the rest)."""
        return len(self.aggregates().counts) + self.config.synthetic_supported

    def synthetic_released_ms(self, j: int) -> int:
        """Release time of the ``j``-th non-applicable supported patch (newest first)."""
        span = 10.6 * 365 * DAY_MS
        return self.start_ms - int(span * (j + 0.5) / max(1, self.config.synthetic_supported))

    # ------------------------------------------------------------------------ churn ---
    def advance(self, days: float = 1.0) -> None:
        """Move time forward: new releases appear, missing patches get installed (with
        install times), old ones are superseded, systems are added and retired, health and
        live status change."""
        if days < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            rng = random.Random(key(self.seed, label("advance"), self.version, int(days * 1e6)))
            self.now_ms += int(days * DAY_MS)
            self.version += 1
            present = self.present_count()
            retire = _poisson(rng, present * self.config.retire_rate * days)
            for _ in range(min(retire, present - 1)):
                position = rng.randrange(self.present_count())
                index = self.present_index(position)
                self._retired.insert(bisect_left(self._retired, index), index)
                self._retired_set.add(index)
            for _ in range(_poisson(rng, self.config.systems * self.config.add_rate * days)):
                index = self.created
                self.created += 1
                self.added[index] = self.now_ms - int(rng.random() * days * DAY_MS)
            self._windows.clear()
            self._states.clear()
            self._aggregates = None

    @property
    def retired(self) -> tuple[int, ...]:
        """Indices of systems retired so far."""
        return tuple(self._retired)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
