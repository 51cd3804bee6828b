"""KEV import, configuration, classification, report renderers and the CLI commands."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from estate import CHROME, WINDOWS_CU, Estate
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from pmp_intel.analyse import (
    ComplianceChecker,
    ComplianceConfig,
    PatchClass,
    PatchClassifier,
    import_kev,
    render_report,
)
from pmp_intel.analyse.assets import glob_to_like
from pmp_intel.analyse.categories import PatchCategory, PatchFacts
from pmp_intel.analyse.errors import ComplianceConfigError, KevFormatError
from pmp_intel.analyse.kev import sample_path
from pmp_intel.cli import main
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.migrate import upgrade
from pmp_intel.store.models import KnownExploitedVulnerability

# ------------------------------------------------------------------------------- KEV


def test_kev_sample_imports_idempotently(
    bind: sessionmaker[Session], factory_session: Session
) -> None:
    first = import_kev(bind, sample_path())
    again = import_kev(bind, sample_path())

    assert (first.entries, first.added, first.updated) == (7, 7, 0)
    assert (again.added, again.updated, again.total_in_database) == (0, 7, 7)
    log4j = factory_session.get(KnownExploitedVulnerability, "CVE-2021-44228")
    assert log4j is not None
    assert (log4j.vendor_project, log4j.known_ransomware_use, str(log4j.date_added)) == (
        "Apache",
        True,
        "2021-12-10",
    )


def test_kev_replace_empties_first(
    bind: sessionmaker[Session], factory_session: Session, tmp_path: Path
) -> None:
    import_kev(bind, sample_path())
    one = tmp_path / "one.json"
    one.write_text(
        json.dumps(
            {
                "catalogVersion": "x",
                "vulnerabilities": [
                    {
                        "cveID": "cve-2020-0001",
                        "dateAdded": "2020-01-02",
                        "knownRansomwareCampaignUse": "Unknown",
                    }
                ],
            }
        )
    )

    result = import_kev(bind, one, replace=True)

    assert (result.total_in_database, result.catalog_version) == (1, "x")
    count = select(func.count()).select_from(KnownExploitedVulnerability)
    assert factory_session.execute(count).scalar_one() == 1
    assert factory_session.get(KnownExploitedVulnerability, "CVE-2020-0001") is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not readable JSON"),
        ('{"vulnerabilities": {}}', "not a CISA KEV catalogue"),
        ('{"vulnerabilities": [{"product": "x"}]}', "has no cveID"),
        ('{"vulnerabilities": [{"cveID": "CVE-1", "dateAdded": "soon"}]}', "not a YYYY-MM-DD"),
    ],
)
def test_kev_rejects_bad_files(
    bind: sessionmaker[Session],
    factory_session: Session,
    tmp_path: Path,
    content: str,
    message: str,
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(KevFormatError, match=message):
        import_kev(bind, bad)


# ------------------------------------------------------------------------- config


def test_config_from_toml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "apps.toml"
    extra.write_text(
        '[[applications]]\nname = "Contoso Notes"\nclass = "office_suite"\n'
        'patterns = ["*contoso notes*"]\n'
    )
    config_file = tmp_path / "compliance.toml"
    config_file.write_text(
        'application_files = ["apps.toml"]\nthreshold_pct = 90\n'
        '[internet_facing]\norganisations = ["DMZ"]\nsystems = ["MAIL01", 95000011194313]\n'
    )
    monkeypatch.setenv("PMP_INTEL_COMPLIANCE_CONFIG", str(config_file))

    config = ComplianceConfig.load()

    assert config.internet_facing.organisations == ["DMZ"]
    assert config.internet_facing.systems == ["MAIL01", 95000011194313]
    assert config.threshold_pct == 90
    facts = PatchFacts(1, vendor_name="Contoso", patch_description="Contoso Notes 5.1")
    assert PatchClassifier(config).classify(facts).patch_class is PatchClass.OFFICE
    monkeypatch.delenv("PMP_INTEL_COMPLIANCE_CONFIG")
    assert ComplianceConfig.load().internet_facing.configured is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("threshold_pct = 120", "threshold_pct"),
        ("[[applications]]\nname = 'x'\nclass = 'spreadsheet'", "unknown class"),
        ("surprise = 1", "surprise"),
        ("not toml", "compliance config"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(content)
    with pytest.raises(ComplianceConfigError, match=message):
        ComplianceConfig.from_toml(path)
    with pytest.raises(ComplianceConfigError, match="does not exist"):
        ComplianceConfig.from_toml(tmp_path / "missing.toml")


# ------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("facts", "category", "patch_class", "app_class"),
    [
        (
            {
                "vendor_name": "Microsoft",
                "update_name": "Security Updates",
                "patch_description": "2025-05 Cumulative Update for Windows 11 Version 24H2",
            },
            PatchCategory.OS,
            PatchClass.OS,
            "operating_system",
        ),
        (
            {
                "vendor_name": "Microsoft",
                "update_name": "Security Updates",
                "patch_description": "Security Update for Microsoft Outlook 2016 (KB5002683)",
            },
            PatchCategory.MICROSOFT_APPLICATION,
            PatchClass.OFFICE,
            "email_client",
        ),
        (
            {
                "vendor_name": "Google",
                "update_name": "Third Party Updates",
                "platform": 2,
                "patch_name": "googlechrome.dmg",
                "patch_description": "Google Chrome For Mac 117.0",
            },
            PatchCategory.THIRD_PARTY,
            PatchClass.OFFICE,
            "web_browser",
        ),
        (
            {
                "vendor_name": "Adobe",
                "update_name": "Third Party Updates",
                "patch_description": "Adobe Acrobat Reader DC 25.001",
            },
            PatchCategory.THIRD_PARTY,
            PatchClass.OFFICE,
            "pdf_software",
        ),
        (
            {
                "vendor_name": "Sophos",
                "update_name": "Third Party Updates",
                "patch_description": "Sophos Endpoint Agent 2025.1 (x64)",
            },
            PatchCategory.THIRD_PARTY,
            PatchClass.OFFICE,
            "security_product",
        ),
        (
            {
                "vendor_name": "Microsoft",
                "update_name": "Third Party Updates",
                "patch_description": "Microsoft Edge WebView2 Runtime 137.0",
            },
            PatchCategory.MICROSOFT_APPLICATION,
            PatchClass.OTHER_APP,
            "other",
        ),
        (
            {
                "vendor_name": "Microsoft",
                "update_name": "Security Updates",
                "patch_description": "Security Update for Exchange Server 2019 CU14 (KB5050672)",
            },
            PatchCategory.MICROSOFT_APPLICATION,
            PatchClass.ONLINE_SERVICE,
            "online_service",
        ),
        (
            {
                "vendor_name": "Intel",
                "update_name": "Driver Updates",
                "patch_description": "Intel Graphics Driver 31.0",
            },
            PatchCategory.DRIVER,
            PatchClass.DRIVER,
            "driver",
        ),
        (
            {
                "vendor_name": "Dell",
                "update_name": "BIOS Updates",
                "patch_description": "Dell BIOS Update 1.2 for Dell OptiPlex 7090",
            },
            PatchCategory.BIOS,
            PatchClass.FIRMWARE,
            "firmware",
        ),
        (
            {
                "vendor_name": "Canonical",
                "update_name": "Security Updates",
                "platform": 3,
                "patch_description": "Ubuntu 22.04 security updates (openssl)",
            },
            PatchCategory.OS,
            PatchClass.OS,
            "operating_system",
        ),
        (
            {
                "vendor_name": "Igor Pavlov",
                "update_name": "Third Party Updates",
                "patch_description": "7-Zip 24.09",
            },
            PatchCategory.THIRD_PARTY,
            PatchClass.OTHER_APP,
            "other",
        ),
    ],
)
def test_patch_classification(
    facts: dict[str, object], category: PatchCategory, patch_class: PatchClass, app_class: str
) -> None:
    found = PatchClassifier().classify(PatchFacts(1, **facts))  # type: ignore[arg-type]
    assert (found.category, found.patch_class, found.app_class) == (
        category,
        patch_class,
        app_class,
    )


def test_patch_type_codes_from_config_win_over_text() -> None:
    config = ComplianceConfig(driver_patch_types=[7])
    facts = PatchFacts(1, vendor_name="Google", patch_description="Google Chrome 1", patch_type=7)
    assert PatchClassifier(config).classify(facts).patch_class is PatchClass.DRIVER


def test_globs_become_escaped_like_patterns() -> None:
    assert glob_to_like("WEB-*_01?") == "web-%\\_01_"
    assert glob_to_like("100%") == "100\\%"


# ------------------------------------------------------------------------- reports


@pytest.fixture
def report(bind: sessionmaker[Session], factory_session: Session) -> object:
    estate = Estate.create()
    estate.state(
        estate.system("WS-<1>"), estate.patch(CHROME, severity=4), installed_after=timedelta(days=3)
    )
    return ComplianceChecker(bind, config=ComplianceConfig(threshold_pct=90)).evaluate(
        estate.snapshot.id
    )


def test_html_report_is_self_contained_and_puts_failures_first(report: object) -> None:
    html = render_report(report, "html")  # type: ignore[arg-type]

    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|src=|@import|url\(", html, re.I)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    assert html.index("ISM-1692") < html.index("ISM-1691")
    assert "WS-&lt;1&gt;" in html
    assert "WS-<1>" not in html
    assert "<svg" in html
    assert "not ASD&#x27;s rule" in html or "not ASD's rule" in html


def test_markdown_and_json_reports(report: object) -> None:
    md = render_report(report, "md")  # type: ignore[arg-type]
    assert md.startswith("# Essential Eight patching compliance")
    assert "| Ineffective | ISM-1692 | ML3 |" in md
    data = json.loads(render_report(report, "json"))  # type: ignore[arg-type]
    assert data["profile"] == "e8-2023-11"
    assert {s["strategy"] for s in data["strategies"]} == {
        "patch_applications",
        "patch_operating_systems",
    }
    with pytest.raises(ValueError, match="unknown report format"):
        render_report(report, "pdf")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_db(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A migrated database the CLI can commit to (the configured source: 'default')."""
    engine = create_db_engine(fresh_database_url)
    upgrade(engine)
    monkeypatch.setenv("PMP_INTEL_DATABASE_URL", fresh_database_url)
    return engine


def test_cli_without_a_snapshot_is_one_clear_error(
    cli_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["metrics"]) == 1
    assert capsys.readouterr().err.strip() == (
        "pmp-intel: error: no source named 'default' in this database (set PMP_INTEL_SOURCE)"
    )
    assert main(["compliance", "--snapshot", "424242"]) == 1
    assert "snapshot 424242 does not exist" in capsys.readouterr().err


def test_cli_kev_metrics_and_compliance(
    cli_db: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from factories import bind_session

    with Session(cli_db, expire_on_commit=False) as session:
        bind_session(session)
        try:
            estate = Estate.create()
            estate.source.name = "default"
            estate.state(
                estate.system("WEB-1"),
                estate.patch(WINDOWS_CU),
                installed_after=timedelta(hours=50),
            )
            session.commit()
        finally:
            bind_session(None)
    assert main(["kev", "import", str(sample_path())]) == 0
    assert "imported 7 KEV entries" in capsys.readouterr().out

    assert main(["metrics", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["snapshot_id"], data["previous_snapshot_id"]) == (estate.snapshot.id, None)
    total = next(p for p in data["patches"] if p["scope"] == "total")
    assert total["applicable_pairs"] == 5  # four baseline pairs and the CU on WEB-1

    assert main(["metrics"]) == 0
    assert "patches.applicable_pairs" in capsys.readouterr().out

    config = tmp_path / "c.toml"
    config.write_text('[internet_facing]\nname_patterns = ["WEB-*"]\n')
    out = tmp_path / "report.html"
    assert (
        main(["compliance", "--format", "html", "--output", str(out), "--config", str(config)]) == 0
    )
    assert "patch_operating_systems: ML0" in capsys.readouterr().out
    assert "ISM-1877" in out.read_text()

    assert main(["compliance", "--profile", "legacy-sla", "--format", "md"]) == 0
    assert "LEGACY-CRITICAL-48H" in capsys.readouterr().out


def test_cli_compliance_and_metrics_use_the_compliance_config_setting(
    cli_db: Engine,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``compliance_config`` set in pmp-intel.toml (not in the environment) reaches both
    commands when --config is not given."""
    from factories import bind_session

    with Session(cli_db, expire_on_commit=False) as session:
        bind_session(session)
        try:
            estate = Estate.create()
            estate.source.name = "default"
            web = estate.system("WEB-1", os_name="Windows Server 2022 Standard Edition (x64)")
            estate.state(web, estate.patch(WINDOWS_CU), installed_after=timedelta(hours=50))
            estate.state(web, estate.patch(CHROME, patch_type=9), installed_after=timedelta(1))
            session.commit()
        finally:
            bind_session(None)
    (tmp_path / "e8.toml").write_text(
        'firmware_patch_types = [9]\n[internet_facing]\nname_patterns = ["WEB-*"]\n'
    )
    (tmp_path / "pmp-intel.toml").write_text('compliance_config = "e8.toml"\n')
    monkeypatch.delenv("PMP_INTEL_COMPLIANCE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    assert main(["compliance", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    outcomes = {c["control_id"]: c["outcome"] for c in report["controls"]}
    assert (outcomes["ISM-1877"], outcomes["ISM-1701"]) == ("ineffective", "effective")
    assert "Internet-facing: names ['WEB-*']." in report["assumptions"]

    assert main(["metrics", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    bios = next(
        p for p in data["patches"] if (p["scope"], p["scope_value"]) == ("category", "bios")
    )
    assert bios["applicable_pairs"] == 2  # the baseline BIOS update and the type-9 patch

    (tmp_path / "other.toml").write_text("[internet_facing]\nnone = true\n")
    assert main(["compliance", "--format", "json", "--config", "other.toml"]) == 0
    flagged = json.loads(capsys.readouterr().out)
    assert {c["control_id"]: c["outcome"] for c in flagged["controls"]}["ISM-1877"] == (
        "not_applicable"
    )
