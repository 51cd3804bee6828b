"""Slack notices: throttled to one a minute, folded, disabled on failure, never fatal."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests

from pmp_intel.extract.slack import SlackNotifier
from pmp_intel.logs import configure_logging
from pmp_intel.settings import LogFormat

HOOK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self, status: int = 200, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.status, self.error = status, error

    def __call__(self, url: str, payload: dict[str, Any]) -> int:
        self.calls.append((url, payload))
        if self.error:
            raise self.error
        return self.status


def test_no_webhook_no_calls() -> None:
    post = Recorder()
    notifier = SlackNotifier(None, post=post)
    notifier.notify("started")
    notifier.flush()
    assert post.calls == []
    assert not notifier.enabled


def test_one_message_a_minute_and_folding() -> None:
    clock, post = FakeClock(), Recorder()
    notifier = SlackNotifier(HOOK, post=post, clock=clock)
    notifier.notify("started")
    clock.now = 10
    notifier.notify("25% done")
    notifier.notify("50% done")
    assert len(post.calls) == 1
    clock.now = 61
    notifier.tick()
    assert len(post.calls) == 2
    assert post.calls[1][1]["text"] == "25% done\n50% done"
    clock.now = 70
    notifier.notify("finished")
    notifier.flush()
    assert [c[1]["text"] for c in post.calls][-1] == "finished"


@pytest.mark.parametrize(
    "post",
    [
        Recorder(status=404),
        Recorder(status=500),
        Recorder(error=requests.ConnectionError("no route")),
    ],
)
def test_failing_webhook_disables_with_one_warning(post: Recorder) -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, stream=stream)
    clock = FakeClock()
    notifier = SlackNotifier(HOOK, post=post, clock=clock)
    notifier.notify("started")
    clock.now = 100
    notifier.notify("again")
    notifier.flush()
    assert len(post.calls) == 1
    assert notifier.disabled_reason
    logged = stream.getvalue()
    assert logged.count("slack_disabled") == 1
    assert "XXXXsecretXXXX" not in logged
