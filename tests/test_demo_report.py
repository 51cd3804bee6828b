"""The demo's summary has every part the README promises, and its HTML report is one
well-formed, self-contained file: nothing fetched from elsewhere, the key sections present."""

from __future__ import annotations

import contextlib
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmp_intel.cli import main
from pmp_intel.store.engine import create_db_engine
from pmp_intel.store.models import ComplianceCheck

#: Elements without an end tag.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
#: Attributes that make a browser fetch something.
FETCHING = {"src", "href", "xlink:href", "srcset", "action", "data", "poster", "background"}


class ReportParser(HTMLParser):
    """Checks nesting, and records headings, fetched resources and element counts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.external: list[str] = []
        self.counts: dict[str, int] = {}
        self.headings: list[tuple[str, str]] = []
        self._heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        for name, value in attrs:
            if name in FETCHING and value and not value.startswith(("#", "data:")):
                self.external.append(f"<{tag} {name}={value!r}>")
            if name == "style" and value and "url(" in value:
                self.external.append(f"<{tag} style={value!r}>")
        if tag == "link" or tag == "script":
            self.external.append(f"<{tag}>")
        if tag in ("h1", "h2", "h3"):
            self._heading = ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"end tag of void element </{tag}>")
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append((tag, self._heading.strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading += data
        if self.stack and self.stack[-1] == "style" and re.search(r"url\(|@import", data):
            self.external.append("a stylesheet that fetches")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One small demo run: its work folder and what it printed."""
    workdir = tmp_path_factory.mktemp("demo") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--systems", "40", "--workdir", str(workdir)]) == 0
    return workdir, printed.getvalue()


def test_the_summary_has_every_promised_part(demo: tuple[Path, str]) -> None:
    _, out = demo
    for part in (
        "Estate at the latest snapshot",
        "Missing critical patches by organisation",
        "Essential Eight",
        "What changed from snapshot 1 to 2",
        "HTML report:",
    ):
        assert part in out, part


def test_html_report_is_well_formed_and_self_contained(demo: tuple[Path, str]) -> None:
    workdir, _ = demo
    html = (workdir / "compliance.html").read_text(encoding="utf-8")
    assert html.lower().startswith("<!doctype html>")
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    assert parser.problems == []
    assert parser.stack == [], f"unclosed: {parser.stack}"
    assert parser.external == [], "the report must not fetch anything"
    without_namespaces = re.sub(r"""xmlns(:\w+)?=["'][^"']*["']""", "", html)
    assert not re.search(r"https?://", without_namespaces), "no absolute URLs at all"
    assert [parser.counts.get(t) for t in ("html", "head", "body", "title", "style")] == [1] * 5

    sections = [text for level, text in parser.headings if level == "h2"]
    for section in ("Maturity", "All controls (failing first)", "Trend", "Assumptions"):
        assert section in sections, section
    assert parser.counts.get("svg", 0) >= 2, "the trend charts are inline SVG"

    engine = create_db_engine(f"sqlite:///{workdir / 'pmp_intelligence.db'}")
    with Session(engine) as session:
        failing = session.scalar(
            select(func.count(func.distinct(ComplianceCheck.control_id))).where(
                ComplianceCheck.snapshot_id == 2, ComplianceCheck.outcome == "ineffective"
            )
        )
    engine.dispose()
    assert ("Failing controls" in sections) == bool(failing)
    assert len([t for level, t in parser.headings if level == "h3"]) >= (failing or 0)


def test_the_checker_catches_what_it_should() -> None:
    bad = ReportParser()
    bad.feed(
        "<html><head><link rel='stylesheet' href='https://cdn.example/x.css'></head>"
        "<body><div><p>text</div><img src='//img.example/a.png'></body></html>"
    )
    assert bad.problems
    assert len(bad.external) == 3  # the <link>, its href, the protocol-relative image


def test_the_demo_names_its_internet_facing_systems(demo: tuple[Path, str]) -> None:
    """PMP has no internet-facing flag: the demo names the simulated Linux servers in its
    compliance configuration, for the extraction's analysis and for the report alike, and
    says so, so the internet-facing controls are judged rather than without visibility."""
    workdir, out = demo
    assert "*-LNX*" in (workdir / "compliance.toml").read_text(encoding="utf-8")
    assert "Internet-facing systems:" in out
    engine = create_db_engine(f"sqlite:///{workdir / 'pmp_intelligence.db'}")
    with Session(engine) as session:
        rows = session.execute(
            select(ComplianceCheck.snapshot_id, ComplianceCheck.outcome, ComplianceCheck.details)
            .where(ComplianceCheck.control_id.in_(("ISM-1877", "ISM-1701")))
            .where(ComplianceCheck.maturity_level == 1)
        ).all()
    engine.dispose()
    assert {snapshot for snapshot, _, _ in rows} == {1, 2}
    for _, outcome, details in rows:
        assert outcome in ("effective", "ineffective"), details["reason"]
    html = (workdir / "compliance.html").read_text(encoding="utf-8")
    assert "*-LNX*" in html  # in the report's assumptions
