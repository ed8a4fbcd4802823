"""The registry step of a promotion and of ``update --check-registry``.

Whether to check and to pin comes from the command line (Options) over the
environment's settings (``registry``, ``pin_digest`` in .promoter.yaml). Pinning
needs the registry: asking for both ``pin_digest`` and ``--no-registry`` is an
input error unless the reference already carries its digest. The network part
(promoter.registry.check, requests) is imported only when a check runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from promoter.errors import InputError
from promoter.images import ImageRef
from promoter.registry.labels import Provenance
from promoter.registry.options import Options

if TYPE_CHECKING:
    from promoter.registry.client import Client


def decide(options: Options, check: bool, pin: bool, where: str,
           pinned: bool = False) -> tuple[bool, bool]:
    """(check, pin) from the command line over the configured ``check``/``pin``;
    ``pinned``: the reference already carries its digest."""
    pin = (pin if options.pin_digest is None else options.pin_digest) and not pinned
    check = check if options.check is None else options.check
    if pin and not check:
        raise InputError(f"pinning the digest ({where}) needs the registry, which is turned off "
                         "(--no-registry or registry: false); give REF@DIGEST or drop one")
    return check, pin


def checked(
    options: Options, ref: ImageRef, environ: Mapping[str, str], *, check: bool, pin: bool,
    where: str, source: str | None = None,
) -> tuple[ImageRef, Client | None]:
    """The reference to write and the client that checked it (None: not checked).
    ``check``/``pin`` are the configured settings; ``where`` names them in errors."""
    check, pin = decide(options, check, pin, where, pinned=bool(ref.digest))
    if not check:
        return ref, None
    from promoter.registry import check as registry_check

    client = registry_check.connect(ref, options, environ)
    return registry_check.verified(client, ref, pin, source), client


def provenance(client: Client | None, repository: str, new: ImageRef,
               olds: Sequence[str]) -> Provenance | None:
    """Labels of the image being replaced and of ``new``, for the PR body."""
    if client is None:
        return None
    from promoter.registry import check as registry_check

    old = registry_check.old_reference(repository, list(olds))
    if old is not None and old.version == new.version:
        old = None
    return registry_check.provenance(client, new, old)
