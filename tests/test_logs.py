"""JSON log lines carry the contract's keys and never a registered secret."""

from __future__ import annotations

import io
import json
import logging

from pmp_intel.api.redact import register_secret
from pmp_intel.logs import configure_logging, get_logger, log_event
from pmp_intel.settings import LogFormat


def test_json_line_has_the_contract_keys() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, stream=stream)
    log_event(
        get_logger("t"),
        logging.INFO,
        "extraction_progress",
        endpoint="allsystems",
        page=3,
        records=25,
        progress_pct=12.5,
        eta_seconds=40,
        errors_total=0,
        snapshot_id=7,
    )
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["event_type"] == "extraction_progress"
    assert line["snapshot_id"] == 7
    assert line["level"] == "INFO"
    assert line["timestamp"].endswith("Z")
    assert (line["endpoint"], line["page"], line["progress_pct"]) == ("allsystems", 3, 12.5)


def test_secrets_are_masked_in_every_line() -> None:
    register_secret("tok-ABCDEF-123456")
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, stream=stream)
    logger = get_logger("t")
    log_event(
        logger, logging.ERROR, "x", "failed with tok-ABCDEF-123456", detail="tok-ABCDEF-123456"
    )
    try:
        raise RuntimeError("bad token tok-ABCDEF-123456")
    except RuntimeError:
        logger.exception("boom")
    out = stream.getvalue()
    assert "tok-ABCDEF-123456" not in out
    assert out.count("<redacted>") >= 3


def test_auto_is_json_off_a_terminal_and_text_renders() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.AUTO, stream=stream)
    log_event(get_logger(), logging.INFO, "snapshot_finished", status="complete")
    assert json.loads(stream.getvalue())["status"] == "complete"
    text = io.StringIO()
    configure_logging(LogFormat.TEXT, stream=text)
    log_event(get_logger(), logging.INFO, "snapshot_finished", "done", status="complete")
    assert "snapshot_finished" in text.getvalue()
    assert "status=complete" in text.getvalue()


def test_configure_twice_keeps_one_handler() -> None:
    configure_logging(LogFormat.JSON, stream=io.StringIO())
    configure_logging(LogFormat.JSON, stream=io.StringIO())
    handlers = [h for h in logging.getLogger("pmp_intel").handlers if h.get_name() == "pmp-intel"]
    assert len(handlers) == 1
