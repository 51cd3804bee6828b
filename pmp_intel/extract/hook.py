"""``POST_EXTRACTION_HOOK``: a user's command run after a snapshot finishes.

The command runs through the shell with ``PMP_INTEL_SNAPSHOT_ID``, ``PMP_INTEL_SNAPSHOT_STATUS``
and ``PMP_INTEL_DATABASE_URL`` (password masked) in its environment. Its failure is logged,
never fatal; the extractor's own secrets are removed from its environment.
"""

from __future__ import annotations

import logging
import os
import subprocess

from pmp_intel.api.redact import redact
from pmp_intel.logs import get_logger, log_event

#: Variables that hold pmp-intel secrets; the hook does not inherit them.
SECRET_VARIABLES = (
    "PMP_CLIENT_SECRET",
    "PMP_REFRESH_TOKEN",
    "PMP_PASSWORD",
    "PMP_TOKEN",
    "SLACK_WEBHOOK_URL",
)


def run_post_extraction_hook(
    command: str | None,
    *,
    snapshot_id: int,
    status: str,
    database_url: str,
    timeout_s: float = 600.0,
    logger: logging.Logger | None = None,
) -> int | None:
    """Run ``command``; returns its exit code, or None when there is none or it could not
    run. Never raises."""
    if not command:
        return None
    log = logger or get_logger("hook")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    env.update(
        PMP_INTEL_SNAPSHOT_ID=str(snapshot_id),
        PMP_INTEL_SNAPSHOT_STATUS=status,
        PMP_INTEL_DATABASE_URL=database_url,
    )
    try:
        done = subprocess.run(  # the user's own configured command, through the shell
            command,
            shell=True,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log_event(
            log,
            logging.ERROR,
            "post_extraction_hook_failed",
            "hook could not run",
            snapshot_id=snapshot_id,
            error=f"{type(exc).__name__}: {redact(str(exc))}",
        )
        return None
    level = logging.INFO if done.returncode == 0 else logging.ERROR
    log_event(
        log,
        level,
        "post_extraction_hook_finished",
        "post-extraction hook finished",
        snapshot_id=snapshot_id,
        exit_code=done.returncode,
        stderr_tail=redact(done.stderr[-500:]) if done.returncode else None,
    )
    return done.returncode
