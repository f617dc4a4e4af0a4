"""The host's compliance policy, set once and enforced by every entry point (label_file, LiveSession,
the CLI) before any work is done.

Defaults follow the labeling rules (section 5): the audit record names whom the content was made for
(a reference from the host's real-name verification), and an edit of a real person's face or voice
carries that person's separate consent reference. A host sets its policy in code::

    sm.set_policy(sm.Policy(require_user_ref=True, require_consent_for={"face", "voice", "body"}))

or, for the command line and code that never calls ``set_policy``, in the environment:
``SYNTHMARK_REQUIRE_USER_REF=0`` (record ``UNATTRIBUTED`` with a warning instead of refusing) and
``SYNTHMARK_REQUIRE_CONSENT_FOR=face,voice`` (comma-separated; empty for none).
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass, field

from .errors import InvalidArgumentError, InvalidTypeError

#: the user_ref recorded when no reference was given and the policy allows it (never a real user id)
UNATTRIBUTED = "synthmark:unattributed"
DEFAULT_CONSENT_FOR = frozenset({"face", "voice"})


class UnattributedWarning(UserWarning):
    """An audit record was written without a user reference (the policy allowed it)."""


def _edit_set(value, name: str) -> frozenset:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    try:
        items = list(value)
    except TypeError:
        raise InvalidTypeError(f"{name}: expected a set of str such as {{'face', 'voice'}}, got {type(value).__name__}") from None
    out = set()
    for v in items:
        if not isinstance(v, str):
            raise InvalidTypeError(f"{name}: expected str items, got {type(v).__name__}")
        v = v.strip().lower()
        if not v:
            raise InvalidArgumentError(f"{name}: empty item")
        out.add(v)
    return frozenset(out)


@dataclass(frozen=True)
class Policy:
    """``require_user_ref``: refuse to write an audit record without ``user_ref`` (else record
    UNATTRIBUTED and warn). ``require_consent_for``: edits (e.g. "face", "voice") that need a
    ``consent_ref``; such a job without one is refused."""

    require_user_ref: bool = True
    require_consent_for: frozenset = field(default=DEFAULT_CONSENT_FOR)

    def __post_init__(self):
        if not isinstance(self.require_user_ref, bool):
            raise InvalidTypeError(f"require_user_ref: expected bool, got {type(self.require_user_ref).__name__}")
        object.__setattr__(self, "require_consent_for", _edit_set(self.require_consent_for, "require_consent_for"))

    @classmethod
    def from_env(cls) -> "Policy":
        """The policy the environment sets (SYNTHMARK_REQUIRE_USER_REF, SYNTHMARK_REQUIRE_CONSENT_FOR),
        the defaults where unset."""
        flag = os.environ.get("SYNTHMARK_REQUIRE_USER_REF")
        require = True
        if flag is not None:
            if flag.strip().lower() not in ("0", "1", "true", "false", "yes", "no"):
                raise InvalidArgumentError(f"SYNTHMARK_REQUIRE_USER_REF: expected 0 or 1, got {flag!r}")
            require = flag.strip().lower() in ("1", "true", "yes")
        consent = os.environ.get("SYNTHMARK_REQUIRE_CONSENT_FOR")
        kinds = DEFAULT_CONSENT_FOR if consent is None else [k for k in consent.split(",") if k.strip()]
        return cls(require_user_ref=require, require_consent_for=kinds)

    def check_job(self, *, user_ref, edits, consent_ref, recorded: bool, notes: list | None = None):
        """Apply the policy to one job before any work; returns (user_ref to record, edits as a sorted
        list). ``recorded``: an audit record will be written (a store or a registered sink)."""
        edit_set = _edit_set(edits, "edits")
        if consent_ref is not None and (not isinstance(consent_ref, str) or not consent_ref.strip()):
            raise InvalidArgumentError("consent_ref: expected a non-empty str (the person's consent reference) or None")
        needs = sorted(edit_set & self.require_consent_for)
        if needs and consent_ref is None:
            raise InvalidArgumentError(
                f"consent_ref: required: the job edits {', '.join(needs)} of a real person, which needs that person's "
                "separate consent (labeling rules, section 5); pass consent_ref= (--consent-ref)")
        if user_ref is not None:
            if not isinstance(user_ref, str):
                raise InvalidTypeError(f"user_ref: expected str or None, got {type(user_ref).__name__}")
            if not user_ref.strip():
                raise InvalidArgumentError("user_ref: must not be empty")
        elif recorded:
            if self.require_user_ref:
                raise InvalidArgumentError(
                    "user_ref: required: the audit record must name whom the content was generated for (a reference "
                    "from the host's real-name verification; labeling rules, section 5); pass user_ref= (--user-ref), "
                    "or let the host allow unattributed records (Policy(require_user_ref=False), "
                    "SYNTHMARK_REQUIRE_USER_REF=0)")
            user_ref = UNATTRIBUTED
            msg = f"no user_ref: the audit record names {UNATTRIBUTED!r} as the user (the policy allows it)"
            warnings.warn(msg, UnattributedWarning, stacklevel=3)
            if notes is not None:
                notes.append(msg)
        return user_ref, sorted(edit_set)


_lock = threading.Lock()
_policy: Policy | None = None


def set_policy(policy: Policy | None) -> Policy | None:
    """Set the process-wide policy (None: back to the environment's); returns the previous one."""
    global _policy
    if policy is not None and not isinstance(policy, Policy):
        raise InvalidTypeError(f"policy: expected synthmark.Policy or None, got {type(policy).__name__}")
    with _lock:
        old, _policy = _policy, policy
    return old


def get_policy() -> Policy:
    """The policy in force: the one set with set_policy, else the environment's (Policy.from_env)."""
    p = _policy
    return p if p is not None else Policy.from_env()
