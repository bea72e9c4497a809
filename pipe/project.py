"""A project folder: ``info.json``, its artifacts and their checksums.

A project lives in ``HOME/NAME/``. ``info.json`` contains every setting of
``pipe init``, the date plan, the warehouse (without secrets), the versions of
pipe and its main libraries, and each artifact's SHA-256, so that the project
can be rebuilt from ``info.json`` alone.

Files are written to a temporary name and renamed into place, so a failed or
killed command never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from pipe import __version__
from pipe.errors import ProjectError
from pipe.settings import check_settings

INFO_FORMAT = 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
LIBRARIES = ("pandas", "numpy", "scipy", "scikit-learn", "pyarrow", "duckdb", "joblib", "hyperopt")


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid project name, else raise ProjectError."""
    if not NAME_PATTERN.match(name) or name in {".", ".."}:
        raise ProjectError(
            f"invalid project name {name!r}: expected 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return name


def library_versions() -> dict[str, str]:
    """Return the versions of Python, pipe and the libraries that shape a model."""
    versions = {"python": platform.python_version(), "pipe": __version__}
    for library in LIBRARIES:
        try:
            versions[library] = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            versions[library] = "not installed"
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_mode(directory: bool = False) -> int:
    """Return the permission bits a new file (or folder) gets under the current umask.

    ``tempfile`` creates private files and folders (0600 and 0700); artifacts
    get the ordinary permissions instead once they are renamed into place.
    """
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    mode = "w" if isinstance(data, str) else "wb"
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, default_mode())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


class Project:
    """The folder of one project and its ``info.json``."""

    def __init__(self, home: Path, name: str) -> None:
        self.home = Path(home)
        self.name = check_name(name)
        self.path = self.home / name
        self.info_path = self.path / "info.json"

    def exists(self) -> bool:
        return self.info_path.is_file()

    def file(self, name: str) -> Path:
        return self.path / name

    def load_info(self) -> dict[str, Any]:
        """Read ``info.json``, raising ProjectError when it is missing or unreadable."""
        if not self.exists():
            raise ProjectError(f"project {self.name!r} not found: no {self.info_path}; create it with `pipe init {self.name} ...`")
        return read_info(self.info_path)

    def save_info(self, info: dict[str, Any]) -> None:
        write_atomic(self.info_path, to_json(info))

    def verify(self, info: dict[str, Any], artifact: str) -> Path:
        """Return the artifact's path after checking its SHA-256 against ``info.json``.

        Raises
        ------
        ProjectError
            When the artifact is missing, unrecorded or its checksum differs.
        """
        path = self.file(artifact)
        recorded = info.get("artifacts", {}).get(artifact, {}).get("sha256")
        if not path.is_file() or recorded is None:
            raise ProjectError(f"artifact {path} is missing; run `pipe build {self.name}` first")
        actual = sha256_file(path)
        if actual != recorded:
            raise ProjectError(
                f"artifact {path} was changed after it was built: SHA-256 {actual[:12]}... "
                f"differs from {recorded[:12]}... in info.json; rebuild with `pipe build {self.name}`"
            )
        return path

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """Yield a scratch folder whose files move into the project on success.

        On an exception the folder is deleted and the project is left as it
        was. The move itself renames one file at a time.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.path))
        try:
            yield folder
            for item in sorted(folder.iterdir()):
                os.replace(item, self.file(item.name))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def read_info(path: Path) -> dict[str, Any]:
    """Read an ``info.json`` file and check its settings and plan (``pipe.settings``)."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ProjectError(f"cannot read {path}: {error}") from error
    missing = [key for key in ("name", "settings", "plan", "warehouse") if key not in info]
    if missing:
        raise ProjectError(f"{path} is not a pipe info.json: missing {', '.join(missing)}")
    if info.get("format") != INFO_FORMAT:
        raise ProjectError(f"{path} has format {info.get('format')!r}; this pipe reads format {INFO_FORMAT}")
    check_settings(info, path)
    return info


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
