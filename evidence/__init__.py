"""Evidence packages: files with their hashes and capture times, and a manifest.

This library stands alone (it never imports `assistant`) so that a package can
be checked by anyone, with nothing but this folder or plain `sha256sum`.
"""

from .manifest import Action, Environment, FileEntry, FlowRef, Manifest, SubmissionRef
from .package import EvidencePackage

__all__ = [
    "Action",
    "Environment",
    "EvidencePackage",
    "FileEntry",
    "FlowRef",
    "Manifest",
    "SubmissionRef",
]
