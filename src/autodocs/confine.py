"""Reading project-supplied paths without leaving the allowed roots, also while links change underfoot.

In HTTP mode every path that comes from a project (its files, its environment, the links and
``.pth`` entries found there) must stay inside ``AUTODOCS_ALLOWED_ROOTS``, and symlinks inside
the roots are still followed. Resolving a path, checking it, then opening it leaves a window in
which a link can be flipped to point outside, so a file or folder is opened in two steps:

1. the path is resolved (:func:`os.path.realpath`); the result must lie inside a root;
2. that resolved path is opened from the root's own directory one component at a time with
   ``O_NOFOLLOW``, so no component may be a link any more. A link that appeared since step 1
   makes the open fail (``ELOOP``/``ENOTDIR``) and the path is resolved again, a few times at most.

What is opened is therefore exactly the resolved path inside the root. The standard library has
no "open beneath" (Linux's ``openat2(RESOLVE_BENEATH)`` is not exposed), hence this module.
Paths the operator configured (``AUTODOCS_PYTHON``, the cache folder) are trusted and use
:data:`UNCONFINED`: the same calls, without the root check. Where ``dir_fd`` or ``O_NOFOLLOW``
does not exist (Windows) the resolved path is opened directly, a best effort.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autodocs.errors import PathNotAllowed

__all__ = ["OPENS_BENEATH", "UNCONFINED", "Confinement", "open_in"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted as a manifest must not block the open
_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_BY_COMPONENT = bool(_NOFOLLOW) and os.open in os.supports_dir_fd and os.scandir in os.supports_fd
#: Whether folders can be walked by descriptor here (:func:`open_in`); else paths are resolved each time.
OPENS_BENEATH = _BY_COMPONENT
#: What opening a component with O_NOFOLLOW answers when it has become a link since it was resolved.
_CHANGED = frozenset({errno.ELOOP, errno.ENOTDIR, errno.EMLINK})
_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class Confinement:
    """The folders project-supplied paths must resolve into (``roots`` resolved); None: anywhere."""

    roots: tuple[Path, ...] | None

    @classmethod
    def of(cls, roots: Iterable[Path] | None) -> Confinement:
        return cls(None if roots is None else tuple(Path(os.path.realpath(root)) for root in roots))

    def resolve(self, path: Path | str, *, within: Path | None = None) -> Path:
        """``path`` with every link resolved; :class:`PathNotAllowed` when that leaves the roots
        (or ``within``, a folder the caller narrows them to)."""
        real = Path(os.path.realpath(path))
        if self._root_of(real) is None or (within is not None and not real.is_relative_to(within)):
            raise PathNotAllowed(
                f"{path} leads outside the folders this server may read; nothing of it was read.",
                suggestions=["Keep the project, its environment and the links in them inside AUTODOCS_ALLOWED_ROOTS."],
            )
        return real

    def open_file(self, path: Path | str, *, within: Path | None = None) -> int:
        """A read-only descriptor of the regular file ``path`` names (see the module docstring).

        :class:`PathNotAllowed` when it resolves outside; :class:`IsADirectoryError` or
        :class:`OSError` (``EINVAL``) when it is not a regular file; other :class:`OSError` as
        the system reports them. The caller closes the descriptor."""
        return self._open(path, within=within, directory=False)

    def open_directory(self, path: Path | str, *, within: Path | None = None) -> int:
        """A descriptor of the folder ``path`` names, opened as :meth:`open_file` opens files."""
        return self._open(path, within=within, directory=True)

    def read_bytes(self, path: Path | str, limit: int, *, within: Path | None = None) -> bytes:
        """At most ``limit`` + 1 bytes of the file (one more than allowed tells the caller it is larger)."""
        with open(self.open_file(path, within=within), "rb", closefd=True) as handle:
            return handle.read(limit + 1)

    def list_directory(self, path: Path | str, *, within: Path | None = None) -> list[str]:
        """The names in the folder ``path`` names (sorted), read from the folder that was checked."""
        if not _BY_COMPONENT:
            return sorted(os.listdir(self.resolve(path, within=within)))
        descriptor = self.open_directory(path, within=within)
        try:
            return sorted(os.listdir(descriptor))
        finally:
            os.close(descriptor)

    def stat(self, path: Path | str) -> os.stat_result:
        """The metadata of what ``path`` names (unconfined: one ``stat``, no resolving)."""
        return os.stat(path if self.roots is None else self.resolve(path))

    def is_inside(self, path: Path | str) -> bool:
        try:
            self.resolve(path)
        except PathNotAllowed:
            return False
        return True

    def _root_of(self, real: Path) -> Path | None:
        if self.roots is None:
            return Path(real.anchor)
        return next((root for root in self.roots if real.is_relative_to(root)), None)

    def _open(self, path: Path | str, *, within: Path | None, directory: bool) -> int:
        previous: Path | None = None
        for _ in range(_ATTEMPTS):
            real = self.resolve(path, within=within)
            base = self._root_of(real)
            assert base is not None  # resolve() refused paths outside every root
            try:
                if self.roots is None:  # anywhere: nothing to stay beneath
                    return _checked(os.open(real, _READ | (_DIRECTORY if directory else _NONBLOCK)), directory)
                return _open_beneath(base, real, directory=directory)
            except OSError as exc:
                # Resolving again tells a link that appeared (another path) from a real error.
                if exc.errno not in _CHANGED or not _BY_COMPONENT or real == previous:
                    raise
                previous = real
        raise PathNotAllowed(f"{path} kept changing while it was being opened (a link flipping?); not read.")


def open_in(folder: int, name: str, *, directory: bool) -> int:
    """Open ``name`` in the already opened (and checked) ``folder`` without following a link:
    what it names is inside the folder. A link (``ELOOP``) or anything but a regular file or
    folder raises :class:`OSError`. Needs ``dir_fd`` support (:data:`OPENS_BENEATH`)."""
    flags = _READ | _NOFOLLOW | (_DIRECTORY if directory else _NONBLOCK)
    return _checked(os.open(name, flags, dir_fd=folder), directory)


def _open_beneath(base: Path, real: Path, *, directory: bool) -> int:
    """Open ``real`` (a resolved path under ``base``) following no link on the way."""
    if not _BY_COMPONENT:
        descriptor = os.open(real, _READ | (_DIRECTORY if directory else _NONBLOCK))
        return _checked(descriptor, directory)
    descriptor = os.open(base, _READ | _DIRECTORY)
    try:
        parts = real.relative_to(base).parts
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            flags = _READ | _NOFOLLOW | (_NONBLOCK if last and not directory else _DIRECTORY)
            inner = os.open(part, flags, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
    except BaseException:
        os.close(descriptor)
        raise
    return _checked(descriptor, directory)


def _checked(descriptor: int, directory: bool) -> int:
    mode = os.fstat(descriptor).st_mode
    if directory and not stat.S_ISDIR(mode):
        os.close(descriptor)
        raise NotADirectoryError(errno.ENOTDIR, "not a folder")
    if not directory and not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "a folder, not a file")
        raise OSError(errno.EINVAL, "not a regular file")
    return descriptor


#: For paths the operator configured: the same calls, no root check.
UNCONFINED = Confinement(None)
