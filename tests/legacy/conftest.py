"""Fixtures for the legacy-import tests: built legacy folders and fresh target databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from builder import LegacySizes, LegacyTruth, build_legacy_dir
from legacy_helpers import ZONE, upgrade_with_legacy
from sqlalchemy import Engine

from pmp_intel.legacy.report import ImportReport
from pmp_intel.store.engine import create_db_engine


@pytest.fixture(scope="session")
def legacy_a(tmp_path_factory: pytest.TempPathFactory) -> LegacyTruth:
    """The live layout: family-A pmp_config.db (+DCAPI), pmp_resilient.db,
    pmp_systemreports.db and the two empty databases. Never modified by tests."""
    return build_legacy_dir(
        tmp_path_factory.mktemp("legacy_a"), LegacySizes(), empty_files=True, zone=ZONE
    )


@pytest.fixture(scope="session")
def legacy_b(tmp_path_factory: pytest.TempPathFactory) -> LegacyTruth:
    """pmp_config.db of the snapshot family, with pmp_resilient.db and pmp_systemreports.db."""
    return build_legacy_dir(
        tmp_path_factory.mktemp("legacy_b"), LegacySizes(), config_family="B", zone=ZONE
    )


@pytest.fixture
def target(fresh_database_url: str) -> Iterator[Engine]:
    """A fresh target database of the backend under test (not migrated)."""
    engine = create_db_engine(fresh_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def imported(target: Engine, legacy_a: LegacyTruth) -> tuple[Engine, ImportReport]:
    """The family-A folder imported into a fresh target."""
    return target, upgrade_with_legacy(target, legacy_a.directory)
