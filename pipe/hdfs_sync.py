"""Copy project folders to HDFS through WebHDFS (the ``hdfs`` package).

Syncing is on when ``PIPE_HDFS_URL`` (the namenode's WebHDFS address, for
example ``http://namenode:9870``) is set. ``PIPE_HDFS_USER`` is the HDFS user
(default: the local user's name) and ``PIPE_HDFS_ROOT`` the remote folder that
contains one sub-folder per project (default ``/user/USER/pipe-projects``).

Each file goes to a hidden temporary name first and is renamed into place,
so a reader of HDFS sees either the old or the new file. Remote files that
the local folder no longer has (artifacts that ``build --until`` removed)
are deleted. Hidden local files and folders, such as a build's staging
folder, are not copied.
"""

from __future__ import annotations

import getpass
import logging
import os
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path

from pipe.errors import PipeError

log = logging.getLogger(__name__)

URL_ENV = "PIPE_HDFS_URL"
USER_ENV = "PIPE_HDFS_USER"
ROOT_ENV = "PIPE_HDFS_ROOT"
TIMEOUT_SECONDS = 30
TEMPORARY_SUFFIX = ".pipe-upload"


class SyncError(PipeError):
    """Copying a project to HDFS failed."""


@dataclass(frozen=True)
class HdfsSettings:
    """Where projects are copied: the WebHDFS URL, the HDFS user and the remote root folder."""

    url: str
    user: str
    root: str

    def remote_folder(self, name: str) -> str:
        return posixpath.join(self.root, name)


def remote_user_and_root() -> tuple[str, str]:
    """Return the HDFS user and the remote root folder from the environment.

    The user is ``PIPE_HDFS_USER``, else the local user; the root is
    ``PIPE_HDFS_ROOT``, else ``/user/USER/pipe-projects``. ``pipe schedule``
    uses them for the Oozie application path even when ``PIPE_HDFS_URL`` is
    not set, so that its path is the one ``pipe sync`` copies to.
    """
    user = os.environ.get(USER_ENV, "").strip() or getpass.getuser()
    root = os.environ.get(ROOT_ENV, "").strip() or f"/user/{user}/pipe-projects"
    if not root.startswith("/"):
        raise SyncError(f"{ROOT_ENV}={root!r} must be an absolute HDFS path such as /user/{user}/pipe-projects")
    return user, root.rstrip("/") or "/"


def hdfs_settings() -> HdfsSettings | None:
    """Return the settings from the environment, or None when ``PIPE_HDFS_URL`` is not set."""
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise SyncError(f"{URL_ENV}={url!r} is not a WebHDFS address; expected http://NAMENODE:PORT or https://NAMENODE:PORT")
    user, root = remote_user_and_root()
    return HdfsSettings(url=url.rstrip("/"), user=user, root=root)


def local_files(folder: Path) -> list[Path]:
    """Return the project's files to copy, relative to ``folder``, without hidden files and folders."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        files.append(relative)
    return files


def _remote_files(client, folder: str) -> list[str]:
    """Return every file under the remote ``folder``, relative to it; [] when it does not exist."""
    if client.status(folder, strict=False) is None:
        return []
    files = []
    for directory, _, names in client.walk(folder):
        for name in names:
            files.append(posixpath.relpath(posixpath.join(directory, name), folder))
    return files


def sync_project(folder: Path, name: str, settings: HdfsSettings) -> list[str]:
    """Copy the project ``folder`` to HDFS and return the relative paths copied.

    Raises
    ------
    SyncError
        When the namenode cannot be reached or rejects a request; files
        already renamed into place stay there.
    """
    from hdfs import HdfsError, InsecureClient
    from requests import RequestException

    client = InsecureClient(settings.url, user=settings.user, timeout=TIMEOUT_SECONDS)
    remote = settings.remote_folder(name)
    started = time.perf_counter()
    copied = []
    try:
        client.makedirs(remote)
        files = local_files(folder)
        for relative in files:
            target = posixpath.join(remote, *relative.parts)
            temporary = posixpath.join(posixpath.dirname(target), f".{posixpath.basename(target)}{TEMPORARY_SUFFIX}")
            with open(folder / relative, "rb") as handle:
                client.write(temporary, data=handle, overwrite=True)
            client.delete(target)
            client.rename(temporary, target)
            copied.append(relative.as_posix())
        wanted = {relative.as_posix() for relative in files}
        for stale in _remote_files(client, remote):
            if stale not in wanted and not any(part.startswith(".") for part in stale.split("/")):
                client.delete(posixpath.join(remote, stale))
                log.info("deleted %s from HDFS: the project no longer has it", posixpath.join(remote, stale))
    except (HdfsError, RequestException) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        raise SyncError(f"cannot copy project {name!r} to HDFS {settings.url}{remote} as user {settings.user}: {message}; "
                        f"check {URL_ENV} and {USER_ENV}, then run `pipe sync {name}`") from error
    log.info("copied %d files of project %s to %s%s in %.2f s", len(copied), name, settings.url, remote, time.perf_counter() - started)
    return copied
