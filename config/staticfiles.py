"""Static files taken from asset packages one file at a time.

An asset package such as XStatic-jQuery-UI ships a whole distribution (themes, images, CSS) of which
the admin uses one file. Adding its directory to ``STATICFILES_DIRS`` collects all of it, and the
manifest storage of production (``collectstatic`` with ``DEBUG=0``) then fails on the theme CSS,
whose ``url(images/…)`` references it cannot resolve. This finder exposes only the files listed in
``STATICFILES_PACKAGE_FILES`` (``{url prefix: (package directory, [relative paths])}``), so what is
collected is what is served.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage


class PackageFilesFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        self.files: dict[str, Path] = {}
        self.storages: dict[str, FileSystemStorage] = {}
        for prefix, (directory, names) in settings.STATICFILES_PACKAGE_FILES.items():
            storage = FileSystemStorage(location=directory)
            storage.prefix = prefix
            self.storages[prefix] = storage
            for name in names:
                self.files[f"{prefix}/{name}"] = Path(directory) / name

    def check(self, **kwargs) -> list[CheckMessage]:
        return [
            Error(f"Static file {url} not found at {path}.", id="api.E002")
            for url, path in self.files.items()
            if not path.is_file()
        ]

    def find(self, path: str, find_all: bool = False, **kwargs):
        match = self.files.get(path)
        if match is None:
            return []
        return [str(match)] if find_all else str(match)

    def list(self, ignore_patterns):
        for url in self.files:
            prefix, _, name = url.partition("/")
            yield name, self.storages[prefix]
