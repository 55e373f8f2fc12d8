"""Evidence packages: files with their hashes and capture times, a signed manifest, a report.

This library stands alone (it never imports `assistant`) so that a package can
be checked by anyone, with nothing but this folder or plain `sha256sum` and
`openssl`.
"""

from .manifest import (
    Action,
    Environment,
    FileEntry,
    FilingOutcome,
    Fitting,
    FlowRef,
    Manifest,
    ProviderAnswer,
    RefusalKind,
    SignerRef,
    SubmissionRef,
    Times,
)
from .package import EvidencePackage

__all__ = [
    "Action",
    "Environment",
    "EvidencePackage",
    "FileEntry",
    "FilingOutcome",
    "RefusalKind",
    "Fitting",
    "FlowRef",
    "Manifest",
    "ProviderAnswer",
    "SignerRef",
    "SubmissionRef",
    "Times",
]
