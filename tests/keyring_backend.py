"""A keyring backend for tests: the system keyring API, with passwords in a JSON file (KEYRING_FILE)."""

from __future__ import annotations

import json
import os

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1

    def _load(self) -> dict:
        with open(os.environ["KEYRING_FILE"], encoding="utf-8") as handle:
            return json.load(handle)

    def get_password(self, service, username):
        return self._load().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        raise NotImplementedError("read-only test keyring")

    def delete_password(self, service, username):
        raise NotImplementedError("read-only test keyring")
