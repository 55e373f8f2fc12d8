"""Where flow files are found, first place first.

    1. --flows DIR (the `assistant` option; repeatable)
    2. ASSISTANT_FLOWS (folders separated by os.pathsep)
    3. the person's flows folder, <home>/flows
    4. flow packs: installed distributions that register a package holding flow
       files under the entry-point group `support_assistant.flows`
    5. the flows bundled with the assistant (the `flows` package's data)

A flow's id is its file's name; the first place holding an id wins and the
ones it hides are reported (`assistant flow list`), never an error. A flow
pack is a stranger's files like any other flow: it is found without importing
its code and loaded with the same validation (assistant.language.flow).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.machinery import PathFinder
from importlib.metadata import entry_points
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from assistant.paths import home as home_dir
from assistant.translation import _

GROUP = "support_assistant.flows"
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Place:
    path: Path
    origin: str  # what put the folder in the list, as `flow list --paths` shows it


@dataclass(frozen=True)
class Found:
    id: str
    path: Path
    place: Place
    hides: tuple[Found, ...] = ()  # the same id further down the list


@dataclass
class Search:
    places: list[Place]
    notes: list[str] = field(default_factory=list)  # flow packs that could not be read

    def files(self) -> list[Found]:
        """Every flow file, the first of each id, each with the ones it hides."""
        first: dict[str, Found] = {}
        hidden: dict[str, list[Found]] = {}
        for place in self.places:
            for path in _flow_files(place):
                found = Found(path.stem, path, place)
                if found.id in first:
                    hidden.setdefault(found.id, []).append(found)
                else:
                    first[found.id] = found
        return [
            Found(f.id, f.path, f.place, tuple(hidden.get(f.id, ())))
            for f in sorted(first.values(), key=lambda f: f.id)
        ]

    def find(self, name: str) -> Path:
        """The flow file for an id (or a flow file's own path); InputError naming the known ids."""
        candidate = Path(name)
        if candidate.suffix in SUFFIXES and _exists(candidate):
            return candidate
        # An id is a file name: a name with a folder in it is not looked up in every place.
        places = [] if "/" in name or os.sep in name or name in ("", ".", "..") else self.places
        for place in places:
            for suffix in SUFFIXES:
                path = place.path / f"{name}{suffix}"
                if _exists(path) and _inside(path, place):
                    return path
        from assistant.language.yamlsource import closest

        known = sorted({f.id for f in self.files()})
        close = closest(name, known)
        if close:
            message = _("unknown provider flow '{name}'; did you mean '{choice}'? (known: {known})")
        elif known:
            message = _("unknown provider flow '{name}' (known: {known})")
        else:
            message = _("unknown provider flow '{name}' (known: none)")
        raise InputError(message.format(name=name, choice=close, known=", ".join(known)))


_option_dirs: list[Path] = []
_home: list[Path] = []


def configure(flows: Sequence[str | Path] = (), home: Path | None = None) -> None:
    """What the command line said: --flows folders, and the home whose flows/ folder is searched
    (None: ASSISTANT_HOME, else the user data folder). Each invocation sets both afresh."""
    _option_dirs[:] = [Path(f).expanduser() for f in flows]
    _home[:] = [home] if home is not None else []


def bundled() -> Path:
    """The flows that ship with the assistant (package data of the `flows` package)."""

    found = _beside_the_assistant()
    if found is not None:
        return found
    try:
        root = files("flows")
    except ModuleNotFoundError:
        raise InputError(
            _(
                "the bundled flows (the `flows` package) are not installed: reinstall support-assistant "
                "(in a clone: make setup, or pip install -e .)"
            )
        ) from None
    # setuptools installs packages unzipped, and an editable install maps `flows` to the
    # repository's folder: either way a folder on disk, which replicas and samples need.
    if not isinstance(root, Path):
        raise InputError(
            _("the bundled flows are not a folder on disk ({root}); reinstall support-assistant").format(root=root)
        )
    if not (root / "demo.yaml").is_file():  # `flows` is a plain name: another one may come first on sys.path
        raise InputError(
            _(
                "the `flows` package found at {root} is not the assistant's bundled flows (no demo.yaml): "
                "is there a folder named flows with an __init__.py in the current folder?"
            ).format(root=root)
        )
    return root


def _beside_the_assistant() -> Path | None:
    """The `flows` package installed with this assistant, found without importing the name.

    `flows` is a plain name: with `python -m assistant`, the current folder comes first on
    sys.path, and a person's own folder called flows/ (a namespace package, or one with an
    __init__.py) would win a plain import. The installer puts `flows` where it put `assistant`
    (site-packages, or the editable install's mapping), so that is where it is looked for."""

    import assistant

    def regular(spec: Any) -> Path | None:
        origin = getattr(spec, "origin", None)
        if spec is None or not origin or not str(origin).endswith("__init__.py"):
            return None  # not found, or a namespace package
        root = Path(origin).parent
        return root if (root / "demo.yaml").is_file() else None

    installed_in = Path(assistant.__file__).resolve().parent.parent  # the import root, e.g. site-packages
    found = regular(PathFinder.find_spec("flows", [str(installed_in)]))
    if found is not None:
        return found
    for finder in sys.meta_path:  # e.g. setuptools' editable-install finder
        if finder is PathFinder or not hasattr(finder, "find_spec"):
            continue
        try:
            found = regular(finder.find_spec("flows", None))
        except Exception:  # a third-party finder's failure is not ours to report
            continue
        if found is not None:
            return found
    return None


def user_folder(home: Path | None = None) -> Path:

    return (home or (_home[0] if _home else home_dir())) / "flows"


@functools.cache  # what is installed does not change while the program runs
def packs() -> tuple[list[Place], list[str]]:
    """Folders of the installed flow packs, and a note for each that could not be found."""

    places: list[Place] = []
    notes: list[str] = []
    for entry in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        dist = f"{entry.dist.name} {entry.dist.version}" if entry.dist is not None else "an unknown distribution"
        where = f"flow pack '{entry.name}' ({dist})"
        folder, problem = _package_folder(entry.value)
        if folder is None:
            notes.append(f"{where}: {problem}; its flows are not listed")
        else:
            places.append(Place(folder, where))
    return places, notes


def search(extra: Sequence[Path] = (), home: Path | None = None) -> Search:
    """Every place flows are looked for, in order; a folder listed twice counts once, first."""
    candidates = [Place(Path(p), "--flows") for p in [*extra, *_option_dirs]]
    env = os.environ.get("ASSISTANT_FLOWS")
    if env:
        candidates += [Place(Path(p).expanduser(), "ASSISTANT_FLOWS") for p in env.split(os.pathsep) if p]
    candidates.append(Place(user_folder(home), "HOME/flows"))
    pack_places, notes = packs()
    candidates += pack_places
    notes = list(notes)
    candidates.append(Place(bundled(), "bundled"))
    places: list[Place] = []
    seen: set[Path] = set()
    for place in candidates:
        key = _resolved(place.path)
        if key not in seen:
            seen.add(key)
            places.append(place)
    return Search(places, notes)


def _package_folder(value: str) -> tuple[Path | None, str]:
    """The folder of package `value` (dotted), found without running any of its code."""

    if ":" in value or not all(part.isidentifier() for part in value.split(".")):
        return None, f"{value!r} is not a package name (name the package that holds the flow files)"
    top, *rest = value.split(".")
    try:
        spec = find_spec(top)  # a top-level name: found, not imported
    except (ImportError, ValueError) as exc:
        return None, f"package {value!r} cannot be found ({exc})"
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location, *rest)
        if folder.is_dir():
            return folder, ""
    return None, f"package {value!r} is not installed as a folder"


def _flow_files(place: Place) -> list[Path]:
    if not _is_dir(place.path):
        return []
    return sorted(
        p for p in place.path.iterdir() if p.suffix in SUFFIXES and _inside(p, place) and _exists(p) and p.is_file()
    )


def _inside(path: Path, place: Place) -> bool:
    """A flow pack's file must be its own, not a link to a file elsewhere on this machine."""
    if place.origin.startswith("flow pack"):
        return _resolved(path).is_relative_to(_resolved(place.path))
    return True


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL
        return False
