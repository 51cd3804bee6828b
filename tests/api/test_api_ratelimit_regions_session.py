"""Token bucket, accounts-host derivation and the session factory."""

from __future__ import annotations

import threading

import pytest
import requests

from pmp_intel.__about__ import __version__
from pmp_intel.api.clock import FakeClock
from pmp_intel.api.ratelimit import TokenBucket
from pmp_intel.api.regions import accounts_url_for, region_of
from pmp_intel.api.session import build_session, tls_verify
from pmp_intel.errors import ConfigurationError


def test_bucket_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock=clock)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.25, 0.25, 0.25]
    assert clock.sleeps == [0.25] * 4


def test_bucket_allows_a_burst_then_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0]
    assert bucket.reserve() == pytest.approx(0.5)
    clock.advance(10)
    assert bucket.reserve() == 0


def test_bucket_is_shared_by_threads_without_exceeding_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock)
    reservations: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            wait = bucket.reserve()
            with lock:
                reservations.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Time never advanced: 100 reservations queue up 0.1 s apart.
    assert sorted(reservations) == pytest.approx([i / 10 for i in range(100)])


def test_bucket_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1, burst=0.5)


@pytest.mark.parametrize(
    ("base", "accounts"),
    [
        ("https://patch.manageengine.com", "https://accounts.zoho.com"),
        ("https://patch.manageengine.eu", "https://accounts.zoho.eu"),
        ("https://patch.manageengine.in", "https://accounts.zoho.in"),
        ("https://patch.manageengine.com.au", "https://accounts.zoho.com.au"),
        ("https://patch.manageengine.cn", "https://accounts.zoho.cn"),
        ("https://patch.manageengine.jp", "https://accounts.zoho.jp"),
        ("https://patch.manageengine.ca", "https://accounts.zohoone.ca"),
        ("https://patch.manageengine.uk", "https://accounts.zoho.uk"),
        ("https://endpointcentral.manageengine.com.au:443/", "https://accounts.zoho.com.au"),
    ],
)
def test_accounts_host_by_region(base: str, accounts: str) -> None:
    assert accounts_url_for(base) == accounts


def test_accounts_override_and_unknown_hosts() -> None:
    assert accounts_url_for("https://pmp.local:8383", "https://acc.test/") == "https://acc.test"
    assert region_of("https://manageengine.com.evil.test") is None
    with pytest.raises(ConfigurationError, match="PMP_ACCOUNTS_URL"):
        accounts_url_for("https://pmp.corp.example:8383")


def test_session_defaults(tmp_path: object) -> None:
    session = build_session(pool_size=8)
    assert session.verify is True
    assert session.headers["User-Agent"].startswith(f"pmp-intel/{__version__}")
    adapter = session.get_adapter("https://x.test")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter.max_retries.total == 0
    assert adapter._pool_maxsize >= 8  # type: ignore[attr-defined]
    assert tls_verify(True, "/etc/ca.pem") == "/etc/ca.pem"
    assert tls_verify(False, None) is False


def test_session_ignores_netrc_credentials(tmp_path: object, monkeypatch: pytest.MonkeyPatch,
                                           ) -> None:
    import pathlib

    home = pathlib.Path(str(tmp_path))
    netrc = home / ".netrc"
    netrc.write_text("machine x.test login user password pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    session = build_session()
    prepared = session.prepare_request(
        requests.Request("GET", "https://x.test/a", headers={"Authorization": "TOKEN"})
    )
    assert prepared.headers["Authorization"] == "TOKEN"
