"""Bringing chat models into the models folder: `models add` (a local file; the air-gapped path) and
`models pull` (a download the user asks for: the only network use in the product).

Both verify before anything appears in the models folder: the file must be a readable GGUF and, when a
checksum is given (always, for a download), have that SHA-256. The file is written under a temporary name
in the models folder and renamed into place, so a half-copied or corrupt model is never selectable. A
download interrupted for any reason resumes where it stopped (an HTTP range request on the `.part` file).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from assistant.answer.models import ModelInfo, read_gguf
from assistant.errors import AssistantError, ModelNotFoundError

Progress = Callable[[int, int, str], None]
CHUNK = 1 << 20


def _check_sha(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise AssistantError(f"--sha256 takes 64 hexadecimal digits, not {value!r}")
    return value


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _settle(part: Path, final: Path, sha256: str | None, what: str) -> ModelInfo:
    """Verify a finished temporary file and move it into place; on any failure it is removed."""
    try:
        if sha256 is not None:
            got = _hash(part)
            if got != sha256:
                raise AssistantError(f"{what} has SHA-256 {got}, not the expected {sha256}: the file is damaged or "
                                     "not the one meant. Nothing was added to the models folder.")
        try:
            read_gguf(part)
        except ModelNotFoundError as exc:
            raise AssistantError(f"{what} is not a usable GGUF model ({exc}). Nothing was added.") from exc
        os.replace(part, final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return read_gguf(final)


def add_model(source: Path, models_dir: Path, sha256: str | None = None,
              progress: Progress | None = None) -> ModelInfo:
    """Copy a GGUF file into the models folder, verified and atomically.

    Raises:
        AssistantError: not a GGUF file, a checksum mismatch, a different file of that name already
            there, or the copy failed (e.g. a full disk).
    """
    sha256 = _check_sha(sha256)
    source = Path(source).expanduser()
    try:
        read_gguf(source)  # refuse early, before copying gigabytes
    except ModelNotFoundError as exc:
        raise AssistantError(f"{source} is not a usable GGUF model: {exc}") from exc
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / source.name
    if final.exists():
        if _hash(final) == _hash(source):
            return read_gguf(final)
        raise AssistantError(f"{final} already exists and differs; rename the new file or remove the old one")
    part = models_dir / f".{source.name}.part"
    total = source.stat().st_size
    try:
        with open(source, "rb") as src, open(part, "wb") as dst:
            done = 0
            while block := src.read(CHUNK):
                dst.write(block)
                done += len(block)
                if progress:
                    progress(done, total, source.name)
            dst.flush()
            os.fsync(dst.fileno())
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise AssistantError(f"could not copy {source} into {models_dir}: {exc.strerror or exc}") from exc
    return _settle(part, final, sha256, str(source))


def pull_model(url: str, models_dir: Path, sha256: str, progress: Progress | None = None,
               timeout: float = 30.0) -> ModelInfo:
    """Download a GGUF model into the models folder: resumable, checksum-verified, moved into place.

    Raises:
        AssistantError: no checksum, not a .gguf URL, no network, an HTTP error, a checksum mismatch,
            or a file that is not GGUF.
    """
    expected = _check_sha(sha256)
    if expected is None:
        raise AssistantError("models pull needs --sha256 HEX (the checksum the model's publisher gives)")
    name = Path(urllib.request.url2pathname(url.split("?")[0].rsplit("/", 1)[-1])).name
    if not name.endswith(".gguf") or not url.startswith(("http://", "https://")):
        raise AssistantError(f"models pull takes an http(s) URL of a .gguf file, not {url!r}")
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / name
    if final.exists() and _hash(final) == expected:
        return read_gguf(final)
    part = models_dir / f".{name}.part"
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (the user's own URL)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part file is already complete
            return _settle(part, final, expected, url)
        raise AssistantError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AssistantError(f"cannot reach {url} ({reason}). models pull needs a network; on an air-gapped "
                             "machine, copy the .gguf file over and run: assistant models add FILE --sha256 HEX") \
            from exc
    with response:
        resumed = response.status == 206
        length = int(response.headers.get("Content-Length") or 0)
        total = (have if resumed else 0) + length
        mode = "ab" if resumed else "wb"
        done = have if resumed else 0
        try:
            with open(part, mode) as f:
                while block := response.read(CHUNK):
                    f.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total or done, name)
                f.flush()
                os.fsync(f.fileno())
        except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:  # dropped: keep the part
            raise AssistantError(f"the download of {url} stopped at {done} bytes ({exc}); run the same command "
                                 "again to resume") from exc
    if total and done < total:
        raise AssistantError(f"the download of {url} stopped at {done} of {total} bytes; run the same command "
                             "again to resume")
    return _settle(part, final, expected, url)

