"""What a promotion asks its registry, before anything is edited.

    verified(ref)   the reference exists (404: InputError, exit 2, with the
                    registry's answer); ``tag@digest`` still names that digest
                    (re-pushed: ConflictError, exit 1, both digests); with
                    ``pin`` a tag gains the manifest digest, ``tag@sha256:...``
                    (for a multi-arch image, the index's digest)
    provenance()    the labels of the old and new image, for the PR body

One HEAD request per check with Basic credentials; with a Bearer challenge, two
(token, HEAD) once the realm is remembered or known, three the first time (401,
token, HEAD again; see promoter.registry.realms). Labels are best effort: any registry failure
there leaves the body without them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from promoter import images
from promoter.errors import ConflictError, InputError, PromoterError
from promoter.images import ImageRef
from promoter.registry import auth
from promoter.registry.client import INDEX_TYPES, Client, check_digest
from promoter.registry.labels import ImageLabels, Provenance, from_labels
from promoter.registry.options import Options
from promoter.registry.realms import Realms, cache_path
from promoter.registry.reference import endpoint, reference_of
from promoter.registry.transport import Transport

__all__ = ["Client", "Options", "connect", "digest_of", "labels_of", "provenance", "verified"]
log = logging.getLogger("promoter.registry")


def connect(ref: ImageRef, options: Options, environ: Mapping[str, str]) -> Client:
    """A client for ``ref``'s repository with the credentials the user has."""
    where = endpoint(ref, options.insecure)
    return Client(where, auth.lookup(ref.registry, environ), Transport(options.timeout),
                  Realms(cache_path(environ)))


def verified(client: Client, ref: ImageRef, pin: bool, source: str | None = None) -> ImageRef:
    """``ref`` checked against its registry, pinned to its digest when ``pin``."""
    digest = digest_of(client, ref)
    if ref.digest and ref.tag and digest != ref.digest:
        where = f" (as in {source})" if source else ""
        raise ConflictError(
            f"tag {ref.tag} of {ref.name} now points at {digest}, not at {ref.digest}{where}: "
            "it was pushed again; promote the digest explicitly or promote the new image first"
        )
    if pin and not ref.digest:
        return ref.with_version(ref.tag, digest)
    return ref


def digest_of(client: Client, ref: ImageRef) -> str:
    """The manifest digest ``ref`` names (by tag when it has one); a tag this
    client resolved before is not asked again."""
    reference = ref.tag or reference_of(ref)
    if reference in client.resolved and not ref.digest:
        return client.resolved[reference]
    reply = client.manifest(reference, "HEAD")
    if reply.status == 404:
        answer = client.answer(client.manifest(reference, "GET"))
        what = f"tag {ref.tag}" if ref.tag else f"digest {ref.digest}"
        raise InputError(f"{what} of {ref.name} is not in its registry ({answer}); push it "
                         "first or fix the reference (--no-registry skips this check)")
    if reply.status != 200:
        raise PromoterError(f"registry {client.where.registry} answered {client.answer(reply)} "
                            f"for {ref}; check the registry")
    if ref.digest and not ref.tag:
        return ref.digest
    digest = reply.headers.get("docker-content-digest", "")
    if not digest.startswith("sha256:"):
        body = client.manifest(reference, "GET").body
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
    client.resolved[reference] = digest
    return digest


def labels_of(client: Client, digest: str) -> ImageLabels | None:
    """The labels of the image with manifest ``digest``; for an index, of its
    linux/amd64 image (else the first real one)."""
    document, annotations = _manifest(client, digest)
    if document is None:
        return None
    if document.get("mediaType") in INDEX_TYPES or "manifests" in document:
        child = _platform_child(document.get("manifests"))
        if child is None:
            return from_labels(annotations)
        document, more = _manifest(client, child)
        annotations = {**more, **annotations}
        if document is None:
            return None
    config = document.get("config")
    found = dict(annotations)
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        blob: Any = json.loads(client.blob(config["digest"]))
        labels = (blob.get("config") or {}).get("Labels") if isinstance(blob, dict) else None
        found.update(labels if isinstance(labels, dict) else {})
    return from_labels(found)


def _manifest(client: Client, digest: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    reply = client.manifest(digest, "GET")
    if reply.status != 200:
        return None, {}
    check_digest(reply.body, digest, client.where)
    document = json.loads(reply.body)
    if not isinstance(document, dict):
        return None, {}
    annotations = document.get("annotations")
    return document, annotations if isinstance(annotations, dict) else {}


def _platform_child(manifests: Any) -> str | None:
    entries = [m for m in manifests or () if isinstance(m, dict)
               and isinstance(m.get("digest"), str)]
    real = [m for m in entries if (m.get("platform") or {}).get("os") != "unknown"]
    for entry in real:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return str(entry["digest"])
    return str(real[0]["digest"]) if real else None


def provenance(client: Client, new: ImageRef, old: ImageRef | None) -> Provenance | None:
    """Labels of ``new`` and ``old``; None when the new image's are unreadable."""
    new_labels = _best_effort(client, new)
    if new_labels is None:
        return None
    return Provenance(None if old is None else _best_effort(client, old), new_labels)


def _best_effort(client: Client, ref: ImageRef) -> ImageLabels | None:
    try:
        return labels_of(client, ref.digest or digest_of(client, ref))
    except (PromoterError, ValueError) as exc:
        log.info("labels of %s not read: %s", ref, exc)
        return None


def old_reference(repository: str, values: list[str]) -> ImageRef | None:
    """The one image the old values (full references, tags, digests) name, if one."""
    tags, digests = set(), set()
    for value in values:
        ref = images.try_parse(value)
        if ref is not None and images.same_repository(ref.name, repository):
            tags.add(ref.tag)
            digests.add(ref.digest)
        elif value.startswith("sha256:"):
            digests.add(value)
        elif value:
            tags.add(value.lstrip(":"))
    tags.discard(None)
    digests.discard(None)
    if len(tags) > 1 or len(digests) > 1 or not (tags or digests):
        return None
    tag = next(iter(tags), None)
    digest = next(iter(digests), None)
    suffix = (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return images.try_parse(repository + suffix)
