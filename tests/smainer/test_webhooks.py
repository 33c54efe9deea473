"""The callback signature scheme: what integrators check (``smainer.webhooks``).

The scheme is also checked against OpenSSL's HMAC, computed apart from Python, as a receiver in
another language would compute it (docs/notify.md describes it in words).
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smainer.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    new_secret,
    sign,
    signed_headers,
    verify,
    verify_headers,
)

BODY = b'{"event":"task.completed","task_id":7}'


def test_a_signed_body_verifies_and_a_tampered_one_does_not():
    secret = new_secret()
    headers = signed_headers(secret, BODY)
    assert verify_headers(secret, headers, BODY)
    assert not verify_headers(secret, headers, BODY.replace(b"7", b"8"))
    assert not verify_headers(secret, headers, BODY + b" ")
    assert not verify_headers(new_secret(), headers, BODY)


def test_stale_and_future_timestamps_are_refused():
    secret = new_secret()
    now = time.time()
    stamp = int(now) - 301
    signature = f"v1={sign(secret, stamp, BODY)}"
    assert not verify(secret, signature, stamp, BODY, now=now)
    assert verify(secret, signature, stamp, BODY, now=now, tolerance=400)
    future = int(now) + 301
    assert not verify(secret, f"v1={sign(secret, future, BODY)}", future, BODY, now=now)
    # A fresh signature moved to another timestamp (a replay with a new stamp) fails.
    old = int(now) - 3600
    assert not verify(secret, f"v1={sign(secret, old, BODY)}", int(now), BODY, now=now)


def test_headers_are_found_in_any_case_and_missing_ones_fail():
    secret = new_secret()
    headers = {k.lower(): v for k, v in signed_headers(secret, BODY).items()}
    assert verify_headers(secret, headers, BODY)
    assert not verify_headers(secret, {SIGNATURE_HEADER: headers["smainer-signature"]}, BODY)
    assert not verify_headers(secret, {TIMESTAMP_HEADER: headers["smainer-timestamp"]}, BODY)


def test_any_of_several_signatures_may_match_and_other_schemes_are_ignored():
    old, new = new_secret(), new_secret()
    stamp = int(time.time())
    both = f"v1={sign(old, stamp, BODY)}, v1={sign(new, stamp, BODY)}"
    assert verify(old, both, stamp, BODY)
    assert verify(new, both, stamp, BODY)
    assert not verify(new, f"v0={sign(new, stamp, BODY)}", stamp, BODY)


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [("", "1"), ("v1=", "x"), ("garbage", ""), ("v1=zz", " "), ("=,=,", "1e3")],
)
def test_malformed_input_is_false_not_an_error(signature: str, timestamp: str):
    assert not verify(new_secret(), signature, timestamp, BODY)


@given(body=st.binary(max_size=512), flip=st.integers(min_value=0, max_value=4095))
def test_changing_any_bit_of_the_body_breaks_the_signature(body: bytes, flip: int):
    secret = "s" * 64
    headers = signed_headers(secret, body)
    assert verify_headers(secret, headers, body)
    if body:
        changed = bytearray(body)
        changed[(flip // 8) % len(body)] ^= 1 << (flip % 8)
        assert not verify_headers(secret, headers, bytes(changed))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_signature_is_plain_hmac_sha256_of_timestamp_dot_body():
    secret, stamp = new_secret(), int(time.time())
    answer = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", secret, "-r"],
        input=f"{stamp}.".encode() + BODY,
        capture_output=True,
        check=True,
    )
    assert answer.stdout.split()[0].decode() == sign(secret, stamp, BODY)
    assert signed_headers(secret, BODY, timestamp=stamp)[SIGNATURE_HEADER] == (
        "v1=" + answer.stdout.split()[0].decode()
    )
