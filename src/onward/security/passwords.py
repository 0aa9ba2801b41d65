"""Password hashing (Argon2id) and the minimum password policy.

Hashing follows OWASP ASVS L2 ("salted slow password hashing") with the Argon2id parameters of
RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes), which argon2-cffi ships as
`profiles.RFC_9106_LOW_MEMORY`; `needs_rehash` lets a login upgrade old hashes silently.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from onward.errors import ValidationError

#: OWASP ASVS 4.0.3 V2.1.1: user-set passwords are at least 12 characters. Applied to staff accounts.
STAFF_MIN_LENGTH = 12
#: NIST SP 800-63B section 5.1.1.2: memorized secrets at least 8 characters. Applied to people in services.
PERSON_MIN_LENGTH = 8
#: NIST SP 800-63B section 5.1.1.2: verifiers should permit at least 64 characters; we allow more.
MAX_LENGTH = 256

#: NIST SP 800-63B section 5.1.1.2 asks verifiers to refuse commonly used passwords. This short list
#: holds the most common ones long enough to pass the length rule; it is not a breach corpus.
_COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "password1234",
        "password12345",
        "passwordpassword",
        "qwertyuiopas",
        "qwerty123456",
        "111111111111",
        "iloveyou1234",
        "administrator",
        "changemechangeme",
        "letmeinletmein",
        "welcome12345",
        "abcdefghijkl",
        "abc123abc123",
    }
)

_HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def _normalise(password: str) -> str:
    # NIST SP 800-63B 5.1.1.2: apply Unicode NFKC normalisation before hashing.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An Argon2id hash (PHC string, salt included) of `password`."""
    return _HASHER.hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches `password_hash`; a malformed hash is a mismatch, never a crash."""
    try:
        return _HASHER.verify(password_hash, _normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's and should be replaced at login."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_password_policy(password: str, *, username: str, staff: bool) -> None:
    """Refuse a password that breaks the policy, saying which rule; no composition rules (NIST 800-63B)."""
    minimum = STAFF_MIN_LENGTH if staff else PERSON_MIN_LENGTH
    normalised = _normalise(password)
    if len(normalised) < minimum:
        raise ValidationError(
            f"password is {len(normalised)} characters long",
            column="password",
            expected=f"at least {minimum} characters",
        )
    if len(normalised) > MAX_LENGTH:
        raise ValidationError(
            "password is too long", column="password", expected=f"at most {MAX_LENGTH} characters"
        )
    folded = normalised.casefold()
    if len(set(folded)) < 3:
        raise ValidationError("password repeats one or two characters", column="password")
    if username and username.casefold() in folded:
        raise ValidationError("password contains the username", column="password")
    if folded in _COMMON:
        raise ValidationError("password is on the list of commonly used passwords", column="password")
