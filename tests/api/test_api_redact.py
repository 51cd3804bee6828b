"""Redaction of samples, log lines and messages."""

from __future__ import annotations

from pmp_intel.api import redact


def test_masks_emails_and_ip_addresses() -> None:
    text = "user alice.smith@corp.example.com at 10.1.2.3 and fe80::1ff:fe23:4567:890a / ::1"
    out = redact.redact(text)
    assert "alice" not in out
    assert "10.1.2.3" not in out
    assert "fe80::1ff:fe23:4567:890a" not in out
    assert out.count(redact.EMAIL_MASK) == 1
    assert redact.IPV4_MASK in out
    assert redact.IPV6_MASK in out


def test_keeps_versions_and_times_that_look_numeric() -> None:
    text = '{"sqnumber":"117.0.5938.132","time":"12:30:45","id":95000011194313}'
    out = redact.redact(text)
    assert "117.0.5938.132" in out  # four dotted groups but the first is not an octet
    assert "12:30:45" in out
    assert "95000011194313" in out


def test_masks_secret_keys_and_authorization_headers() -> None:
    text = (
        '{"access_token":"1000.abc.def","refresh_token": "1000.xyz","error_code":"10001"} '
        "Authorization: Zoho-oauthtoken 1000.qqq password=hunter22&x=1"
    )
    out = redact.redact(text)
    for secret in ("1000.abc.def", "1000.xyz", "1000.qqq", "hunter22"):
        assert secret not in out
    assert '"error_code":"10001"' in out  # "code" inside error_code is not a secret key


def test_registered_and_passed_secrets_are_masked() -> None:
    redact.register_secret("S3cretValue!")
    out = redact.redact("got S3cretValue! and other-secret", secrets=["other-secret"])
    assert "S3cretValue!" not in out
    assert "other-secret" not in out
    redact.register_secret("ab")  # too short to mask without damaging text
    assert "ab" in redact.redact("abc")


def test_sample_is_redacted_and_at_most_1kb() -> None:
    body = ("x" * 2000 + " bob@example.org").encode()
    assert len(redact.sample(body).encode()) <= 1024
    tail = redact.sample(b"see bob@example.org from 192.168.0.7")
    assert "bob@" not in tail
    assert "192.168" not in tail
    assert redact.sample(None) == ""
    multibyte = redact.sample("é" * 1000)
    assert len(multibyte.encode()) <= 1024
    assert multibyte.startswith("é")
