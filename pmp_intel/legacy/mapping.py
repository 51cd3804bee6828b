"""How legacy record fields map onto the unified schema's columns.

A mapping is a tuple of ``(column, converter, source keys)``: the first source key whose
value converts to something wins. The same mapping reads a ``raw_data`` JSON record and a
row of flattened columns, so "raw_data preferred over columns" is simply: map the raw
record, then fill what is still missing from the columns. Keys a mapping does not consume
are kept in the row's ``extra`` JSON, and so is a value a mapping consumes but cannot
convert (:func:`lost`): nothing present in a legacy row disappears without a trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pmp_intel.legacy import values as v

Converter = Callable[[Any], Any]
FieldMap = tuple[tuple[str, Converter, tuple[str, ...]], ...]


class Domain:
    """A code converter: the integer value if it is one of ``allowed``, else None."""

    def __init__(self, *allowed: int) -> None:
        self.allowed = tuple(sorted(allowed))
        self._options = frozenset(allowed)

    def __call__(self, value: Any) -> int | None:
        return v.in_domain(value, self._options)


def platform_name(value: Any) -> str | None:
    """A platform *name* (a bare number is a platform code, not a name)."""
    text = v.to_text(value)
    return None if text is None or v.to_int(text) is not None else text


HEALTH = Domain(0, 1, 2, 3)
SCAN = Domain(226, 227, 228, 229)
AGENT = Domain(21, 22, 23, 24, 29)
APPROVAL = Domain(0, 211, 212)

#: Converters whose "no result" for a present value means the value was out of domain.
CODES: frozenset[Converter] = frozenset(
    {HEALTH, SCAN, AGENT, APPROVAL, v.severity, v.live_status, v.platform}
)
#: Converters whose "no result" for a present value loses nothing: text takes any value, and
#: a platform *name* deliberately leaves platform codes to ``platform``.
LOSSLESS: frozenset[Converter] = frozenset({v.to_text, platform_name})
#: ``extra`` keys of the values a mapping consumed but could not convert (column → original).
INVALID_NOTE = "legacy_invalid"
UNPARSED_NOTE = "legacy_unparsed"


def lost(convert: Converter, raw: Any) -> str | None:
    """Where a present value ``raw`` that ``convert`` turned into nothing is noted:
    ``legacy_invalid`` for a code outside its domain, ``legacy_unparsed`` for any other value
    that is not what its column holds (text that is no number, time or yes/no); None when
    nothing was lost (a sentinel, a lossless converter, an epoch of 0 or less: "never")."""
    if convert in LOSSLESS or v.clean(raw) is None:
        return None
    if convert in CODES:
        return INVALID_NOTE
    if convert is v.epoch_ms:
        number = v.to_int(raw)
        if number is not None and number <= 0:
            return None
    return UNPARSED_NOTE


SYSTEM_MAP: FieldMap = (
    ("resource_name", v.to_text, ("resource_name", "resource.name", "computer_name")),
    (
        "domain_netbios_name",
        v.to_text,
        ("domain_netbios_name", "resource.domain_netbios_name", "domain_name"),
    ),
    (
        "branch_office_id",
        v.to_int,
        (
            "branch_office_id",
            "branchofficedetails.branch_office_id",
            "branchofficedetails_branch_office_id",
        ),
    ),
    ("branch_office_name", v.to_text, ("branch_office_name",)),
    ("customer_id", v.to_int, ("customer_id",)),
    ("customer_name", v.to_text, ("customer_name",)),
    ("ip_address", v.to_text, ("ip_address",)),
    ("mac_address", v.to_text, ("mac_address",)),
    ("os_name", v.to_text, ("os_name",)),
    ("os_platform", v.platform, ("os_platform", "os_platform_id")),
    ("os_platform_name", v.to_text, ("os_platform_name",)),
    (
        "os_language",
        v.to_text,
        ("os_language_abbr", "oslanguage.i18n", "oslanguage_i18n", "os_language"),
    ),
    ("service_pack", v.to_text, ("service_pack",)),
    ("agent_version", v.to_text, ("agent_version",)),
    ("agent_installed_on", v.epoch_ms, ("agent_installed_on",)),
    ("agent_installation_status", AGENT, ("installation_status", "agent_installation_status")),
    ("agent_last_contact_time", v.epoch_ms, ("agent_last_contact_time", "last_contact_time")),
    ("agent_last_bootup_time", v.epoch_ms, ("agent_last_bootup_time", "last_bootup_time")),
    ("computer_live_status", v.live_status, ("computer_live_status",)),
    ("resource_health_status", HEALTH, ("resource_health_status",)),
    ("scan_status", SCAN, ("scan_status",)),
    ("last_scan_time", v.epoch_ms, ("last_scan_time",)),
    (
        "last_successful_scan_time",
        v.epoch_ms,
        ("last_successful_scan", "last_successful_scan_time"),
    ),
    ("last_patched_time", v.epoch_ms, ("last_patched_time",)),
    ("missing_ms_patches", v.to_int, ("missing_ms_patches",)),
    ("missing_tp_patches", v.to_int, ("missing_tp_patches",)),
    ("missing_driver_patches", v.to_int, ("missing_driver_patches",)),
    ("missing_bios_patches", v.to_int, ("missing_bios_patches",)),
    ("installed_ms_patches", v.to_int, ("installed_ms_patches",)),
    ("installed_tp_patches", v.to_int, ("installed_tp_patches",)),
    ("installed_driver_patches", v.to_int, ("installed_driver_patches",)),
    ("installed_bios_patches", v.to_int, ("installed_bios_patches",)),
    ("critical_patch_count", v.to_int, ("critical_patch_count",)),
    ("important_patch_count", v.to_int, ("important_patch_count",)),
    ("moderate_patch_count", v.to_int, ("moderate_patch_count",)),
    ("low_patch_count", v.to_int, ("low_patch_count",)),
    (
        "reboot_required",
        v.to_bool,
        ("reboot_required", "reboot_req_status", "resourcetorebootdetails.reboot_req_status"),
    ),
    ("description", v.to_text, ("description",)),
)

PATCH_MAP: FieldMap = (
    ("update_id", v.to_int, ("update_id",)),
    ("bulletin_id", v.to_text, ("bulletin_id", "bulletinid")),
    ("patch_name", v.to_text, ("patch_name", "patchname")),
    ("patch_description", v.to_text, ("patch_description",)),
    ("update_name", v.to_text, ("update_name", "update_type")),
    ("patch_type", v.to_int, ("patch_type",)),
    ("vendor_name", v.to_text, ("vendor_name",)),
    ("platform", v.platform, ("platform", "platform_name")),
    ("platform_name", platform_name, ("platform_name", "platform")),
    ("severity", v.severity, ("severity", "severity_name", "severity_label")),
    ("approval_status", APPROVAL, ("approval_status",)),
    ("download_status", v.to_int, ("download_status",)),
    ("patch_noreboot", v.to_int, ("patch_noreboot",)),
    ("uninstall_supported", v.to_bool, ("uninstall_supported", "patch_uninstall_status")),
    ("patch_size", v.to_int, ("patch_size", "patch_size_bytes")),
    ("patch_released_time", v.epoch_ms, ("patch_released_time", "release_date")),
    ("patch_updated_time", v.epoch_ms, ("patch_updated_time",)),
    ("patch_supported_time", v.epoch_ms, ("patch_supported_time", "supported_date")),
    ("superseded_by", v.to_text, ("superseded_by", "superceded_by")),
    ("is_superseded", v.to_bool, ("is_superseded", "is_superceded")),
)

#: Patch facts a per-system report carries (the rest of its record is the state).
REPORT_PATCH_MAP: FieldMap = tuple(
    f
    for f in PATCH_MAP
    if f[0]
    in (
        "bulletin_id",
        "patch_name",
        "severity",
        "vendor_name",
        "platform",
        "platform_name",
        "patch_released_time",
        "patch_updated_time",
    )
)

#: The state of one patch on one system. ``patch_status`` is the *install* status (201/202/206)
#: and never a source of ``approval_status`` (0/211/212): maia-legacy.md §2.7.
STATE_MAP: FieldMap = (
    ("approval_status", APPROVAL, ("approval_status",)),
    ("deployment_status", v.to_int, ("deployment_status",)),
    ("install_error_code", v.to_int, ("install_error_code", "installation_error_code")),
    ("installed_time", v.epoch_ms, ("installed_time",)),
    ("deploy_remarks", v.to_text, ("deploy_remarks",)),
)

SOM_MAP: FieldMap = (
    ("resource_name", v.to_text, ("resource_name", "computer_name")),
    ("domain_name", v.to_text, ("domain_name", "domain_netbios_name")),
    ("customer_name", v.to_text, ("customer_name",)),
    ("branch_office_name", v.to_text, ("branch_office_name",)),
    ("os_name", v.to_text, ("os_name",)),
    ("os_version", v.to_text, ("os_version",)),
    ("os_platform_name", v.to_text, ("os_platform_name",)),
    ("service_pack", v.to_text, ("service_pack",)),
    ("ip_address", v.to_text, ("ip_address",)),
    ("mac_address", v.to_text, ("mac_address",)),
    ("agent_installed_on", v.epoch_ms, ("agent_installed_on",)),
    ("installation_status", AGENT, ("installation_status",)),
    ("computer_live_status", v.live_status, ("computer_live_status",)),
    ("last_contact_time", v.epoch_ms, ("last_contact_time", "agent_last_contact_time")),
)

POLICY_MAP: FieldMap = (
    ("template_name", v.to_text, ("template_name", "config_name")),
    ("user_id", v.to_int, ("user_id",)),
    ("created_by", v.to_text, ("first_name", "created_by", "modifieduser.first_name")),
    ("customer_id", v.to_int, ("customer_id",)),
    ("creation_time", v.epoch_ms, ("creation_time", "created_time")),
    ("modified_time", v.epoch_ms, ("modified_time",)),
    ("is_template_alive", v.to_bool, ("is_template_alive",)),
    ("set_as_default", v.to_bool, ("set_as_default",)),
)

VIEW_MAP: FieldMap = (
    ("collection_id", v.to_int, ("collection_id",)),
    ("total_target_count", v.to_int, ("total_target_count",)),
    ("os_platform_name", v.to_text, ("os_platform_name",)),
    ("collection_platform_id", v.to_int, ("collection_platform_id",)),
)

TASK_MAP: FieldMap = (
    ("task_name", v.to_text, ("task_name", "config_name")),
    ("os_platform_name", v.to_text, ("os_platform_name", "platform_name")),
    ("total_target", v.to_int, ("total_target", "target_systems_count")),
    ("template_id", v.to_int, ("template_id",)),
    ("task_creation_time", v.epoch_ms, ("task_creation_time", "scheduled_time")),
    ("task_modified_time", v.epoch_ms, ("task_modified_time", "executed_time")),
    ("remarks", v.to_text, ("remarks", "execution_status")),
)

HEALTH_POLICY_MAP: FieldMap = (
    *(
        (name, v.to_int, (name,))
        for name in (
            "vulnerable_critical",
            "vulnerable_important",
            "vulnerable_moderate",
            "vulnerable_low",
            "highly_vulnerable_critical",
            "highly_vulnerable_important",
            "highly_vulnerable_moderate",
            "highly_vulnerable_low",
        )
    ),
    ("consider_only_approved_patches", v.to_bool, ("consider_only_approved_patches",)),
)


def _approval_word(value: Any) -> str | None:
    text = v.to_text(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("manual", "automatic"):
        return lowered
    if lowered in ("auto", "automated"):
        return "automatic"
    return None


APPROVAL_MAP: FieldMap = (("patch_approval", _approval_word, ("patch_approval", "approval_mode")),)


def with_notes(extra: dict[str, Any], notes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``extra`` with the notes of :func:`apply` added (``extra`` is changed and returned)."""
    for key, values in notes.items():
        if values:
            extra.setdefault(key, {}).update(values)
    return extra


VULNERABILITY_MAP: FieldMap = (
    ("cvss_score", v.to_float, ("cvss_score", "cvss_v3_score", "cvss")),
    ("cvss_severity", v.to_text, ("cvss_severity", "severity")),
    ("description", v.to_text, ("description",)),
    ("published_time", v.epoch_ms, ("published_time", "published_date")),
)


def _consumed(mapping: FieldMap) -> frozenset[str]:
    return frozenset(key for _, _, keys in mapping for key in keys)


_INDEX: dict[int, dict[str, tuple[tuple[str, Converter, int], ...]]] = {}


def _index(mapping: FieldMap) -> dict[str, tuple[tuple[str, Converter, int], ...]]:
    """Source key → ``(column, converter, rank)``; rank orders a column's source keys."""
    found = _INDEX.get(id(mapping))
    if found is None:
        built: dict[str, list[tuple[str, Converter, int]]] = {}
        for column, convert, keys in mapping:
            for rank, key in enumerate(keys):
                built.setdefault(key, []).append((column, convert, rank))
        found = _INDEX[id(mapping)] = {k: tuple(v) for k, v in built.items()}
    return found


def apply(
    mapping: FieldMap,
    record: Mapping[str, Any] | None,
    into: dict[str, Any],
    notes: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Fill the still-empty columns of ``into`` from ``record`` using ``mapping``: for each
    column, the first of its source keys (in mapping order) whose value converts wins.

    A value present in ``record`` that does not convert (a code outside its domain, text
    that is no number or time…) is noted in ``notes`` (``legacy_invalid`` or
    ``legacy_unparsed`` → column → the original value, see :func:`lost`) instead of being
    dropped silently."""
    if not record:
        return
    index = _INDEX.get(id(mapping)) or _index(mapping)
    ranks: dict[str, int] = {}
    # record order matters (it decides which invalid code is noted), so filter, not intersect
    hits = [key for key in record if key in index]
    for key in hits:
        raw = record[key]
        if raw is None:
            continue
        for column, convert, rank in index[key]:
            if column in ranks and ranks[column] <= rank:
                continue
            if column not in ranks and into.get(column) is not None:
                continue
            value = convert(raw)
            if value is not None:
                into[column] = value
                ranks[column] = rank
            elif notes is not None:
                note = lost(convert, raw)
                if note is not None:
                    notes.setdefault(note, {}).setdefault(column, raw)


def leftovers(
    mapping: FieldMap, record: Mapping[str, Any] | None, ignore: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Fields of ``record`` that ``mapping`` does not consume (sentinels dropped): they go to
    the row's ``extra``."""
    if not record:
        return {}
    skip = _SKIP.get((id(mapping), ignore))
    if skip is None:
        skip = _SKIP[(id(mapping), ignore)] = _consumed(mapping) | ignore
    clean = v.clean
    out = {key: clean(raw) for key, raw in record.items() if key not in skip}
    if None in out.values():
        out = {key: value for key, value in out.items() if value is not None}
    return out


#: ``(mapping, ignored keys)`` → the keys :func:`leftovers` drops.
_SKIP: dict[tuple[int, frozenset[str]], frozenset[str]] = {}
