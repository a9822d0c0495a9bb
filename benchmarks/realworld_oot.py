#!/usr/bin/env python3
"""Module discovery and false errors of kmodlint on real out-of-tree drivers (DKMS packages).

Ground truth: each package's sources built the way DKMS builds them, with kbuild against
Debian's 6.1 headers; the ``.ko`` files that build writes are the modules, and modpost's
``WARNING:``/``ERROR:`` lines say whether the kernel's own tools saw anything wrong.
kmodlint reads the **pristine** copy of the same sources (no ``.o``/``.ko`` build products):

    kmodlint deps  <pkg>/src --format json --kernel <headers> -q      (the modules it found)
    kmodlint check <pkg>/src --format json --kernel <headers> --fail-on never

and this script prints, per package and in total: modules kbuild built, built modules kmodlint
found, phantom modules (found, never built), errors (each listed), and modpost's lines.
Targets (issue 10, deliverable 6): found >= 95 % of built, phantoms <= 5 %, 0 errors where
modpost warned about nothing.

Getting the packages (``--fetch``, or by hand)::

    apt-get download <pkg>-dkms ...                 # Debian bookworm, main
    dpkg-deb -x <pkg>-dkms_*.deb <root>/<pkg>-dkms/deb
    python3 benchmarks/realworld_oot.py --root <root> --build

``--build`` copies ``deb/usr/src/<name>-<version>`` to ``<pkg>/src`` (kept pristine) and to a
DKMS-shaped ``<pkg>/dkms/<PACKAGE_NAME>/<PACKAGE_VERSION>/build``, then runs what ``dkms build``
runs there: ``dkms.conf`` is sourced by bash with ``kernelver``, ``kernel_source_dir``,
``dkms_tree`` ... set, then its ``PRE_BUILD`` and ``MAKE[0]`` (default ``make -C
$kernel_source_dir M=$PWD``). The log goes to ``<pkg>/build.log`` and the result (``.ko`` list,
modpost lines) to ``<pkg>/truth.json``. A package whose build writes no ``.ko`` is reported and
left out of the totals. Needs the headers (``linux-headers-6.1.0-56-amd64``) and gcc-12.

Measured (25 packages that build against 6.1.0-56, 102 modules, modpost silent on all; the
other 5 of PACKAGES fail to build there and are left out):

    ======================  =====  =======  ======
    kmodlint                found  phantom  errors
    ======================  =====  =======  ======
    9485ba1, default            38      216     705
    9485ba1, --config none      77      196     452
    now, default               100        0       0
    now, --config none         100        1       0
    now, /proc/config.gz        99        0       0
    ======================  =====  =======  ======

(default: 9485ba1 took the host's /proc/config.gz; now the --kernel tree's .config.) The two
modules never found are openafs's, whose Makefiles its configure script writes.

Example::

    python3 benchmarks/realworld_oot.py --root /tmp/oot --fetch --build
    python3 benchmarks/realworld_oot.py --root /tmp/oot --json /tmp/oot.json
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
KERNELVER = "6.1.0-56-amd64"
HEADERS = f"/usr/src/linux-headers-{KERNELVER}"

# Debian bookworm (main) DKMS source packages measured in issue 10's closing note.
PACKAGES = [
    "acpi-call-dkms",
    "adv-17v35x-dkms",
    "apfs-dkms",
    "bbswitch-dkms",
    "dahdi-dkms",
    "ddcci-dkms",
    "digimend-dkms",
    "dm-writeboost-dkms",
    "dpdk-kmods-dkms",
    "evdi-dkms",
    "falcosecurity-scap-dkms",
    "gost-crypto-dkms",
    "iptables-netflow-dkms",
    "jool-dkms",
    "langford-dkms",
    "librem-ec-acpi-dkms",
    "lime-forensics-dkms",
    "lttng-modules-dkms",
    "nat-rtsp-dkms",
    "openafs-modules-dkms",
    "openrazer-driver-dkms",
    "openvpn-dco-dkms",
    "rapiddisk-dkms",
    "rtpengine-kernel-dkms",
    "tp-smapi-dkms",
    "v4l2loopback-dkms",
    "vpoll-dkms",
    "west-chamber-dkms",
    "xtables-addons-dkms",
    "xtrx-dkms",
]

_DKMS_IDENT = '. ./dkms.conf >/dev/null 2>&1; echo "$PACKAGE_NAME"; echo "$PACKAGE_VERSION"'
# dkms.conf is a bash fragment: source it with dkms's variables set, then run its build.
_DKMS_SHELL = r"""
set +e
export kernelver="$1" kernel_source_dir="$2" dkms_tree="$3" source_tree="$4"
export arch=x86_64
cd "$5"
. ./dkms.conf
echo "### PRE_BUILD: $PRE_BUILD"
if [ -n "$PRE_BUILD" ]; then eval "$PRE_BUILD"; fi
cmd="${MAKE[0]:-$MAKE}"
if [ -z "$cmd" ]; then cmd="make -C $kernel_source_dir M=$PWD"; fi
echo "### MAKE: $cmd"
eval "$cmd"
echo "### exit $?"
"""


@dataclass
class Package:
    name: str
    src: str
    built: list[str] = field(default_factory=list)  # module names kbuild wrote (.ko)
    modpost: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failure: str = ""


def norm(name: str) -> str:
    # kbuild's KBUILD_MODNAME: '-' becomes '_' (the .ko file keeps the dash)
    return name.replace("-", "_")


def fetch(root: Path, names: list[str]) -> None:
    debs = root / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [n for n in names if not (root / n / "deb").is_dir()]
    if not missing:
        return
    subprocess.run(["apt-get", "download", *missing], cwd=debs, check=False)
    for name in missing:
        hits = sorted(debs.glob(f"{name}_*.deb"))
        if hits:
            (root / name / "deb").mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(hits[-1]), str(root / name / "deb")], check=True)


def source_dir(pkg_root: Path) -> Path | None:
    hits = [Path(p) for p in glob.glob(str(pkg_root / "deb" / "usr" / "src" / "*" / "dkms.conf"))]
    return hits[0].parent if hits else None


def build(pkg_root: Path, headers: str, kernelver: str) -> None:
    origin = source_dir(pkg_root)
    if origin is None:
        return
    src = pkg_root / "src"
    if not src.is_dir():
        shutil.copytree(origin, src, symlinks=True)
    ident = subprocess.run(
        [
            "bash",
            "-c",
            '. ./dkms.conf >/dev/null 2>&1; echo "$PACKAGE_NAME"; echo "$PACKAGE_VERSION"',
        ],
        cwd=origin,
        capture_output=True,
        text=True,
        env={**os.environ, "kernelver": kernelver},
    ).stdout.split("\n")
    tree = pkg_root / "dkms"
    shutil.rmtree(tree, ignore_errors=True)
    build_dir = tree / ident[0] / ident[1] / "build"
    shutil.copytree(origin, build_dir, symlinks=True)
    log_path = pkg_root / "build.log"
    with open(log_path, "w") as log:
        # $1..$5 of _DKMS_SHELL: kernelver, kernel_source_dir, dkms_tree, source_tree, build
        where = [kernelver, headers, str(tree), str(origin.parent), str(build_dir)]
        subprocess.run(
            ["bash", "-c", _DKMS_SHELL, "dkms", *where],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=build_dir,
            timeout=3600,
            check=False,
        )
    text = log_path.read_text(errors="replace")
    kos = sorted({Path(p).name[:-3] for p in glob.glob(str(tree / "**" / "*.ko"), recursive=True)})
    modpost = [
        line.strip() for line in text.splitlines() if re.search(r"(WARNING|ERROR): modpost", line)
    ]
    (pkg_root / "truth.json").write_text(json.dumps({"ko": kos, "modpost": modpost}, indent=1))


def kmodlint(args: list[str], cache: str, repo: str) -> tuple[dict[str, Any] | None, str]:
    # cwd = the checkout to measure: ``python -m kmodlint`` imports it from there
    env = {**os.environ, "KMODLINT_CACHE_DIR": cache}
    done = subprocess.run(
        [sys.executable, "-m", "kmodlint", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo,
        check=False,
    )
    try:
        return json.loads(done.stdout), done.stderr
    except json.JSONDecodeError:
        return None, done.stderr + done.stdout[:2000]


def measure(pkg: Package, headers: str, extra: list[str], cache: str, repo: str) -> None:
    common = ["--format", "json", "--kernel", headers, *extra]
    deps, err = kmodlint(["deps", pkg.src, *common], cache, repo)
    if deps is None and "no module found" in err:
        # kmodlint says it found no module (exit 2): nothing found, no error to list
        pkg.notes = [ln for ln in err.splitlines() if ln.startswith("kmodlint: ")]
        return
    if deps is None:
        pkg.failure = "deps failed: " + err.strip()[-300:]
        return
    pkg.found = sorted(deps.get("load_order", []))
    check, err = kmodlint(["check", pkg.src, *common, "--fail-on", "never"], cache, repo)
    if check is None:
        pkg.failure = "check failed: " + err.strip()[-300:]
        return
    pkg.notes = [ln[len("kmodlint: ") :] for ln in err.splitlines() if ln.startswith("kmodlint: ")]
    for f in check.get("findings", []):
        if f.get("severity") == "error":
            where = os.path.relpath(f["path"], pkg.src) if f.get("path") else "?"
            pkg.errors.append(f"{where}:{f.get('line')}: {f['code']} {f['message']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join(tempfile.gettempdir(), "kmodlint-oot"))
    parser.add_argument("--packages", nargs="*", default=None, help="default: every one in --root")
    parser.add_argument("--fetch", action="store_true", help="apt-get download what is missing")
    parser.add_argument("--build", action="store_true", help="build packages with no truth.json")
    parser.add_argument("--rebuild", action="store_true", help="build every package again")
    parser.add_argument("--headers", default=HEADERS)
    parser.add_argument("--kernelver", default=KERNELVER)
    parser.add_argument(
        "--repo", default=str(REPO), help="kmodlint checkout to run (e.g. an older commit's)"
    )
    parser.add_argument("--json", help="write the per-package results here")
    parser.add_argument("--quiet-errors", action="store_true", help="do not list the errors")
    parser.add_argument(
        "kmodlint_args", nargs="*", help="after --: extra kmodlint options (e.g. --config none)"
    )
    args = parser.parse_args()
    root = Path(args.root)
    names = args.packages or (
        PACKAGES if args.fetch else sorted(p.name for p in root.iterdir() if (p / "deb").is_dir())
    )
    if args.fetch:
        fetch(root, list(names))
    for name in names:
        pkg_root = root / name
        if (args.build and not (pkg_root / "truth.json").exists()) or args.rebuild:
            print(f"building {name} ...", file=sys.stderr, flush=True)
            build(pkg_root, args.headers, args.kernelver)
    packages: list[Package] = []
    with tempfile.TemporaryDirectory(prefix="kmodlint-oot-cache-") as cache:
        for name in names:
            pkg_root = root / name
            truth_path = pkg_root / "truth.json"
            if not truth_path.exists() or not (pkg_root / "src").is_dir():
                print(f"{name}: not built (run with --build)", file=sys.stderr)
                continue
            truth = json.loads(truth_path.read_text())
            pkg = Package(name, str(pkg_root / "src"), truth["ko"], truth["modpost"])
            if not pkg.built:
                print(
                    f"{name}: the build wrote no .ko (see {pkg_root / 'build.log'}); left out",
                    file=sys.stderr,
                )
                continue
            measure(pkg, args.headers, args.kmodlint_args, cache, args.repo)
            packages.append(pkg)
    report(packages, not args.quiet_errors)
    if args.json:
        Path(args.json).write_text(json.dumps([p.__dict__ for p in packages], indent=1))
    return 0


def report(packages: list[Package], list_errors: bool) -> None:
    header = f"{'package':28} {'built':>5} {'found':>5} {'phantom':>7} {'errors':>6} {'modpost':>7}"
    print(header)
    print("-" * len(header))
    total_built = total_found = total_phantom = total_errors = clean_errors = 0
    for pkg in packages:
        built = {norm(n) for n in pkg.built}
        found = [norm(n) for n in pkg.found]
        hit = len(built & set(found))
        phantom = [n for n in found if n not in built]
        total_built += len(built)
        total_found += hit
        total_phantom += len(phantom)
        total_errors += len(pkg.errors)
        if not pkg.modpost:
            clean_errors += len(pkg.errors)
        flag = f"  FAILED: {pkg.failure}" if pkg.failure else ""
        print(
            f"{pkg.name:28} {len(built):5} {hit:5} {len(phantom):7} {len(pkg.errors):6} "
            f"{len(pkg.modpost):7}{flag}"
        )
        missed = sorted(built - set(found))
        if missed:
            print(f"    missed:  {' '.join(missed)}")
        if phantom:
            print(f"    phantom: {' '.join(phantom[:20])}{' ...' if len(phantom) > 20 else ''}")
    print("-" * len(header))
    print(f"{'total':28} {total_built:5} {total_found:5} {total_phantom:7} {total_errors:6}")
    if total_built:
        print(
            f"found {total_found}/{total_built} = {100 * total_found / total_built:.1f}% of the "
            f"built modules; phantoms {total_phantom} = {100 * total_phantom / total_built:.1f}% "
            f"of built; errors {total_errors} ({clean_errors} in packages modpost found clean)"
        )
    if list_errors:
        for pkg in packages:
            for line in pkg.modpost:
                print(f"{pkg.name}: modpost: {line}")
            for line in pkg.errors:
                print(f"{pkg.name}: {line}")


if __name__ == "__main__":
    sys.exit(main())
