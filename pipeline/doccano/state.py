"""Which of our examples went to which doccano project: <data>/state.json.

    {"projects": {"<name>": {"url": ..., "id": 3, "collaborative": true,
                             "examples": {"s001-004": {"doccano_id": 17, "split": "dev",
                                                       "preannotation": "weak-preannotator",
                                                       "pushed": "<fingerprint>", "pushed_at": "..."}}}}}

It sits next to the SQLite database, outside git, on purpose: project and example ids are
ids in that database and mean nothing without it. What a pull needs (our id, split,
source, the fingerprints) travels inside every uploaded document's metadata and comes
back with the export, so a pull works from doccano alone; push also asks doccano which of
our ids a project already holds, so a lost or stale state file never causes duplicates.
What is committed is the result: pulled examples in annotations/ with origin
`doccano:<project>/<annotator>`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text


@dataclass
class PushState:
    path: Path
    data: dict[str, Any] = field(default_factory=lambda: {"projects": {}})

    @classmethod
    def load(cls, path: Path) -> PushState:
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise ValueError(f"{path} is not valid JSON ({err}); move it away to start a fresh record") from err
        data.setdefault("projects", {})
        return cls(path, data)

    def project(self, name: str, url: str, project_id: int, collaborative: bool) -> dict[str, Any]:
        entry = self.data["projects"].setdefault(name, {"examples": {}})
        entry.update(url=url, id=project_id, collaborative=collaborative)
        entry.setdefault("examples", {})
        return entry

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
