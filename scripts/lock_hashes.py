"""Add to requirements.lock the SHA-256 of every file PyPI publishes for each pinned release.

pip then installs with ``--require-hashes``: a file that differs from the one published (a
compromised mirror, a corrupted download) is refused instead of installed. Every file of a
release is listed (each platform's wheel and the sdist), so the lock installs on any platform
pip supports. Run it after changing a pin: ``python scripts/lock_hashes.py`` (needs PyPI).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.version import InvalidVersion, Version

LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\],]+)==([^\s\\;]+)")


def pins(text):
    """[(name, version)] of the lock, in its order; hash lines and comments are skipped."""
    return [match.groups() for match in map(PIN.match, text.splitlines()) if match]


def release_hashes(name, version):
    url = f"https://pypi.org/pypi/{name.split('[')[0]}/json"  # the project's page lists every release's files
    with urllib.request.urlopen(url, timeout=60) as response:
        releases = json.load(response)["releases"]
    files = [f for key, found in releases.items() if _same(key, version) for f in found]
    if not files:
        raise SystemExit(f"error: PyPI publishes no file for {name}=={version}")
    return sorted({f["digests"]["sha256"] for f in files})


def _same(release, version):
    """PEP 440 equality: the lock's 13.0.3.0 is PyPI's release 13.0.3."""
    try:
        return Version(release) == Version(version)
    except InvalidVersion:  # an old release named outside PEP 440
        return release == version


def main():
    locked = pins(LOCK.read_text())
    with ThreadPoolExecutor(8) as pool:
        hashes = list(pool.map(lambda pin: release_hashes(*pin), locked))
    lines = []
    for (name, version), digests in zip(locked, hashes):
        lines.append(f"{name}=={version} \\")
        lines += [
            f"    --hash=sha256:{digest}" + (" \\" if i < len(digests) - 1 else "") for i, digest in enumerate(digests)
        ]
    LOCK.write_text("\n".join(lines) + "\n")
    print(f"{LOCK.name}: {len(locked)} pins, {sum(map(len, hashes))} hashes", file=sys.stderr)


if __name__ == "__main__":
    main()
