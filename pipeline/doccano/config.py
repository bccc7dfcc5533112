"""Where the local doccano lives and how to reach it, from environment variables.

| variable | default | what |
|---|---|---|
| DOCCANO_PORT | 8000 | port of the server, always bound to 127.0.0.1 |
| DOCCANO_URL | http://127.0.0.1:$DOCCANO_PORT | where push and pull find doccano |
| DOCCANO_ADMIN | admin | the admin user `make doccano` creates, and push/pull log in as |
| DOCCANO_PASSWORD | doccano-local | its password: a default for a server on 127.0.0.1 only |
| DOCCANO_DATA | data/doccano | SQLite database, media, log, PID file, push state (not committed) |
| DOCCANO_VENV | .venv-doccano | doccano's own virtual environment (not committed) |
| DOCCANO_PROJECT | zhaoshang-projects | the doccano project push and pull use |
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_FILES = ROOT / "doccano"  # requirements and Django settings of the server
DEFAULT_PASSWORD = "doccano-local"


@dataclass(frozen=True)
class DoccanoConfig:
    port: int
    url: str
    admin: str
    password: str
    data_dir: Path
    venv: Path
    project: str

    @property
    def state_path(self) -> Path:
        return self.data_dir / "state.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> DoccanoConfig:
        env = os.environ if env is None else env
        port = int(env.get("DOCCANO_PORT") or 8000)
        values: dict[str, object] = {
            "port": port,
            "url": (env.get("DOCCANO_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
            "admin": env.get("DOCCANO_ADMIN") or "admin",
            "password": env.get("DOCCANO_PASSWORD") or DEFAULT_PASSWORD,
            "data_dir": _project_path(env.get("DOCCANO_DATA") or "data/doccano"),
            "venv": _project_path(env.get("DOCCANO_VENV") or ".venv-doccano"),
            "project": env.get("DOCCANO_PROJECT") or "zhaoshang-projects",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "port" in overrides and "url" not in overrides and not env.get("DOCCANO_URL"):
            values["url"] = f"http://127.0.0.1:{values['port']}"
        return cls(**values)  # type: ignore[arg-type]


def _project_path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else ROOT / path
