"""Static tables the simulated estate is drawn from: operating systems, software products and
their patch streams, customer organisations.

The tables are invented but shaped on pmp-api.md §5b/§6 and the real MSP estate of
maia-legacy.md §6 (mostly Windows with some Mac and Linux; Microsoft and third-party patches,
drivers and BIOS; one Windows 10 ESU update failing with error 18 across many customers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

WINDOWS, MAC, LINUX = 1, 2, 3
PLATFORM_NAMES = {WINDOWS: "Windows", MAC: "Mac", LINUX: "Linux"}

#: Kinds of system and their share of the estate.
KIND_WEIGHTS = {"ws": 0.74, "srv": 0.19, "mac": 0.04, "linux": 0.03}
KIND_PLATFORM = {"ws": WINDOWS, "srv": WINDOWS, "mac": MAC, "linux": LINUX}

#: Per-system patch counts in allsystems are split into these categories (pmp-api.md §6c).
CATEGORIES = ("ms", "tp", "driver", "bios")

#: Windows 10 left support on this day; later Windows 10 updates need an ESU licence and
#: fail with install_error_code 18 where a customer has none (maia-legacy.md §2.7, §6).
WIN10_ESU_START_MS = int(datetime(2025, 10, 15, tzinfo=UTC).timestamp() * 1000)
ESU_ERROR_CODE = 18


@dataclass(frozen=True, slots=True)
class OsSpec:
    """One operating system build that systems run."""

    os_name: str
    kind: str
    stream: str
    version: str
    weight: float

    @property
    def platform(self) -> int:
        """``os_platform`` code."""
        return KIND_PLATFORM[self.kind]


OPERATING_SYSTEMS: tuple[OsSpec, ...] = (
    OsSpec("Windows 11 Enterprise Edition (x64)", "ws", "win11-24h2", "Version 24H2", 0.20),
    OsSpec("Windows 11 Professional Edition (x64)", "ws", "win11-24h2", "Version 24H2", 0.12),
    OsSpec("Windows 11 Enterprise Edition (x64)", "ws", "win11-23h2", "Version 23H2", 0.14),
    OsSpec("Windows 11 Professional Edition (x64)", "ws", "win11-23h2", "Version 23H2", 0.08),
    OsSpec("Windows 10 Enterprise Edition (x64)", "ws", "win10-22h2", "Version 22H2", 0.19),
    OsSpec("Windows 10 Professional Edition (x64)", "ws", "win10-22h2", "Version 22H2", 0.13),
    OsSpec("Windows Server 2012 R2 Standard Edition (x64)", "srv", "ws2012r2", "--", 0.05),
    OsSpec("Windows Server 2016 Standard Edition (x64)", "srv", "ws2016", "Version 1607", 0.18),
    OsSpec("Windows Server 2019 Standard Edition (x64)", "srv", "ws2019", "Version 1809", 0.24),
    OsSpec("Windows Server 2019 Datacenter Edition (x64)", "srv", "ws2019", "Version 1809", 0.10),
    OsSpec("Windows Server 2022 Standard Edition (x64)", "srv", "ws2022", "Version 21H2", 0.24),
    OsSpec("Windows Server 2022 Datacenter Edition (x64)", "srv", "ws2022", "Version 21H2", 0.08),
    OsSpec("Windows Server 2025 Standard Edition (x64)", "srv", "ws2025", "Version 24H2", 0.05),
    OsSpec("macOS 13 Ventura", "mac", "macos13", "13.7", 0.15),
    OsSpec("macOS 14 Sonoma", "mac", "macos14", "14.7", 0.45),
    OsSpec("macOS 15 Sequoia", "mac", "macos15", "15.1", 0.40),
    OsSpec("Ubuntu 22.04.5 LTS", "linux", "ubuntu2204", "22.04", 0.45),
    OsSpec("Ubuntu 24.04.1 LTS", "linux", "ubuntu2404", "24.04", 0.30),
    OsSpec("Red Hat Enterprise Linux 9.4", "linux", "rhel9", "9.4", 0.25),
)

WINDOWS_STREAM_TITLES = {
    "win11-24h2": "Windows 11 Version 24H2 for x64-based Systems",
    "win11-23h2": "Windows 11 Version 23H2 for x64-based Systems",
    "win10-22h2": "Windows 10 Version 22H2 for x64-based Systems",
    "ws2012r2": "Windows Server 2012 R2 for x64-based Systems",
    "ws2016": "Windows Server 2016 for x64-based Systems",
    "ws2019": "Windows Server 2019 for x64-based Systems",
    "ws2022": "Microsoft server operating system version 21H2 for x64-based Systems",
    "ws2025": "Windows Server 2025 for x64-based Systems",
}

LANGUAGES = (
    "en-US",
    "en-GB",
    "en-AU",
    "de-DE",
    "fr-FR",
    "es-ES",
    "it-IT",
    "ja-JP",
    "zh-CN",
    "zh-TW",
    "ko-KR",
    "nl-NL",
    "pt-BR",
    "pt-PT",
    "sv-SE",
    "da-DK",
    "nb-NO",
    "fi-FI",
    "pl-PL",
    "ru-RU",
    "tr-TR",
    "cs-CZ",
    "hu-HU",
    "el-GR",
    "he-IL",
    "ar-SA",
    "th-TH",
    "id-ID",
    "vi-VN",
    "uk-UA",
    "ro-RO",
    "sk-SK",
    "sl-SI",
    "hr-HR",
    "bg-BG",
    "et-EE",
    "lv-LV",
    "lt-LT",
    "ms-MY",
    "hi-IN",
)


@dataclass(frozen=True, slots=True)
class Product:
    """A stream of patches for one piece of software.

    Release ``k`` of the stream is published ``cadence_days`` after release ``k-1``. A system
    that has the product sees the ``keep`` latest releases (older ones are superseded), in the
    one *flavour* it runs (a language, architecture or hardware model) and all ``parts`` (several
    KBs per release for Office MSI, several packages per Linux advisory).
    """

    key: str
    title: str
    vendor: str
    platform: int
    category: str
    update_name: str
    cadence_days: float
    keep: int
    adoption: dict[str, float]
    severity: tuple[float, float, float, float, float]
    name_fmt: str
    desc_fmt: str
    bulletin: str
    streams: frozenset[str] = frozenset()
    flavours: tuple[str, ...] = ("",)
    skew: float = 1.2
    parts: tuple[str, ...] = ("",)
    group: str = ""
    security: bool = True
    noreboot: int = 0
    size_mb: tuple[float, float] = (1.0, 100.0)
    install_days: float = 4.0
    never: float = 0.012
    fail: float = 0.004
    patch_tuesday: bool = False
    major0: int = 1
    per_major: int = 10
    esu_start_ms: int = 0
    uninstall: int = 1

    def applies_to(self, kind: str, stream: str) -> float:
        """Probability that a system of this kind and OS stream has the product."""
        if self.streams and stream not in self.streams:
            return 0.0
        return self.adoption.get(kind, 0.0)


def _langs(count: int) -> tuple[str, ...]:
    return LANGUAGES[:count]


def _models(prefix: str, series: tuple[str, ...], count: int) -> tuple[str, ...]:
    return tuple(f"{prefix} {series[i % len(series)]} {3000 + 17 * i}" for i in range(count))


WS = {"ws": 1.0}
WIN_ALL = {"ws": 1.0, "srv": 1.0}
CRIT = (0.05, 0.05, 0.30, 0.20, 0.40)
IMPORTANT = (0.15, 0.05, 0.40, 0.15, 0.25)
MODERATE = (0.35, 0.10, 0.50, 0.05, 0.0)
UNRATED = (0.80, 0.10, 0.10, 0.0, 0.0)

_WIN_STREAMS = tuple(WINDOWS_STREAM_TITLES)


def _windows_products() -> list[Product]:
    products: list[Product] = []
    for stream, title in WINDOWS_STREAM_TITLES.items():
        products.append(
            Product(
                key=f"cu-{stream}",
                title=f"Cumulative Update for {title}",
                vendor="Microsoft",
                platform=WINDOWS,
                category="ms",
                update_name="Security Updates",
                cadence_days=30.44,
                keep=6,
                adoption=WIN_ALL,
                severity=(0.0, 0.0, 0.0, 0.35, 0.65),
                name_fmt="windows-kb{kb}-x64.msu",
                desc_fmt="{ym} {title} (KB{kb})",
                bulletin="MS",
                streams=frozenset({stream}),
                noreboot=1,
                size_mb=(300.0, 900.0),
                install_days=4.0,
                never=0.012,
                fail=0.004,
                patch_tuesday=True,
                esu_start_ms=WIN10_ESU_START_MS if stream == "win10-22h2" else 0,
                uninstall=0,
            )
        )
        products.append(
            Product(
                key=f"net-{stream}",
                title=f"Cumulative Update for .NET Framework 3.5 and 4.8.1 for {title}",
                vendor="Microsoft",
                platform=WINDOWS,
                category="ms",
                update_name="Security Updates",
                cadence_days=30.44,
                keep=3,
                adoption=WIN_ALL,
                severity=IMPORTANT,
                name_fmt="ndp481-kb{kb}-x64.msu",
                desc_fmt="{ym} {title} (KB{kb})",
                bulletin="MS",
                streams=frozenset({stream}),
                noreboot=1,
                size_mb=(60.0, 120.0),
                install_days=5.0,
                never=0.012,
                patch_tuesday=True,
            )
        )
    products += [
        Product(
            "msrt",
            "Windows Malicious Software Removal Tool x64",
            "Microsoft",
            WINDOWS,
            "ms",
            "Non Security Updates",
            30.44,
            2,
            WIN_ALL,
            UNRATED,
            "windows-kb{kb}-x64-v{ver}.exe",
            "{ym} {title} (KB{kb})",
            "MS",
            security=False,
            size_mb=(60.0, 80.0),
            patch_tuesday=True,
            major0=5,
            per_major=100,
            install_days=6.0,
        ),
        Product(
            "defender",
            "Update for Microsoft Defender Antivirus antimalware platform",
            "Microsoft",
            WINDOWS,
            "ms",
            "Non Security Updates",
            60.0,
            2,
            WIN_ALL,
            MODERATE,
            "updateplatform.amd64fre_{ver}.exe",
            "{title} - {ver} (KB{kb})",
            "MS",
            security=False,
            major0=4,
            per_major=40,
            install_days=4.0,
        ),
        Product(
            "m365",
            "Microsoft 365 Apps for enterprise",
            "Microsoft",
            WINDOWS,
            "ms",
            "Security Updates",
            30.44,
            2,
            {"ws": 0.55, "srv": 0.03},
            IMPORTANT,
            "m365apps-{fl}-{ver}.exe",
            "{title} {fl} Version {ver}",
            "MS",
            flavours=(
                "Current Channel x64",
                "Monthly Enterprise x64",
                "Current Channel x86",
                "Semi-Annual x64",
            ),
            skew=1.6,
            major0=2410,
            per_major=1,
            size_mb=(400.0, 700.0),
        ),
        Product(
            "office2016",
            "Microsoft Office 2016",
            "Microsoft",
            WINDOWS,
            "ms",
            "Security Updates",
            30.44,
            2,
            {"ws": 0.10, "srv": 0.01},
            IMPORTANT,
            "{part}2016-kb{kb}-fullfile-x86-glb.exe",
            "Security Update for Microsoft {part} 2016 (KB{kb}) 32-Bit Edition",
            "MS",
            parts=("excel", "word", "outlook", "mso", "powerpoint", "vbe7"),
            patch_tuesday=True,
            size_mb=(5.0, 80.0),
            install_days=14.0,
            never=0.06,
        ),
        Product(
            "sqlserver",
            "SQL Server",
            "Microsoft",
            WINDOWS,
            "ms",
            "Security Updates",
            61.0,
            2,
            {"srv": 0.22},
            IMPORTANT,
            "sqlserver{fl}-kb{kb}-x64.exe",
            "Cumulative Update for SQL Server {fl} (KB{kb})",
            "MS",
            flavours=("2019", "2022", "2017", "2016 SP3"),
            skew=1.0,
            size_mb=(300.0, 600.0),
            install_days=30.0,
            never=0.12,
            fail=0.02,
        ),
        Product(
            "vcredist",
            "Microsoft Visual C++ Redistributable",
            "Microsoft",
            WINDOWS,
            "tp",
            "Third Party Updates",
            90.0,
            2,
            {"ws": 0.9, "srv": 0.8},
            MODERATE,
            "VC_redist.{fl}.exe",
            "Microsoft Visual C++ 2015-2022 Redistributable ({fl}) {ver}",
            "TU",
            flavours=("x64", "x86", "arm64"),
            skew=0.6,
            major0=14,
            per_major=10,
            security=False,
            install_days=20.0,
            never=0.05,
        ),
        Product(
            "webview2",
            "Microsoft Edge WebView2 Runtime",
            "Microsoft",
            WINDOWS,
            "tp",
            "Third Party Updates",
            42.0,
            2,
            {"ws": 0.9, "srv": 0.5},
            MODERATE,
            "MicrosoftEdgeWebView2RuntimeInstaller{fl}.exe",
            "Microsoft Edge WebView2 Runtime {ver} ({fl})",
            "TU",
            flavours=("X64", "X86"),
            skew=2.0,
            major0=128,
            per_major=4,
            install_days=3.0,
            never=0.02,
        ),
        Product(
            "onedrive",
            "Microsoft OneDrive",
            "Microsoft",
            WINDOWS,
            "tp",
            "Third Party Updates",
            42.0,
            2,
            {"ws": 0.7},
            UNRATED,
            "OneDriveSetup.exe",
            "Microsoft OneDrive {ver} ({fl})",
            "TU",
            flavours=("per-machine", "per-user"),
            security=False,
            major0=24,
            per_major=20,
            install_days=5.0,
        ),
        Product(
            "dotnet8",
            "Microsoft .NET 8.0 Desktop Runtime",
            "Microsoft",
            WINDOWS,
            "ms",
            "Security Updates",
            30.44,
            2,
            {"ws": 0.4, "srv": 0.35},
            IMPORTANT,
            "windowsdesktop-runtime-{ver}-win-{fl}.exe",
            "Microsoft .NET 8.0 Desktop Runtime {ver} ({fl})",
            "MS",
            flavours=("x64", "x86"),
            skew=1.5,
            patch_tuesday=True,
            major0=8,
            per_major=100,
            install_days=6.0,
            never=0.02,
        ),
        Product(
            "edge",
            "Microsoft Edge",
            "Microsoft",
            WINDOWS,
            "tp",
            "Third Party Updates",
            21.0,
            2,
            {"ws": 0.97, "srv": 0.85},
            MODERATE,
            "MicrosoftEdgeEnterprise{fl}.msi",
            "Microsoft Edge (Chromium) {ver} ({fl})",
            "TU",
            flavours=("X64", "X86"),
            skew=2.0,
            major0=128,
            per_major=4,
            size_mb=(150.0, 180.0),
            install_days=2.0,
            never=0.01,
        ),
        Product(
            "teams",
            "Microsoft Teams",
            "Microsoft",
            WINDOWS,
            "tp",
            "Third Party Updates",
            42.0,
            2,
            {"ws": 0.60, "srv": 0.05},
            MODERATE,
            "MSTeams-{fl}.msix",
            "Microsoft Teams {ver} ({fl})",
            "TU",
            flavours=("x64", "x86", "arm64"),
            skew=2.0,
            security=False,
            major0=24,
            per_major=26,
            install_days=5.0,
        ),
        Product(
            "chrome",
            "Google Chrome",
            "Google",
            WINDOWS,
            "tp",
            "Third Party Updates",
            21.0,
            3,
            {"ws": 0.85, "srv": 0.35},
            CRIT,
            "googlechromestandaloneenterprise{fl}.msi",
            "Google Chrome ({fl}) {ver}",
            "TU",
            flavours=("64", "", "64 per-user", "per-user"),
            skew=1.8,
            major0=129,
            per_major=4,
            size_mb=(110.0, 140.0),
            install_days=2.0,
            never=0.01,
        ),
        Product(
            "firefox",
            "Mozilla Firefox",
            "Mozilla",
            WINDOWS,
            "tp",
            "Third Party Updates",
            14.0,
            3,
            {"ws": 0.30, "srv": 0.08},
            CRIT,
            "Firefox Setup {ver}.exe",
            "Mozilla Firefox {ver} ({fl})",
            "TU",
            flavours=_langs(40),
            skew=0.8,
            major0=130,
            per_major=2,
            size_mb=(55.0, 70.0),
            install_days=6.0,
        ),
        Product(
            "firefoxesr",
            "Mozilla Firefox ESR",
            "Mozilla",
            WINDOWS,
            "tp",
            "Third Party Updates",
            28.0,
            2,
            {"ws": 0.08, "srv": 0.04},
            CRIT,
            "Firefox Setup {ver}esr.exe",
            "Mozilla Firefox ESR {ver} ({fl})",
            "TU",
            flavours=_langs(24),
            major0=115,
            per_major=12,
            install_days=8.0,
        ),
        Product(
            "reader",
            "Adobe Acrobat Reader DC",
            "Adobe",
            WINDOWS,
            "tp",
            "Third Party Updates",
            30.44,
            4,
            {"ws": 0.75, "srv": 0.15},
            CRIT,
            "AcroRdrDCUpd{ver}_MUI.msp",
            "Adobe Acrobat Reader DC {ver} ({fl})",
            "TU",
            flavours=_langs(40),
            skew=0.8,
            patch_tuesday=True,
            major0=24,
            per_major=12,
            size_mb=(200.0, 500.0),
        ),
        Product(
            "acrobat",
            "Adobe Acrobat DC",
            "Adobe",
            WINDOWS,
            "tp",
            "Third Party Updates",
            30.44,
            3,
            {"ws": 0.12, "srv": 0.02},
            CRIT,
            "AcrobatDCx64Upd{ver}.msp",
            "Adobe Acrobat DC {ver} ({fl})",
            "TU",
            flavours=_langs(20),
            skew=1.5,
            patch_tuesday=True,
            major0=24,
            per_major=12,
            size_mb=(500.0, 900.0),
        ),
        Product(
            "7zip",
            "7-Zip",
            "Igor Pavlov",
            WINDOWS,
            "tp",
            "Third Party Updates",
            120.0,
            2,
            {"ws": 0.45, "srv": 0.40},
            IMPORTANT,
            "7z{ver}-{fl}.msi",
            "7-Zip {ver} ({fl})",
            "TU",
            flavours=("x64", "x86"),
            major0=24,
            per_major=10,
            size_mb=(1.5, 2.0),
            never=0.08,
        ),
        Product(
            "zoom",
            "Zoom Workplace",
            "Zoom Video Communications",
            WINDOWS,
            "tp",
            "Third Party Updates",
            35.0,
            2,
            {"ws": 0.55, "srv": 0.02},
            IMPORTANT,
            "ZoomInstallerFull{fl}.msi",
            "Zoom Workplace {ver} ({fl})",
            "TU",
            flavours=("x64", "x86", "arm64", "per-user x64"),
            skew=1.8,
            major0=6,
            per_major=8,
        ),
        Product(
            "notepadpp",
            "Notepad++",
            "Notepad++ Team",
            WINDOWS,
            "tp",
            "Third Party Updates",
            45.0,
            2,
            {"ws": 0.30, "srv": 0.35},
            MODERATE,
            "npp.{ver}.Installer.{fl}.exe",
            "Notepad++ {ver} ({fl})",
            "TU",
            flavours=("x64", "x86", "arm64"),
            major0=8,
            per_major=10,
            size_mb=(4.0, 6.0),
            never=0.10,
        ),
        Product(
            "vlc",
            "VLC media player",
            "VideoLAN",
            WINDOWS,
            "tp",
            "Third Party Updates",
            120.0,
            2,
            {"ws": 0.30, "srv": 0.02},
            MODERATE,
            "vlc-{ver}-{fl}.msi",
            "VLC media player {ver} ({fl})",
            "TU",
            flavours=("win64", "win32"),
            major0=3,
            per_major=25,
            never=0.10,
        ),
        Product(
            "java",
            "Java SE Runtime Environment",
            "Oracle",
            WINDOWS,
            "tp",
            "Third Party Updates",
            91.0,
            2,
            {"ws": 0.20, "srv": 0.15},
            CRIT,
            "jre-{fl}.exe",
            "Java {fl} {ver}",
            "TU",
            flavours=("8 x64", "8 x86", "11 x64", "17 x64", "21 x64", "8 (32-bit) x86"),
            skew=1.2,
            major0=8,
            per_major=4,
            size_mb=(60.0, 180.0),
        ),
        Product(
            "webex",
            "Cisco Webex Meetings",
            "Cisco",
            WINDOWS,
            "tp",
            "Third Party Updates",
            30.0,
            2,
            {"ws": 0.12},
            MODERATE,
            "webexapp{fl}.msi",
            "Cisco Webex {ver} ({fl})",
            "TU",
            flavours=("64", "32"),
            security=False,
            major0=44,
            per_major=12,
        ),
        Product(
            "citrix",
            "Citrix Workspace",
            "Citrix",
            WINDOWS,
            "tp",
            "Third Party Updates",
            60.0,
            2,
            {"ws": 0.18, "srv": 0.05},
            IMPORTANT,
            "CitrixWorkspaceApp{fl}.exe",
            "Citrix Workspace {ver} ({fl})",
            "TU",
            flavours=("", " LTSR"),
            major0=24,
            per_major=6,
        ),
        Product(
            "teamviewer",
            "TeamViewer",
            "TeamViewer",
            WINDOWS,
            "tp",
            "Third Party Updates",
            30.0,
            2,
            {"ws": 0.15, "srv": 0.25},
            IMPORTANT,
            "TeamViewer_{fl}.msi",
            "TeamViewer {ver} ({fl})",
            "TU",
            flavours=("Full x64", "Host x64", "Full x86", "Host x86"),
            major0=15,
            per_major=12,
        ),
        Product(
            "putty",
            "PuTTY",
            "Simon Tatham",
            WINDOWS,
            "tp",
            "Third Party Updates",
            180.0,
            1,
            {"ws": 0.10, "srv": 0.30},
            IMPORTANT,
            "putty-{fl}-{ver}-installer.msi",
            "PuTTY {ver} ({fl})",
            "TU",
            flavours=("64bit", "32bit"),
            major0=0,
            per_major=100,
            never=0.15,
        ),
        Product(
            "winrar",
            "WinRAR",
            "win.rar GmbH",
            WINDOWS,
            "tp",
            "Third Party Updates",
            120.0,
            2,
            {"ws": 0.10, "srv": 0.06},
            IMPORTANT,
            "winrar-x64-{ver}{fl}.exe",
            "WinRAR {ver} ({fl})",
            "TU",
            flavours=_langs(30),
            skew=0.6,
            major0=7,
            per_major=10,
            never=0.15,
        ),
        Product(
            "git",
            "Git for Windows",
            "The Git Development Community",
            WINDOWS,
            "tp",
            "Third Party Updates",
            45.0,
            2,
            {"ws": 0.06, "srv": 0.05},
            MODERATE,
            "Git-{ver}-{fl}.exe",
            "Git {ver} ({fl})",
            "TU",
            flavours=("64-bit", "32-bit"),
            major0=2,
            per_major=50,
        ),
        Product(
            "filezilla",
            "FileZilla Client",
            "Tim Kosse",
            WINDOWS,
            "tp",
            "Third Party Updates",
            60.0,
            2,
            {"ws": 0.08, "srv": 0.10},
            MODERATE,
            "FileZilla_{ver}_{fl}-setup.exe",
            "FileZilla Client {ver} ({fl})",
            "TU",
            flavours=("win64", "win32"),
            major0=3,
            per_major=70,
        ),
        Product(
            "keepass",
            "KeePass Password Safe",
            "Dominik Reichl",
            WINDOWS,
            "tp",
            "Third Party Updates",
            90.0,
            2,
            {"ws": 0.07, "srv": 0.04},
            MODERATE,
            "KeePass-{ver}.msi",
            "KeePass {ver} ({fl})",
            "TU",
            flavours=_langs(12),
            major0=2,
            per_major=60,
        ),
    ]
    for av, vendor in (
        ("Sophos Endpoint Agent", "Sophos"),
        ("ESET Endpoint Security", "ESET"),
        ("Bitdefender Endpoint Security Tools", "Bitdefender"),
        ("Trend Micro Apex One", "Trend Micro"),
        ("Malwarebytes Endpoint Agent", "Malwarebytes"),
    ):
        products.append(
            Product(
                f"av-{vendor.lower().replace(' ', '')}",
                av,
                vendor,
                WINDOWS,
                "tp",
                "Third Party Updates",
                45.0,
                2,
                {"ws": 0.97, "srv": 0.95},
                IMPORTANT,
                f"{vendor.split()[0]}Setup_{{ver}}_{{fl}}.exe",
                "{title} {ver} ({fl})",
                "TU",
                flavours=("x64", "x86", "Server x64"),
                skew=1.5,
                group="av",
                major0=10,
                per_major=12,
                install_days=3.0,
                never=0.02,
            )
        )
    for drv, vendor, count in (
        ("Intel Graphics Driver", "Intel", 90),
        ("Realtek Audio Driver", "Realtek", 70),
        ("Intel Wireless Wi-Fi Driver", "Intel", 60),
        ("NVIDIA Graphics Driver", "NVIDIA", 50),
    ):
        products.append(
            Product(
                f"drv-{drv.lower().replace(' ', '')}",
                drv,
                vendor,
                WINDOWS,
                "driver",
                "Driver Updates",
                75.0,
                4,
                {"ws": 0.35 if "Intel" in drv else 0.2, "srv": 0.02},
                UNRATED,
                "{fl}-{ver}.cab",
                "{title} {ver} for {fl}",
                "DRV",
                flavours=_models(vendor, ("Device", "Adapter", "Controller"), count),
                skew=0.9,
                security=False,
                noreboot=1,
                major0=31,
                per_major=20,
                size_mb=(20.0, 600.0),
                install_days=25.0,
                never=0.08,
                fail=0.01,
            )
        )
    for oem, series, count in (
        ("Dell", ("Latitude", "OptiPlex", "Precision", "PowerEdge"), 640),
        ("HP", ("EliteBook", "ProBook", "EliteDesk", "ProLiant"), 520),
        ("Lenovo", ("ThinkPad", "ThinkCentre", "ThinkSystem"), 480),
    ):
        products.append(
            Product(
                f"bios-{oem.lower()}",
                f"{oem} BIOS Update",
                oem,
                WINDOWS,
                "bios",
                "BIOS Updates",
                90.0,
                4,
                {"ws": 0.60, "srv": 0.30},
                MODERATE,
                "{fl}_{ver}.exe",
                "{title} {ver} for {fl}",
                "BIOS",
                flavours=_models(oem, series, count),
                skew=0.6,
                group="oem",
                security=True,
                noreboot=1,
                major0=1,
                per_major=30,
                size_mb=(10.0, 40.0),
                install_days=20.0,
                never=0.06,
                fail=0.01,
                uninstall=0,
            )
        )
    return products


def _mac_linux_products() -> list[Product]:
    mac = {"mac": 1.0}
    products = [
        Product(
            f"macos-{n}",
            f"macOS {name}",
            "Apple",
            MAC,
            "tp",
            "Security Updates",
            45.0,
            2,
            mac,
            CRIT,
            f"macOS{name}_{{ver}}.pkg",
            f"macOS {name} {{ver}} Update",
            "MAC",
            streams=frozenset({f"macos{n}"}),
            noreboot=1,
            major0=n,
            per_major=8,
            size_mb=(800.0, 3000.0),
            install_days=15.0,
            never=0.08,
            uninstall=0,
        )
        for n, name in ((13, "Ventura"), (14, "Sonoma"), (15, "Sequoia"))
    ]
    products += [
        Product(
            "chrome-mac",
            "Google Chrome For Mac",
            "Google",
            MAC,
            "tp",
            "Third Party Updates",
            14.0,
            2,
            {"mac": 0.85},
            CRIT,
            "googlechrome.dmg",
            "Google Chrome For Mac {ver}",
            "MAC",
            major0=129,
            per_major=4,
            size_mb=(190.0, 210.0),
            install_days=4.0,
        ),
        Product(
            "firefox-mac",
            "Mozilla Firefox For Mac",
            "Mozilla",
            MAC,
            "tp",
            "Third Party Updates",
            14.0,
            2,
            {"mac": 0.3},
            CRIT,
            "Firefox {ver}.dmg",
            "Mozilla Firefox For Mac {ver} ({fl})",
            "MAC",
            flavours=_langs(10),
            major0=130,
            per_major=2,
        ),
        Product(
            "office-mac",
            "Microsoft Office For Mac",
            "Microsoft",
            MAC,
            "tp",
            "Third Party Updates",
            30.44,
            2,
            {"mac": 0.7},
            IMPORTANT,
            "Microsoft_{part}_{ver}_Updater.pkg",
            "Microsoft {part} For Mac {ver}",
            "MAC",
            parts=("Word", "Excel", "Outlook"),
            major0=16,
            per_major=100,
            patch_tuesday=True,
        ),
        Product(
            "zoom-mac",
            "Zoom For Mac",
            "Zoom Video Communications",
            MAC,
            "tp",
            "Third Party Updates",
            21.0,
            2,
            {"mac": 0.6},
            IMPORTANT,
            "zoomusInstallerFull.pkg",
            "Zoom For Mac {ver} ({fl})",
            "MAC",
            flavours=("Apple Silicon", "Intel"),
            major0=6,
            per_major=8,
        ),
    ]
    for stream, vendor, title, parts in (
        (
            "ubuntu2204",
            "Canonical",
            "Ubuntu 22.04",
            ("linux-image-generic", "openssl", "libc6", "curl"),
        ),
        (
            "ubuntu2404",
            "Canonical",
            "Ubuntu 24.04",
            ("linux-image-generic", "openssl", "libc6", "curl"),
        ),
        ("rhel9", "Red Hat", "RHEL 9", ("kernel", "openssl", "glibc")),
    ):
        products.append(
            Product(
                f"lin-{stream}",
                f"{title} security updates",
                vendor,
                LINUX,
                "tp",
                "Security Updates",
                14.0,
                2,
                {"linux": 1.0},
                IMPORTANT,
                "{part}_{ver}",
                "{part} security update for {title} ({ver})",
                "LNX",
                streams=frozenset({stream}),
                parts=parts,
                major0=5,
                per_major=40,
                size_mb=(1.0, 120.0),
                install_days=7.0,
                never=0.06,
            )
        )
    return products


PRODUCTS: tuple[Product, ...] = tuple(_windows_products() + _mac_linux_products())

ORG_PREFIXES = (
    "Acacia",
    "Banksia",
    "Coastal",
    "Eastwood",
    "Harbour",
    "Ironbark",
    "Jarrah",
    "Kestrel",
    "Lakeside",
    "Meridian",
    "Northgate",
    "Orchard",
    "Pinnacle",
    "Quarry",
    "Riverbend",
    "Summit",
    "Tidewater",
    "Uluru",
    "Vantage",
    "Wattle",
    "Yarra",
    "Zenith",
    "Bluegum",
    "Cedar",
    "Dunmore",
    "Emerald",
    "Fairview",
    "Granite",
    "Highland",
    "Islington",
    "Juniper",
    "Koala",
    "Lyndon",
)
ORG_SUFFIXES = (
    "Legal",
    "Medical Group",
    "Logistics",
    "Accounting",
    "Engineering",
    "Council",
    "Dental",
    "Grammar School",
    "Holdings",
    "Builders",
    "Freight",
    "Pharmacy",
    "Architects",
    "Financial",
)
TECHNICIANS = ("admin", "DC-SYSTEM-USER", "j.nguyen", "s.patel", "m.oconnor", "l.chen", "r.smith")
AGENT_VERSIONS = ("11.3.2416.7", "11.3.2428.3", "11.4.2504.1", "11.4.2516.1", "11.4.2520.4")
ERROR_CODES = (
    (1603, "Fatal error during installation"),
    (1618, "Another installation is already in progress"),
    (17, "The patch could not be downloaded to the agent"),
    (2, "Installer file not found"),
)


@dataclass(frozen=True, slots=True)
class Org:
    """One customer organisation of the MSP: a branch (remote) office in PMP."""

    index: int
    name: str
    abbreviation: str
    branch_office_id: int
    customer_id: int
    weight: float
    has_esu: bool
    av_product: int
    oem_product: int
    timezone_hours: int = field(default=10)
