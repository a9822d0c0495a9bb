"""Rebuild the kernel tables kmodlint ships (kmodlint/kerneltables/data/), from the real
packages: `python -m kmodlint.kerneltables.build_shipped --download-dir DIR`.

For Debian 12 (bookworm): every linux-headers-6.1.0-N-<arch> and
linux-headers-6.12.N+deb12-<arch> package the configured apt sources still offer (generic
flavour; amd64 and arm64), fetched with `apt-get download` (arm64 through
`-o APT::Architectures::=arm64`, after an `apt-get update` with the same options; nothing is
installed) and imported from the .deb as `kmodlint kernels import` does. A package already
in DIR is not fetched again. Maintainer tool: run where apt is configured for bookworm.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys

from kmodlint.kerneltables.format import SUFFIX, encode
from kmodlint.kerneltables.importing import from_deb
from kmodlint.kerneltables.store import SHIPPED_DIR

DISTRIBUTION = "debian-12"
ARCHES = ("amd64", "arm64")
_PACKAGE = re.compile(r"linux-headers-(6\.1\.0-\d+|6\.12\.\d+\+deb12)-(amd64|arm64)")
_APT = ["-o", "APT::Architectures::=amd64", "-o", "APT::Architectures::=arm64"]


def offered(arch: str) -> list[str]:
    """The generic-flavour headers packages apt offers for `arch`, by ABI."""
    listing = subprocess.run(
        ["apt-cache", *_APT, "search", "--names-only", f"^linux-headers-6.*-{arch}$"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = {line.split(" - ")[0] for line in listing.splitlines()}
    return sorted(n for n in names if (m := _PACKAGE.fullmatch(n)) and m.group(2) == arch)


def download(package: str, arch: str, folder: str) -> str:
    existing = glob.glob(os.path.join(folder, f"{package}_*_{arch}.deb"))
    if not existing:
        subprocess.run(["apt-get", *_APT, "download", f"{package}:{arch}"], check=True, cwd=folder)
        existing = glob.glob(os.path.join(folder, f"{package}_*_{arch}.deb"))
    return sorted(existing)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--download-dir", required=True, help="where the .deb files go")
    parser.add_argument("--output", default=os.path.join(SHIPPED_DIR, DISTRIBUTION + SUFFIX))
    parser.add_argument("--no-update", action="store_true", help="skip apt-get update")
    args = parser.parse_args(argv)
    os.makedirs(args.download_dir, exist_ok=True)
    if not args.no_update:
        subprocess.run(["apt-get", *_APT, "update"], check=True)
    records = []
    for arch in ARCHES:
        for package in offered(arch):
            deb = download(package, arch, args.download_dir)
            record = from_deb(deb)
            print(f"{record.name}: {len(record.rows):,} exports from {record.source}")
            records.append(record)
    data = encode(DISTRIBUTION, records)
    with open(args.output, "wb") as out:
        out.write(data)
    print(f"{args.output}: {len(records)} kernels, {len(data):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
