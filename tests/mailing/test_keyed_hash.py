"""mailing.keyed_hash: the same MAC as the stdlib's HMAC, for every key length."""

import hmac

import pytest

from mailing.keyed_hash import KeyedSha256


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 200])
def test_the_same_bytes_as_hmac(length):
    key = bytes(range(256))[:length] if length <= 256 else b""
    keyed = KeyedSha256(key)
    for message in (b"", b"1234", b"x" * 1000, "Ж".encode()):
        assert keyed.digest(message) == hmac.digest(key, message, "sha256")


def test_one_key_many_messages_stay_independent():
    keyed = KeyedSha256(b"k")
    first = keyed.digest(b"a")
    keyed.digest(b"b" * 100)
    assert keyed.digest(b"a") == first
