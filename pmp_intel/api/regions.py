"""The Zoho accounts server for a PMP cloud host (pmp-api.md §1, the data-centre table).

``patch.manageengine.<region>`` pairs with ``accounts.zoho.<region>``, except Canada,
whose accounts server is ``accounts.zohoone.ca``. Hosts that are not ManageEngine cloud
hosts (on-premises servers, a simulator) have no derivable accounts server:
``PMP_ACCOUNTS_URL`` must name it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pmp_intel.errors import ConfigurationError

#: Region suffix of the PMP host → Zoho accounts host. Longest suffix first.
ACCOUNTS_HOSTS: dict[str, str] = {
    "com.au": "accounts.zoho.com.au",
    "com": "accounts.zoho.com",
    "eu": "accounts.zoho.eu",
    "in": "accounts.zoho.in",
    "cn": "accounts.zoho.cn",
    "jp": "accounts.zoho.jp",
    "ca": "accounts.zohoone.ca",
    "uk": "accounts.zoho.uk",
}

_CLOUD_DOMAIN = "manageengine"


def region_of(base_url: str) -> str | None:
    """The data-centre suffix (``com``, ``com.au``, ``eu`` …) of a ManageEngine cloud URL."""
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    for suffix in sorted(ACCOUNTS_HOSTS, key=len, reverse=True):
        if host.endswith(f".{_CLOUD_DOMAIN}.{suffix}") or host == f"{_CLOUD_DOMAIN}.{suffix}":
            return suffix
    return None


def accounts_url_for(base_url: str, override: str | None = None) -> str:
    """The accounts server for ``base_url``: ``override`` when given, else derived.

    Raises :class:`ConfigurationError` when the host is not a ManageEngine cloud host and no
    override is set.
    """
    if override:
        return override.rstrip("/")
    region = region_of(base_url)
    if region is None:
        raise ConfigurationError(
            "cannot derive the Zoho accounts server from PMP_BASE_URL (not a "
            "*.manageengine.<region> host): set PMP_ACCOUNTS_URL, "
            "e.g. https://accounts.zoho.com.au"
        )
    return f"https://{ACCOUNTS_HOSTS[region]}"
