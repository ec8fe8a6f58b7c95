"""Archives read as folders: each readable member of a .zip, .7z (py7zr), .tar (.tar.gz/.tgz/.tar.bz2/.tar.xz),
.gz, .bz2 or .xz is a document of its own under the archive's path, the same way a mail's attachments are (see
containers.attach): found by --path, listed by `docs`, read again, moved and removed with the archive.

Members are read in memory and never written to disk, so a name with ".." or an absolute path cannot
escape anywhere: it only names the member (and is cleaned for that). Bombs are refused before they are
unpacked: too many members, too much unpacked in all, a member that claims far more than it is compressed
to, or archives nested too deep (a zip that contains itself ends at the nesting limit). An encrypted
member is reported as such; the others are indexed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from dataclasses import replace
from pathlib import PurePosixPath

from assistant.errors import DocumentError
from assistant.ingest.readers.containers import ReadContext
from assistant.ingest.readers.formats import detect_format
from assistant.types import Block

MAX_MEMBERS = 10_000  # members of one archive
MAX_UNPACKED = 512 * 2**20  # bytes unpacked from one archive, all members together
MAX_MEMBER = 64 * 2**20  # bytes of one member (the size cap of a file on disk is 50 MB)
MAX_RATIO = 200  # a member may unpack to at most this many times its compressed size
MAX_DEPTH = 3  # archives inside archives

def member_name(raw: str) -> str:
    """A member's name as it is shown and stored: "/", ".." and "." parts dropped, so it stays below the
    archive's path whatever the archive says."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts)


class _Budget:
    def __init__(self) -> None:
        self.members = 0
        self.unpacked = 0

    def take(self, size: int, packed: int | None, name: str) -> None:
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise DocumentError(f"refused as a possible archive bomb: more than {MAX_MEMBERS:,} members")
        if size > MAX_MEMBER:
            raise _Skip(f"{name} unpacks to {size / 2**20:.0f} MB, more than the {MAX_MEMBER // 2**20} MB a member "
                        "may hold")
        if packed is not None and size > 1_000_000 and size > MAX_RATIO * max(1, packed):
            raise DocumentError(f"refused as a possible archive bomb: {name} claims {size:,} bytes from "
                                f"{packed:,} compressed")
        self.unpacked += size
        if self.unpacked > MAX_UNPACKED:
            raise DocumentError(f"refused as a possible archive bomb: more than {MAX_UNPACKED // 2**20} MB unpacked")


_UNPACK_ERRORS = (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, lzma.LZMAError, RuntimeError)


class _Skip(Exception):
    """One member is left out (with this reason); the others are read."""


def _read_members(fmt: str, data: bytes, outer: str, ctx: ReadContext) -> None:
    """Hand every member whose format is readable to ReadContext.attach (its own document)."""
    if ctx.depth >= MAX_DEPTH:
        raise DocumentError(f"archives nested more than {MAX_DEPTH} deep are not read (a zip that contains itself?)")
    inside = replace(ctx, depth=ctx.depth + 1)  # the same attachments; its members one archive deeper
    budget = _Budget()
    for raw, size, packed, encrypted, read in _members(fmt, data, outer):
        name = member_name(raw)
        if not name:
            continue
        fmt_in = detect_format(PurePosixPath(name))
        if fmt_in is None:
            continue
        label = f"{name} in {outer}"
        if encrypted:
            inside.attach_error(name, label, fmt_in, size,
                                "an encrypted member: it needs its password, so it is not read")
            continue
        try:
            budget.take(size, packed, name)
            payload = read()
        except _Skip as exc:
            inside.attach_error(name, label, fmt_in, size, str(exc))
            continue
        except (*_UNPACK_ERRORS, NotImplementedError) as exc:
            inside.attach_error(name, label, fmt_in, size,
                                f"cannot unpack this member ({type(exc).__name__}: {exc})")
            continue
        inside.attach(name, label, fmt_in, payload)


def _members(fmt: str, data: bytes, outer: str):  # type: ignore[no-untyped-def]
    """(name, unpacked size, compressed size or None, encrypted, read) for each file member."""
    try:
        if fmt == "zip":
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_MEMBERS:
                raise DocumentError(f"refused as a possible archive bomb: {len(infos):,} members")
            for i in infos:
                yield i.filename, i.file_size, i.compress_size, bool(i.flag_bits & 1), \
                    (lambda i=i: _capped(zf.open(i), i.filename))
        elif fmt == "7z":
            yield from _seven_zip(data)
        elif fmt == "tar":
            tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
            for m in tf:
                if m.isfile():
                    yield m.name, m.size, None, False, (lambda m=m: _capped(tf.extractfile(m), m.name))
        else:
            inner = outer.rsplit(".", 1)[0] if "." in outer else outer
            raw = io.BytesIO(data)
            # GzipFile's first argument is a file name (the stream is fileobj=); BZ2File and LZMAFile take the
            # stream itself and have no fileobj (passing it was a TypeError for every .bz2 and .xz file).
            stream = gzip.GzipFile(fileobj=raw) if fmt == "gz" else bz2.BZ2File(raw) if fmt == "bz2" \
                else lzma.LZMAFile(raw)
            payload = _capped(stream, inner)
            yield inner, len(payload), len(data), False, (lambda: payload)
    except DocumentError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
        raise DocumentError(f"corrupt or unreadable {fmt} archive ({type(exc).__name__}: {exc})") from exc


SEVEN_ZIP_BATCH = 64 * 2**20  # bytes of 7z members unpacked at a time (a solid archive is unpacked in passes)


def _seven_zip(data: bytes):  # type: ignore[no-untyped-def]
    """The members of a 7z archive (py7zr), unpacked in memory a batch at a time as they are asked for."""
    import py7zr
    from py7zr.exceptions import ArchiveError, PasswordRequired
    from py7zr.io import BytesIOFactory

    try:
        archive = py7zr.SevenZipFile(io.BytesIO(data))
        infos = [i for i in archive.list() if not i.is_directory]
    except PasswordRequired as exc:
        raise DocumentError("the 7z archive is encrypted, names and all: it needs its password, so it is not "
                            "read") from exc
    except (ArchiveError, *_UNPACK_ERRORS) as exc:
        raise DocumentError(f"corrupt or unreadable 7z archive ({type(exc).__name__}: {exc})") from exc
    with archive:
        if len(infos) > MAX_MEMBERS:
            raise DocumentError(f"refused as a possible archive bomb: {len(infos):,} members")
        locked = archive.needs_password()
        batch: dict[str, bytes] = {}

        def read(at: int) -> bytes:
            name = infos[at].filename
            if name not in batch:
                batch.clear()
                names, size = [], 0
                for info in infos[at:]:
                    if names and size + info.uncompressed > SEVEN_ZIP_BATCH:
                        break
                    names.append(info.filename)
                    size += info.uncompressed
                factory = BytesIOFactory(MAX_MEMBER + 1)
                try:
                    archive.reset()
                    archive.extract(targets=names, factory=factory)
                except PasswordRequired as exc:
                    raise _Skip("an encrypted member: it needs its password, so it is not read") from exc
                except (ArchiveError, *_UNPACK_ERRORS) as exc:
                    raise _Skip(f"cannot unpack this member ({type(exc).__name__}: {exc})") from exc
                for n in names:
                    try:
                        batch[n] = _capped(factory.get(n), n, rewind=True)
                    except KeyError:
                        continue
            if name not in batch:
                raise _Skip(f"{name} cannot be read")
            return batch.pop(name)

        for at, info in enumerate(infos):
            yield info.filename, info.uncompressed, info.compressed, locked, (lambda at=at: read(at))


def _capped(stream, name: str, rewind: bool = False) -> bytes:  # type: ignore[no-untyped-def]
    """A member's bytes, read no further than MAX_MEMBER (a header that lies about the size is caught)."""
    if stream is None:
        raise _Skip(f"{name} cannot be read")
    if rewind:
        stream.seek(0)
    data = stream.read(MAX_MEMBER + 1)
    if len(data) > MAX_MEMBER:
        raise _Skip(f"{name} unpacks to more than the {MAX_MEMBER // 2**20} MB a member may hold")
    return bytes(data)


def read_archive(fmt: str, data: bytes, name: str, ctx: ReadContext) -> list[Block]:
    """Read an archive named `name`: it has no blocks of its own, only members (handed on as attachments).

    Raises:
        DocumentError: corrupt, a possible bomb, or nested too deep.
    """
    _read_members(fmt, data, name, ctx)
    return []
