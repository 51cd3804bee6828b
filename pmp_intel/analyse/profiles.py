"""Named rule profiles: data tables of Essential Eight patching controls.

Each control is one ISM requirement at the maturity levels where it applies, with the pair
scope it covers, which pairs it selects (all / vendor-critical-or-exploited / the rest / by
severity) and its window. Sources: reference/essential-eight.md §2 (Nov 2023), §3.1
(2021/22), §3.2 (2017–mid-2021) and the tools' "critical 48 h / high 2 weeks / 1 month" rule.

Pair scopes (patch class × system class):

=============  ====================================================================
apps_online    online-service software on internet-facing systems ("online services")
apps_office    office suites, browsers (+extensions), email clients, PDF, security products
apps_other     every other application (online-service software on internal systems too)
os_internet    OS patches on internet-facing systems
os_internal    OS patches on workstations and non-internet-facing servers
drivers        driver patches (any system)
firmware       BIOS / firmware patches (any system)
=============  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pmp_intel.analyse.errors import UnknownProfileError
from pmp_intel.store.models import Strategy

APPS = Strategy.PATCH_APPLICATIONS
OS = Strategy.PATCH_OPERATING_SYSTEMS

SCOPES = (
    "apps_online",
    "apps_office",
    "apps_other",
    "os_internet",
    "os_internal",
    "drivers",
    "firmware",
)
#: Scopes whose members are systems of a class (an empty class means "not applicable",
#: unless the internet-facing systems are not configured: then "no visibility").
SYSTEM_SCOPES = frozenset({"apps_online", "os_internet", "os_internal"})


class Kind(StrEnum):
    """How a control is judged."""

    TIMEFRAME = "timeframe"  # per (system, patch): applied within the window of release
    SCAN = "scan"  # per system: last successful scan within the cadence
    DISCOVERY = "discovery"  # snapshot history: an inventory at least every cadence
    DATABASE = "database"  # server summary: vulnerability database freshness
    UNASSESSED = "unassessed"  # PMP holds no evidence (unsupported software, OS currency)


class Trigger(StrEnum):
    """What makes the short window apply."""

    CRITICAL_OR_EXPLOIT = "critical_or_exploit"  # Nov 2023
    EXPLOIT = "exploit"  # 2021/22: only "an exploit exists"


class Select(StrEnum):
    """Which pairs of the scope a control covers."""

    ALL = "all"
    TRIGGERED = "triggered"
    NOT_TRIGGERED = "not_triggered"


class Window(StrEnum):
    """Symbolic windows; day counts come from the configuration (ASD gives none)."""

    HOURS_48 = "48h"
    DAY = "1d"
    WEEK = "1w"
    TWO_WEEKS = "2w"
    ONE_MONTH = "1m"


@dataclass(frozen=True, slots=True)
class Control:
    """One requirement at the levels where it applies with these parameters."""

    control_id: str
    title: str
    strategy: Strategy
    levels: tuple[int, ...]
    kind: Kind
    scopes: tuple[str, ...] = ()
    select: Select = Select.ALL
    window: Window | None = None
    #: For one-control "X, or 48 hours if …" wordings: the window when triggered.
    triggered_window: Window | None = None
    #: Legacy SLA tiers select pairs by vendor severity (0 counts as unrated).
    severities: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A named rule set."""

    name: str
    title: str
    description: str
    trigger: Trigger
    controls: tuple[Control, ...]
    #: False for the legacy SLA rules, which match no maturity level.
    is_maturity_model: bool = True

    def controls_at(self, level: int) -> tuple[Control, ...]:
        """Controls that apply at ``level``."""
        return tuple(c for c in self.controls if level in c.levels)

    @property
    def levels(self) -> tuple[int, ...]:
        """Maturity levels the profile defines controls for."""
        return tuple(sorted({lvl for c in self.controls for lvl in c.levels}))


ALL3 = (1, 2, 3)
ML23 = (2, 3)
ML12 = (1, 2)
ML3 = (3,)
T, S, D, DB, U = Kind.TIMEFRAME, Kind.SCAN, Kind.DISCOVERY, Kind.DATABASE, Kind.UNASSESSED
TRIG, REST = Select.TRIGGERED, Select.NOT_TRIGGERED
H48, WK, FN, M1, DAY = Window.HOURS_48, Window.WEEK, Window.TWO_WEEKS, Window.ONE_MONTH, Window.DAY


def _shared(strategy: Strategy) -> tuple[Control, ...]:
    return (
        Control(
            "ISM-1807",
            "Automated asset discovery at least fortnightly",
            strategy,
            ALL3,
            D,
            window=FN,
        ),
        Control(
            "ISM-1808",
            "Vulnerability scanner with an up-to-date vulnerability database",
            strategy,
            ALL3,
            DB,
        ),
    )


E8_2023 = Profile(
    name="e8-2023-11",
    title="Essential Eight Maturity Model, November 2023",
    description="48 hours when vendor-critical or a working exploit exists; ISM Dec 2023 – "
    "Dec 2025 map the same controls.",
    trigger=Trigger.CRITICAL_OR_EXPLOIT,
    controls=(
        *_shared(APPS),
        Control(
            "ISM-1698",
            "Daily scan for missing patches in online services",
            APPS,
            ALL3,
            S,
            ("apps_online",),
            window=DAY,
        ),
        Control(
            "ISM-1699",
            "Weekly scan: office, browsers, email, PDF, security products",
            APPS,
            ALL3,
            S,
            ("apps_office",),
            window=WK,
        ),
        Control(
            "ISM-1700",
            "Fortnightly scan: other applications",
            APPS,
            ML23,
            S,
            ("apps_other",),
            window=FN,
        ),
        Control(
            "ISM-1876",
            "Online services: 48 hours when critical or exploited",
            APPS,
            ALL3,
            T,
            ("apps_online",),
            TRIG,
            H48,
        ),
        Control(
            "ISM-1690",
            "Online services: two weeks otherwise",
            APPS,
            ALL3,
            T,
            ("apps_online",),
            REST,
            FN,
        ),
        Control(
            "ISM-1691",
            "Office, browsers, email, PDF, security products: two weeks",
            APPS,
            ML12,
            T,
            ("apps_office",),
            Select.ALL,
            FN,
        ),
        Control(
            "ISM-1692",
            "Office, browsers, email, PDF, security products: 48 hours when critical or exploited",
            APPS,
            ML3,
            T,
            ("apps_office",),
            TRIG,
            H48,
        ),
        Control(
            "ISM-1901",
            "Office, browsers, email, PDF, security products: two weeks otherwise",
            APPS,
            ML3,
            T,
            ("apps_office",),
            REST,
            FN,
        ),
        Control(
            "ISM-1693",
            "Other applications: one month",
            APPS,
            ML23,
            T,
            ("apps_other",),
            Select.ALL,
            M1,
        ),
        Control("ISM-1905", "Unsupported online services removed", APPS, ALL3, U),
        Control(
            "ISM-1704",
            "Unsupported office, browsers, email, PDF, Flash, security products removed",
            APPS,
            ALL3,
            U,
        ),
        Control("ISM-0304", "Unsupported other applications removed", APPS, ML3, U),
        *_shared(OS),
        Control(
            "ISM-1701",
            "Daily scan: OS of internet-facing servers",
            OS,
            ALL3,
            S,
            ("os_internet",),
            window=DAY,
        ),
        Control(
            "ISM-1702",
            "Fortnightly scan: OS of workstations and internal servers",
            OS,
            ALL3,
            S,
            ("os_internal",),
            window=FN,
        ),
        Control("ISM-1703", "Fortnightly scan: drivers", OS, ML3, S, ("drivers",), window=FN),
        Control("ISM-1900", "Fortnightly scan: firmware", OS, ML3, S, ("firmware",), window=FN),
        Control(
            "ISM-1877",
            "Internet-facing servers' OS: 48 hours when critical or exploited",
            OS,
            ALL3,
            T,
            ("os_internet",),
            TRIG,
            H48,
        ),
        Control(
            "ISM-1694",
            "Internet-facing servers' OS: two weeks otherwise",
            OS,
            ALL3,
            T,
            ("os_internet",),
            REST,
            FN,
        ),
        Control(
            "ISM-1695",
            "Workstations and internal servers' OS: one month",
            OS,
            ML12,
            T,
            ("os_internal",),
            Select.ALL,
            M1,
        ),
        Control(
            "ISM-1696",
            "Workstations and internal servers' OS: 48 hours when critical or exploited",
            OS,
            ML3,
            T,
            ("os_internal",),
            TRIG,
            H48,
        ),
        Control(
            "ISM-1902",
            "Workstations and internal servers' OS: one month otherwise",
            OS,
            ML3,
            T,
            ("os_internal",),
            REST,
            M1,
        ),
        Control(
            "ISM-1879",
            "Drivers: 48 hours when critical or exploited",
            OS,
            ML3,
            T,
            ("drivers",),
            TRIG,
            H48,
        ),
        Control("ISM-1697", "Drivers: one month otherwise", OS, ML3, T, ("drivers",), REST, M1),
        Control(
            "ISM-1903",
            "Firmware: 48 hours when critical or exploited",
            OS,
            ML3,
            T,
            ("firmware",),
            TRIG,
            H48,
        ),
        Control("ISM-1904", "Firmware: one month otherwise", OS, ML3, T, ("firmware",), REST, M1),
        Control("ISM-1501", "Unsupported operating systems replaced", OS, ALL3, U),
        Control("ISM-1407", "Latest or previous release of operating systems used", OS, ML3, U),
    ),
)

E8_2021 = Profile(
    name="e8-2021",
    title="Essential Eight Maturity Model, July 2021 – November 2022",
    description="48 hours only when an exploit exists (vendor severity plays no part); OS "
    "scope not split by internet exposure except for internet-facing services.",
    trigger=Trigger.EXPLOIT,
    controls=(
        *_shared(APPS),
        Control(
            "ISM-1698",
            "Daily scan: internet-facing services",
            APPS,
            ALL3,
            S,
            ("apps_online",),
            window=DAY,
        ),
        Control(
            "ISM-1699",
            "Fortnightly scan: office, browsers, email, PDF, security products",
            APPS,
            (1,),
            S,
            ("apps_office",),
            window=FN,
        ),
        Control(
            "ISM-1699",
            "Weekly scan: office, browsers, email, PDF, security products",
            APPS,
            ML23,
            S,
            ("apps_office",),
            window=WK,
        ),
        Control(
            "ISM-1700",
            "Fortnightly scan: other applications",
            APPS,
            ML23,
            S,
            ("apps_other",),
            window=FN,
        ),
        Control(
            "ISM-1690",
            "Internet-facing services: two weeks, or 48 hours if an exploit exists",
            APPS,
            ALL3,
            T,
            ("apps_online",),
            Select.ALL,
            FN,
            H48,
        ),
        Control(
            "ISM-1691",
            "Office, browsers, email, PDF, security products: one month",
            APPS,
            (1,),
            T,
            ("apps_office",),
            Select.ALL,
            M1,
        ),
        Control(
            "ISM-1691",
            "Office, browsers, email, PDF, security products: two weeks",
            APPS,
            (2,),
            T,
            ("apps_office",),
            Select.ALL,
            FN,
        ),
        Control(
            "ISM-1691",
            "Office, browsers, email, PDF, security products: two weeks (no exploit)",
            APPS,
            ML3,
            T,
            ("apps_office",),
            REST,
            FN,
        ),
        Control(
            "ISM-1692",
            "Office, browsers, email, PDF, security products: 48 hours if an exploit exists",
            APPS,
            ML3,
            T,
            ("apps_office",),
            TRIG,
            H48,
        ),
        Control(
            "ISM-1693",
            "Other applications: one month",
            APPS,
            ML23,
            T,
            ("apps_other",),
            Select.ALL,
            M1,
        ),
        Control(
            "ISM-1704",
            "Unsupported internet-facing services, office, browsers, email, "
            "PDF, Flash, security products removed",
            APPS,
            ALL3,
            U,
        ),
        Control("ISM-0304", "Unsupported applications removed", APPS, ML3, U),
        *_shared(OS),
        Control(
            "ISM-1701",
            "Daily scan: OS of internet-facing services",
            OS,
            ALL3,
            S,
            ("os_internet",),
            window=DAY,
        ),
        Control(
            "ISM-1702",
            "Fortnightly scan: OS of workstations, servers, network devices",
            OS,
            (1,),
            S,
            ("os_internal",),
            window=FN,
        ),
        Control(
            "ISM-1702",
            "Weekly scan: OS of workstations, servers, network devices",
            OS,
            ML23,
            S,
            ("os_internal",),
            window=WK,
        ),
        Control(
            "ISM-1694",
            "OS of internet-facing services: two weeks, or 48 hours if an exploit exists",
            OS,
            ALL3,
            T,
            ("os_internet",),
            Select.ALL,
            FN,
            H48,
        ),
        Control(
            "ISM-1695",
            "OS of workstations, servers, network devices: one month",
            OS,
            (1,),
            T,
            ("os_internal",),
            Select.ALL,
            M1,
        ),
        Control(
            "ISM-1695",
            "OS of workstations, servers, network devices: two weeks",
            OS,
            (2,),
            T,
            ("os_internal",),
            Select.ALL,
            FN,
        ),
        Control(
            "ISM-1695",
            "OS of workstations, servers, network devices: two weeks (no exploit)",
            OS,
            ML3,
            T,
            ("os_internal",),
            REST,
            FN,
        ),
        Control(
            "ISM-1696",
            "OS of workstations, servers, network devices: 48 hours if an exploit exists",
            OS,
            ML3,
            T,
            ("os_internal",),
            TRIG,
            H48,
        ),
        Control("ISM-1501", "Unsupported operating systems replaced", OS, ALL3, U),
        Control("ISM-1407", "Latest or previous release of operating systems used", OS, ML3, U),
    ),
)

_APPS_2017 = ("apps_online", "apps_office", "apps_other", "drivers")
_OS_2017 = ("os_internet", "os_internal", "firmware")

E8_2017 = Profile(
    name="e8-2017",
    title='Essential Eight Maturity Model, 2017 – June 2021 ("extreme risk")',
    description="Only extreme-risk vulnerabilities (read as vendor-critical or exploited), "
    "one month / two weeks / 48 hours at ML1 / ML2 / ML3; the clock started at identification, "
    "approximated here by the patch release.",
    trigger=Trigger.CRITICAL_OR_EXPLOIT,
    controls=(
        Control(
            "E8-2017-APPS",
            "Extreme-risk vulnerabilities in applications and drivers: one month",
            APPS,
            (1,),
            T,
            _APPS_2017,
            TRIG,
            M1,
        ),
        Control(
            "E8-2017-APPS",
            "Extreme-risk vulnerabilities in applications and drivers: two weeks",
            APPS,
            (2,),
            T,
            _APPS_2017,
            TRIG,
            FN,
        ),
        Control(
            "E8-2017-APPS",
            "Extreme-risk vulnerabilities in applications and drivers: 48 hours",
            APPS,
            ML3,
            T,
            _APPS_2017,
            TRIG,
            H48,
        ),
        Control(
            "E8-2017-APPS-UNSUPPORTED",
            "Unsupported applications updated or replaced",
            APPS,
            ALL3,
            U,
        ),
        Control(
            "E8-2017-OS",
            "Extreme-risk vulnerabilities in OS and firmware: one month",
            OS,
            (1,),
            T,
            _OS_2017,
            TRIG,
            M1,
        ),
        Control(
            "E8-2017-OS",
            "Extreme-risk vulnerabilities in OS and firmware: two weeks",
            OS,
            (2,),
            T,
            _OS_2017,
            TRIG,
            FN,
        ),
        Control(
            "E8-2017-OS",
            "Extreme-risk vulnerabilities in OS and firmware: 48 hours",
            OS,
            ML3,
            T,
            _OS_2017,
            TRIG,
            H48,
        ),
        Control(
            "E8-2017-OS-UNSUPPORTED",
            "Unsupported operating systems updated or replaced",
            OS,
            ALL3,
            U,
        ),
    ),
)

_LEGACY_TIERS = (
    ("LEGACY-CRITICAL-48H", "Critical patches within 48 hours", (4,), H48),
    ("LEGACY-HIGH-2W", "Important patches within two weeks", (3,), FN),
    ("LEGACY-OTHER-1M", "Moderate, low and unrated patches within one month", (0, 1, 2), M1),
)

LEGACY_SLA = Profile(
    name="legacy-sla",
    title="Legacy SLA: critical 48 h / high 2 weeks / 1 month",
    description="The common tool rule derived from the 2019–20 ISM risk tiers. It matches no "
    "Essential Eight maturity level in any version; shown for comparison with older reports.",
    trigger=Trigger.CRITICAL_OR_EXPLOIT,
    is_maturity_model=False,
    controls=tuple(
        Control(cid, title, strategy, (1,), T, scopes, Select.ALL, window, severities=sev)
        for strategy, scopes in ((APPS, _APPS_2017), (OS, _OS_2017))
        for cid, title, sev, window in _LEGACY_TIERS
    ),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (E8_2023, E8_2021, E8_2017, LEGACY_SLA)}
DEFAULT_PROFILE = E8_2023.name


def get_profile(name: str) -> Profile:
    """The profile of that name; one clear error listing the known names otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfileError(
            f"unknown compliance profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None
