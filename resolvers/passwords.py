"""Password hashing with Argon2id, a memory-hard algorithm."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's RFC 9106 "low memory" profile: 64 MiB and 3 passes per hash.
_hasher = PasswordHasher()

# A valid hash of a random string, verified when an email is unknown so that
# sign-in takes as long for a missing account as for a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0c9f4e1d")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against a stored hash, in constant time for a missing one."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
