"""`make lint`'s security checks: bandit findings against a reviewed list, pip-audit against the lock.

bandit: every finding must be covered by an entry of lint/bandit-reviewed.toml (check id, file, how many,
why it is safe); an uncovered finding fails, and so does an entry that allows more than bandit finds, so
the list shrinks as code is fixed. An entry with file "*" covers every file except those in GUARDED.

audit: pip-audit checks requirements/dev.lock (a superset of base.lock) against the PyPI vulnerability
data; advisories listed in lint/audit-ignore.toml with a reason are accepted. pip-audit needs PyPI's
per-release JSON API: where that is unreachable (some build machines reach only the package index),
the check says so loudly and passes, unless ONWARD_REQUIRE_AUDIT=1 makes it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCK = ROOT / "requirements" / "dev.lock"


#: Where no finding is waived by a wildcard entry: the code that decides access, audit and disclosure.
GUARDED = ("src/onward/security/", "src/onward/services/", "src/onward/web/deps.py")


def _allowance(reviewed: list[dict[str, object]], test: str, file: str) -> int | None:
    """How many `test` findings `file` may have (None: any number), from the reviewed list."""
    exact = [e for e in reviewed if e["test"] == test and e["file"] == file]
    if exact:
        return int(str(exact[0]["count"]))
    wildcard = [e for e in reviewed if e["test"] == test and e["file"] == "*"]
    return None if wildcard and not file.startswith(GUARDED) else 0


def bandit() -> int:
    run = subprocess.run(
        [str(BIN / "bandit"), "-r", "src", "-f", "json", "-q"], cwd=ROOT, capture_output=True, text=True
    )
    results = json.loads(run.stdout)["results"]
    found = Counter((r["test_id"], Path(r["filename"]).as_posix()) for r in results)
    reviewed = tomllib.loads((ROOT / "lint" / "bandit-reviewed.toml").read_text(encoding="utf-8"))["finding"]
    problems = [
        f"lint/bandit-reviewed.toml: entry {e['test']} {e['file']} has no reason"
        for e in reviewed
        if not e.get("reason")
    ]
    for (test, file), count in sorted(found.items()):
        allowed = _allowance(reviewed, test, file)
        if allowed is not None and count > allowed:
            where = [
                f"{file}:{r['line_number']}" for r in results if (r["test_id"], r["filename"]) == (test, file)
            ]
            problems.append(
                f"bandit {test} in {file}: {count} found, {allowed} reviewed ({', '.join(where)}): "
                "fix it, or add/raise an entry with its reason in lint/bandit-reviewed.toml"
            )
    for entry in reviewed:
        key = (str(entry["test"]), str(entry["file"]))
        if key[1] != "*" and int(str(entry["count"])) > found[key]:
            problems.append(
                f"lint/bandit-reviewed.toml allows {entry['count']} x {key[0]} in {key[1]} but bandit finds "
                f"{found[key]}: lower the count (or remove the entry)"
            )
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"bandit: {sum(found.values())} findings, all reviewed" if not problems else "bandit: FAILED")
    return 1 if problems else 0


def _vulnerability_api_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/pypi/pip/24.0/json", timeout=10) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, TimeoutError, OSError):
        return False


def audit() -> int:
    if not _vulnerability_api_reachable():
        message = (
            "pip-audit: SKIPPED - PyPI's vulnerability API (https://pypi.org/pypi/<name>/<version>/json) "
            "is not reachable from this machine, so the lock could not be audited. Run `make lint` where "
            "it is reachable; ONWARD_REQUIRE_AUDIT=1 turns this into a failure."
        )
        print(message, file=sys.stderr)
        return 1 if os.environ.get("ONWARD_REQUIRE_AUDIT") == "1" else 0
    ignores = tomllib.loads((ROOT / "lint" / "audit-ignore.toml").read_text(encoding="utf-8")).get(
        "ignore", []
    )
    args = [str(BIN / "pip-audit"), "--strict", "--disable-pip", "--require-hashes", "-r", str(LOCK)]
    args += ["--progress-spinner", "off"]
    for entry in ignores:
        if not entry.get("reason"):
            print(f"lint/audit-ignore.toml: {entry.get('id')} has no reason", file=sys.stderr)
            return 1
        args += ["--ignore-vuln", entry["id"]]
    return subprocess.run(args, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    checks = {"bandit": bandit, "audit": audit}
    if len(argv) != 1 or argv[0] not in checks:
        print("usage: python scripts/security_lint.py bandit|audit", file=sys.stderr)
        return 2
    return checks[argv[0]]()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
