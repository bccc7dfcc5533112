"""The local doccano server behind `make doccano` and `make doccano-stop`.

doccano 1.8.4 runs in its own virtual environment (created on first use from
doccano/requirements.txt), on SQLite under the data folder, served by gunicorn bound to
127.0.0.1 only (`doccano webserver` would bind every interface). Its settings module
(doccano/doccano_local.py) runs import and export tasks inside the web process, so
gunicorn is the only process: its master's PID is in <data>/server.pid, and stopping
sends that process (and nothing else) SIGTERM.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..fileio import atomic_write_text
from .config import SERVER_FILES, DoccanoConfig

Log = Callable[[str], None]
REQUIREMENTS = SERVER_FILES / "requirements.txt"
SETTINGS_MODULE = "doccano_local"  # doccano/doccano_local.py
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30


class ServerError(RuntimeError):
    """The server cannot be installed, started or stopped; the message says why."""


@dataclass(frozen=True)
class ServerFiles:
    """What the server keeps in its data folder."""

    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "db.sqlite3"

    @property
    def media(self) -> Path:
        return self.data_dir / "media"

    @property
    def pid(self) -> Path:
        return self.data_dir / "server.pid"

    @property
    def log(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def info(self) -> Path:
        return self.data_dir / "server.json"

    @property
    def secret_key(self) -> Path:
        return self.data_dir / "secret_key"

    @property
    def initialised(self) -> Path:
        return self.data_dir / ".initialised"


# --------------------------------------------------------------------------- venv


def _requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def venv_ready(venv: Path) -> bool:
    stamp = venv / ".installed"
    return stamp.exists() and stamp.read_text().strip() == _requirements_digest() and (venv / "bin" / "gunicorn").exists()


def ensure_venv(venv: Path, log: Log = print) -> None:
    """Create doccano's virtual environment, or bring it up to doccano/requirements.txt."""
    if venv_ready(venv):
        return
    # the requirements file doubles as a lock, so that `make doccano` and a test run
    # started at the same time do not install into the same folder at once
    with REQUIREMENTS.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if venv_ready(venv):
            return
        log(f"installing doccano into {venv} (first use: about a minute)")
        python = venv / "bin" / "python"
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(venv)], "creating the virtual environment")
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)], "pip install -r doccano/requirements.txt")
        (venv / ".installed").write_text(_requirements_digest() + "\n")


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise ServerError(f"{what} failed (exit {result.returncode}):\n{tail}")


def backend_dir(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages/backend"))
    if not found:
        raise ServerError(f"doccano is not installed in {venv}: remove the folder and run `make doccano` again")
    return found[0]


# --------------------------------------------------------------------------- database


def _secret_key(files: ServerFiles) -> str:
    if not files.secret_key.exists():
        atomic_write_text(files.secret_key, secrets.token_urlsafe(48) + "\n")
        files.secret_key.chmod(0o600)
    return files.secret_key.read_text().strip()


def server_env(cfg: DoccanoConfig) -> dict[str, str]:
    """The environment of every doccano process: our settings module, the data folder."""
    files = ServerFiles(cfg.data_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        PYTHONPATH=str(SERVER_FILES),
        DATABASE_URL=f"sqlite:///{files.database}",
        MEDIA_ROOT=str(files.media),
        DOCCANO_HOME=str(cfg.data_dir),
        SECRET_KEY=_secret_key(files),
        DEBUG="False",
    )
    return env


def ensure_database(cfg: DoccanoConfig, log: Log = print) -> None:
    """`doccano init` (migrations, roles) when the database is new or doccano changed,
    then `doccano createuser`, which also resets the admin's password to DOCCANO_PASSWORD."""
    files = ServerFiles(cfg.data_dir)
    files.media.mkdir(parents=True, exist_ok=True)
    env = server_env(cfg)
    doccano = str(cfg.venv / "bin" / "doccano")
    digest = _requirements_digest()
    if not (files.database.exists() and files.initialised.exists() and files.initialised.read_text().strip() == digest):
        log(f"initialising the database {files.database}")
        _run([doccano, "init"], "doccano init", env)
        files.initialised.write_text(digest + "\n")
    _run(
        [doccano, "createuser", "--username", cfg.admin, "--password", cfg.password, "--email", f"{cfg.admin}@localhost"],
        "doccano createuser",
        env,
    )


# --------------------------------------------------------------------------- process


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v1/health/", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def running_pid(cfg: DoccanoConfig) -> int | None:
    """The PID of the gunicorn master this data folder's server runs as, or None.

    A PID file left behind by a crash, or whose number now belongs to some other
    process, does not count (and is removed)."""
    files = ServerFiles(cfg.data_dir)
    try:
        pid = int(files.pid.read_text().strip())
    except (OSError, ValueError):
        return None
    command = _cmdline(pid)
    if "gunicorn" in command and str(files.pid) in command:
        return pid
    files.pid.unlink(missing_ok=True)
    return None


def server_url(cfg: DoccanoConfig) -> str:
    """The URL of the running server (its port may differ from today's DOCCANO_PORT)."""
    try:
        return str(json.loads(ServerFiles(cfg.data_dir).info.read_text())["url"])
    except (OSError, ValueError, KeyError):
        return cfg.url


def _log_tail(files: ServerFiles, lines: int = 25) -> str:
    try:
        return "\n".join(files.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(cfg: DoccanoConfig, log: Log = print) -> str:
    """Start the server unless it already runs; return its URL once it answers."""
    files = ServerFiles(cfg.data_dir)
    pid = running_pid(cfg)
    if pid is not None:
        url = server_url(cfg)
        if wait_until_healthy(url, pid, START_TIMEOUT_S):
            log(f"doccano already running (pid {pid})")
            return url
        raise ServerError(f"doccano (pid {pid}) runs but does not answer at {url}; see {files.log}, or `make doccano-stop`")
    url = f"http://127.0.0.1:{cfg.port}"
    if port_in_use(cfg.port):
        raise ServerError(f"port {cfg.port} is taken by another program; choose another with DOCCANO_PORT=...")
    ensure_venv(cfg.venv, log)
    ensure_database(cfg, log)
    backend = backend_dir(cfg.venv)
    argv = [
        str(cfg.venv / "bin" / "gunicorn"),
        "--bind", f"127.0.0.1:{cfg.port}",
        "--chdir", str(backend),
        "--workers", "1",
        "--threads", "4",
        "--timeout", "600",  # imports and exports run inside the request
        "--graceful-timeout", "10",
        "--pid", str(files.pid),
        "--capture-output",
        "config.wsgi",
    ]  # fmt: skip
    with files.log.open("ab") as out:
        process = subprocess.Popen(
            argv, cwd=backend, env=server_env(cfg), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    atomic_write_text(files.info, json.dumps({"url": url, "pid": process.pid, "started": time.time()}) + "\n")
    if not wait_until_healthy(url, process.pid, START_TIMEOUT_S):
        if process.poll() is None:
            stop(cfg, log=lambda _m: None)
        raise ServerError(f"doccano did not come up at {url}; the end of {files.log}:\n{_log_tail(files)}")
    return url


def wait_until_healthy(url: str, pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return True
        if not _alive(pid):
            return False
        time.sleep(0.5)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own child that has exited) counts as gone
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def stop(cfg: DoccanoConfig, log: Log = print) -> bool:
    """Stop the server this data folder's PID file names; False when none was running.

    SIGTERM goes to the gunicorn master, which stops its worker; only if the master is
    still there after STOP_TIMEOUT_S does SIGKILL go to its process group (the session
    `start` created for it, so nothing else is in it)."""
    files = ServerFiles(cfg.data_dir)
    pid = running_pid(cfg)
    if pid is None:
        log("doccano is not running")
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid) and os.getpgid(pid) == pid:
        os.killpg(pid, signal.SIGKILL)
    files.pid.unlink(missing_ok=True)
    files.info.unlink(missing_ok=True)
    log(f"doccano stopped (pid {pid})")
    return True
