"""Find the image references to one repository in one YAML text, as nodes.

What counts as a reference (everything under a ``status`` key is ignored):

- ``container-image``: ``image`` of an item of ``containers``, ``initContainers``
  or ``ephemeralContainers``, wherever the pod spec sits (any kind, any CR);
- ``kustomize-image``: an item with ``name`` of an ``images`` list (kustomization,
  Flux Kustomization) or ``imageTag`` (ImageTagTransformer), matched on ``name``
  or ``newName``; its ``newTag`` / ``digest`` are the slots;
- ``argocd-kustomize-image``: a string of ``kustomize.images`` (``[name=]ref``);
- ``argocd-helm-param``: ``helm.parameters`` items ``P.repository`` + ``P.tag``;
- ``helm-values``: a mapping with ``repository`` (or ``image`` / ``name``) plus
  ``tag`` and/or ``digest`` / ``sha``, and an optional ``registry``; this also
  covers Argo CD ``helm.valuesObject`` and Flux HelmRelease ``spec.values``;
- ``image-key``: a full reference (with a tag or digest) at a key named
  ``image`` or ending in ``Image`` outside containers (custom resources'
  ``spec.image``, Helm values such as ``natsImage: nats:2.9.1``); never under
  ``metadata`` (annotations, labels) or a patch ``target`` selector (and, see
  document.py, not in a Docker Compose file);
- ``json6902``: a JSON6902 patch operation (``op: replace`` / ``add``) whose
  ``path`` ends in ``/image`` with a reference as ``value``, or whose ``value``
  is a container (or a list of containers);
- ``key``: the values at explicit ``--key`` paths.

A value holding a template or substitution expression (``{{ ... }}``,
``${var}``, ``$(VAR)``) is still located (``Ref.template``), so that it can be
reported, but never edited.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from promoter import images
from promoter.images import ImageRef
from promoter.manifests.nodes import Visit, kind_of, scalar_items, string_value
from promoter.manifests.refs import Ref, Slot, full_refs, with_template

__all__ = ["Ref", "Slot", "refs_in", "with_template"]

CONTAINER_KEYS = frozenset({"containers", "initContainers", "ephemeralContainers", "sidecars"})
REPOSITORY_KEYS = ("repository", "image", "name")
KUSTOMIZE_KEYS = frozenset({"newName", "newTag"})
NOT_IMAGE_KEYS = frozenset({"metadata", "target"})


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _repository(text: str | None) -> ImageRef | None:
    """A bare repository name (no tag, no digest), or None."""
    ref = images.try_parse(text) if text else None
    if ref is None or ref.tag is not None or ref.digest is not None:
        return None
    return ref


def _version(
    tag_text: str | None, digest_text: str | None, sha: bool
) -> tuple[str | None, str | None]:
    tag, _, digest = (tag_text or "").partition("@")
    if digest_text:
        digest = f"sha256:{digest_text}" if sha and ":" not in digest_text else digest_text
    return tag or None, digest or None


def container_refs(visit: Visit, repository: str) -> Iterator[Ref]:
    """The ``image`` of a container item."""
    if kind_of(visit.node) != "mapping" or not visit.keys:
        return
    in_list = visit.keys[-1] in CONTAINER_KEYS and visit.path.endswith("]")
    if not in_list and not (visit.keys[-1] == "container" and not visit.path.endswith("]")):
        return
    node = scalar_items(visit.node).get("image")
    yield from full_refs("container-image", node, _join(visit.path, "image"), repository)


def kustomize_refs(visit: Visit, repository: str) -> Iterator[Ref]:
    """A kustomize ``images`` entry or ``imageTag`` transformer entry."""
    if kind_of(visit.node) != "mapping" or not visit.keys:
        return
    in_list = visit.keys[-1] == "images" and visit.path.endswith("]")
    argocd = len(visit.keys) > 1 and visit.keys[-2] == "kustomize"
    if not (in_list and not argocd) and visit.keys[-1] != "imageTag":
        return
    items = scalar_items(visit.node)
    names = [_repository(string_value(items.get(key))) for key in ("name", "newName")]
    if "name" not in items or not any(r and r.repository == repository for r in names):
        return
    current_name = names[1] or names[0]
    assert current_name is not None
    newtag, digest_text = string_value(items.get("newTag")), string_value(items.get("digest"))
    tag, digest = _version(newtag, digest_text, False)
    slots = tuple(
        Slot(items[key], role, _join(visit.path, key))
        for key, role in (("newTag", "tag"), ("digest", "digest"))
        if key in items and kind_of(items[key]) == "scalar"
    )
    yield Ref(
        "kustomize-image", _join(visit.path, "newTag"),
        current_name.with_version(tag, digest), slots, mapping=visit.node,
    )


def argocd_image_refs(visit: Visit, repository: str) -> Iterator[Ref]:
    """A string of Argo CD ``kustomize.images``: ``ref`` or ``name=ref``."""
    if kind_of(visit.node) != "scalar" or visit.keys[-2:] != ("kustomize", "images"):
        return
    text = string_value(visit.node) or ""
    prefix, sep, rest = text.rpartition("=")
    ref = images.try_parse(rest)
    alias = _repository(prefix) if sep else None
    if ref is None or repository not in (ref.repository, alias and alias.repository):
        return
    slot = Slot(visit.node, "full", visit.path, prefix + sep)
    yield Ref("argocd-kustomize-image", visit.path, ref, (slot,))


def argocd_param_refs(visit: Visit, repository: str) -> Iterator[Ref]:
    """``helm.parameters``: ``X.repository`` with ``X.tag`` / ``X.digest``."""
    if kind_of(visit.node) != "sequence" or visit.keys[-2:] != ("helm", "parameters"):
        return
    params: dict[str, tuple[int, Any]] = {}
    for index, item in enumerate(visit.node.value):
        if kind_of(item) == "mapping":
            fields = scalar_items(item)
            name = string_value(fields.get("name"))
            if name and "value" in fields and kind_of(fields["value"]) == "scalar":
                params[name] = (index, fields["value"])
    for name, (_, value) in params.items():
        if not name.endswith("repository"):
            continue
        stem = name[: -len("repository")]
        registry = string_value(params.get(stem + "registry", (0, None))[1])
        repo = _repository(f"{registry}/{value.value}" if registry else string_value(value))
        if repo is None or repo.repository != repository:
            continue
        slots = tuple(
            Slot(params[stem + key][1], role, f"{visit.path}[{params[stem + key][0]}].value")
            for key, role in (("tag", "tag"), ("digest", "digest"))
            if stem + key in params
        )
        tag_node, digest_node = _find(slots, "tag"), _find(slots, "digest")
        tag, digest = _version(string_value(tag_node), string_value(digest_node), False)
        path = slots[0].path if slots else f"{visit.path}[{params[name][0]}].value"
        yield Ref("argocd-helm-param", path, repo.with_version(tag, digest), slots)


def _find(slots: Sequence[Slot], role: str) -> Any:
    slot = next((s for s in slots if s.role == role), None)
    return slot.node if slot else None


def helm_refs(visit: Visit, repository: str) -> Iterator[Ref]:
    """A Helm values image block."""
    if kind_of(visit.node) != "mapping" or (visit.keys and visit.keys[-1] in CONTAINER_KEYS):
        return
    items = scalar_items(visit.node)
    if KUSTOMIZE_KEYS & items.keys() or not ({"tag", "digest", "sha"} & items.keys()):
        return
    key = next((k for k in REPOSITORY_KEYS if kind_of(items.get(k, visit.node)) == "scalar"), None)
    if key is None:
        return
    registry = string_value(items.get("registry"))
    name = string_value(items[key])
    repo = _repository(f"{registry}/{name}" if registry and name else name)
    if repo is None or repo.repository != repository:
        return
    slots = tuple(
        Slot(items[k], role, _join(visit.path, k))
        for k, role in (("tag", "tag"), ("digest", "digest"), ("sha", "sha"))
        if k in items and kind_of(items[k]) == "scalar"
    )
    digest_slot = _find(slots, "digest") or _find(slots, "sha")
    tag, digest = _version(string_value(_find(slots, "tag")), string_value(digest_slot), True)
    path = slots[0].path if slots else _join(visit.path, key)
    yield Ref("helm-values", path, repo.with_version(tag, digest), slots)


def key_refs(visit: Visit, repository: str, keys: Sequence[str]) -> Iterator[Ref]:
    """The value at an explicit ``--key`` path: a tag, a digest or a full reference."""
    if visit.path not in keys or kind_of(visit.node) != "scalar":
        return
    text = string_value(visit.node) or ""
    last = visit.path.rsplit(".", 1)[-1].lower()
    if last.endswith(("digest", "sha")):
        role, ref = ("sha" if last.endswith("sha") else "digest"), _repository(repository)
        ref = ref.with_version(None, text or None) if ref else None
    elif last.endswith(("tag", "version")):
        tag, digest = _version(text, None, False)
        role, ref = "tag", images.try_parse(repository)
        ref = ref.with_version(tag, digest) if ref else None
    else:
        role, ref = "full", images.try_parse(text)
        if ref is None or ref.repository != repository:
            return
    if ref is not None:
        yield Ref("key", visit.path, ref, (Slot(visit.node, role, visit.path),))


def image_key_refs(visit: Visit, repository: str) -> Iterator[Ref]:
    """A full reference at ``image`` / ``*Image`` outside containers."""
    if NOT_IMAGE_KEYS.intersection(visit.keys):
        return
    for ref in full_refs("image-key", visit.node, visit.path, repository):
        if ref.template or ref.current.tag or ref.current.digest:
            yield ref


def patch_refs(visit: Visit, repository: str) -> Iterator[Ref]:
    """A JSON6902 operation setting an image or adding container(s)."""
    items = scalar_items(visit.node)
    op, target, value = (string_value(items.get(k)) for k in ("op", "path", "value"))
    if op not in ("add", "replace") or not target or "value" not in items:
        return
    base = _join(visit.path, "value")
    node = items["value"]
    if target.endswith("/image") and value is not None:
        yield from full_refs("json6902", node, base, repository)
    elif kind_of(node) == "mapping":
        image = scalar_items(node).get("image")
        yield from full_refs("json6902", image, base + ".image", repository)
    elif kind_of(node) == "sequence":
        for index, item in enumerate(node.value):
            if kind_of(item) == "mapping":
                path = f"{base}[{index}].image"
                yield from full_refs("json6902", scalar_items(item).get("image"), path, repository)


SPLIT_KEYS = frozenset({"tag", "digest", "sha"})


def refs_in(visit: Visit, repository: str, keys: Sequence[str] = ()) -> list[Ref]:
    """Every reference to ``repository`` rooted at this node (cheap tests first:
    this runs for every node of every composed document, and mostly finds none)."""
    found: list[Ref] = list(key_refs(visit, repository, keys)) if keys else []
    node, path_keys = visit.node, visit.keys
    last = path_keys[-1] if path_keys else ""
    kind = node.id
    if kind == "mapping":
        if last in CONTAINER_KEYS or last == "container":
            found += container_refs(visit, repository)
        if last == "images" or last == "imageTag":
            found += kustomize_refs(visit, repository)
        pairs = node.value
        for key, _ in pairs:
            if key.id == "scalar" and key.value in SPLIT_KEYS:
                found += helm_refs(visit, repository)
                break
        if visit.path.endswith("]"):
            for key, _ in pairs[:3]:
                if key.value == "op":
                    found += patch_refs(visit, repository)
                    break
    elif kind == "sequence":
        if last == "parameters":
            found += argocd_param_refs(visit, repository)
    elif last == "images":
        found += argocd_image_refs(visit, repository)
    elif last == "image" or last.endswith("Image"):
        found += image_key_refs(visit, repository)
    return found
