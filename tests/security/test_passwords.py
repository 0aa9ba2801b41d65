"""Argon2id hashing and the minimum password policy (OWASP ASVS V2.1, NIST SP 800-63B)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from onward.errors import ValidationError
from onward.security.passwords import (
    PERSON_MIN_LENGTH,
    STAFF_MIN_LENGTH,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_hash_is_salted_argon2id_and_verifies() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")


def test_unicode_is_normalised_before_hashing() -> None:
    # "é" as one code point and as e + combining accent are the same password (NIST 800-63B, NFKC).
    stored = hash_password("caf\u00e9 au lait please")
    assert verify_password(stored, "cafe\u0301 au lait please")


def test_a_malformed_hash_is_a_mismatch_and_needs_rehash() -> None:
    assert not verify_password("not a hash", "anything at all")
    assert needs_rehash("not a hash")


def test_weaker_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse battery")
    assert verify_password(weak, "correct horse battery")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("correct horse battery"))


@pytest.mark.parametrize(
    ("password", "staff", "message"),
    [
        ("x" * (STAFF_MIN_LENGTH - 1), True, "at least 12"),
        ("abcdefg", False, "at least 8"),
        ("aaaaaaaaaaaaaa", True, "repeats"),
        ("my-name-is-jlee!", True, "username"),
        ("Password12345", True, "commonly used"),
        ("y" * 300, True, "too long"),
    ],
)
def test_policy_refusals_say_why(password: str, staff: bool, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_password_policy(password, username="jlee", staff=staff)


def test_policy_accepts_long_passphrases_without_composition_rules() -> None:
    check_password_policy("plain lowercase passphrase", username="jlee", staff=True)
    check_password_policy("a" + "b" * (PERSON_MIN_LENGTH - 2) + "c", username="ana", staff=False)
