"""Which glibc a Lambda zip's compiled extensions need, against what its runtime has.

An extension module built against a newer glibc than the runtime's dies at import, on every cold start: pip on
this machine (Debian 12, glibc 2.36) picks `cryptography`'s `manylinux_2_34` wheel, which Amazon Linux 2
(`python3.11`, glibc 2.26) cannot load. Each shared object's dynamic symbol table names the `GLIBC_x.y` versions
it needs (what `objdump -T` prints); read with pyelftools.

    python -m devstack.glibc build/release/lambda-app-SHA.zip --runtime python3.12
"""

import argparse
import io
import re
import sys
import zipfile
from pathlib import Path

# Each Lambda Python runtime's operating system and its glibc (AWS's runtime table:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
RUNTIME_GLIBC = {
    "python3.11": (2, 26),  # Amazon Linux 2
    "python3.12": (2, 34),  # Amazon Linux 2023
    "python3.13": (2, 34),
}
GLIBC = re.compile(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?")


def needed(data: bytes) -> tuple[int, ...] | None:
    """The highest GLIBC_x.y version a shared object needs, or None if it needs none (or is no ELF file)."""
    # Imported here: the release script also runs in the packaging environment, which ships to Lambda.
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    try:
        elf = ELFFile(io.BytesIO(data))
    except Exception:
        return None
    highest = None
    for section in elf.iter_sections():
        if not isinstance(section, GNUVerNeedSection):
            continue
        for _, auxiliaries in section.iter_versions():
            for auxiliary in auxiliaries:
                match = GLIBC.fullmatch(auxiliary.name)
                if match:
                    version = tuple(int(part) for part in match.groups() if part is not None)
                    highest = max(highest or version, version)
    return highest


def requirements(zip_path: Path) -> dict[str, tuple[int, ...]]:
    """Every shared object in the zip that needs glibc, with the highest version it needs."""
    found = {}
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            if re.search(r"\.so(\.\d+)*$", name):
                version = needed(archive.read(name))
                if version:
                    found[name] = version
    return found


def too_new(zip_path: Path, runtime: str) -> dict[str, tuple[int, ...]]:
    """The shared objects that need a newer glibc than `runtime` has (empty when the zip can run there)."""
    limit = RUNTIME_GLIBC[runtime]
    return {name: version for name, version in requirements(zip_path).items() if version[:2] > limit}


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.glibc", description=__doc__.splitlines()[0])
    parser.add_argument("zip", type=Path)
    parser.add_argument("--runtime", choices=sorted(RUNTIME_GLIBC), required=True)
    args = parser.parse_args(argv)
    found = requirements(args.zip)
    over = too_new(args.zip, args.runtime)
    limit = _dotted(RUNTIME_GLIBC[args.runtime])
    for name, version in sorted(over.items()):
        print(f"{name} needs GLIBC_{_dotted(version)}; {args.runtime} has {limit}")
    highest = max(found.values(), default=None)
    print(f"{len(found)} shared objects; the highest glibc needed is {_dotted(highest) if highest else 'none'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
