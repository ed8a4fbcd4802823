"""Compose YAML texts into node trees with positions (never construct).

ruamel.yaml's composer gives every node its style and its start/end character
offsets into the text. The C composer (ruamel.yaml.clib) is preferred, about 7x
faster than the pure one; both give the same marks. Aliases are never expanded:
an alias is the anchored node object itself.

Offsets are into the text *without* a leading BOM (libyaml does not count it);
callers strip the BOM before composing and put it back after splicing.

A text the C composer rejects gets a second opinion from ruamel.yaml's pure
Python composer (YAML 1.2) before it is refused: libyaml reads YAML 1.1 here,
so it refuses ``[{image: ghcr.io/a/b:1}]`` (a colon in a flow plain scalar)
and an anchor defined twice, both valid YAML 1.2 that kubectl, Flux and Argo
CD accept. The pure composer gives the same character offsets; an alias there
refers to the latest definition of its anchor, as YAML 1.2 says.
"""


from __future__ import annotations

from functools import lru_cache
from typing import Any

from promoter.errors import BadYaml

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_EXPANDED_NODES = 2_000_000
TAG_TEXTS: dict[int, str] = {}  # id of each Tag object the resolver hands out -> its text


@lru_cache(maxsize=2)
def _yaml(pure: bool = False) -> Any:
    from ruamel.yaml import YAML

    try:
        yaml = YAML(typ="safe", pure=pure)
    except Exception:  # pragma: no cover - clib missing
        yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _resolver_class()
    return yaml


def _resolver_class() -> Any:
    """A resolver that only tells strings, nulls, merge keys and other scalars
    apart (all the engine needs), with YAML 1.1 and 1.2 rules combined: far
    cheaper than ruamel's versioned resolver, which dominated compose time."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from ruamel.yaml.resolver import VersionedResolver
    from ruamel.yaml.tag import Tag

    from promoter.manifests.render import NON_STRING

    null, merge = Tag(suffix=NULL_TAG), Tag(suffix=MERGE_TAG)
    other, string = Tag(suffix="tag:yaml.org,2002:float"), Tag(suffix=STR_TAG)
    seq, mapping = Tag(suffix="tag:yaml.org,2002:seq"), Tag(suffix="tag:yaml.org,2002:map")
    for tag in (null, merge, other, string, seq, mapping):  # kept alive by the class
        TAG_TEXTS[id(tag)] = str(tag)

    known: dict[str, Any] = {"<<": merge, **dict.fromkeys(NULLS, null)}

    class FastResolver(VersionedResolver):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                if not implicit[0]:
                    return string
                tag = known.get(value)
                if tag is None:
                    tag = other if NON_STRING.match(value) else string
                    if len(known) < 100_000:
                        known[value] = tag
                return tag
            return seq if kind is SequenceNode else mapping if kind is MappingNode else string

    return FastResolver


@lru_cache(maxsize=1)
def _c_loader() -> Any:
    """The C parser+composer with the fast resolver, as one class made once
    (``YAML.compose_all`` builds a new class per call: costly per document)."""
    try:
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - clib missing
        return None
    resolver = _resolver_class()

    class Loader(CParser, resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            resolver.__init__(self, loadumper=self)
            # The composer calls these for every node; with no path resolvers
            # (the engine adds none) ruamel's return at once. C callables that
            # do nothing either skip a Python call per node.
            self.descend_resolver: Any = {}.get  # (parent, index) -> index
            self.ascend_resolver = tuple  # () -> ()

    return Loader


def _composed(text: str) -> list[Any]:
    loader_class = _c_loader()
    if loader_class is None:  # pragma: no cover - clib missing
        return [doc for doc in _yaml().compose_all(text) if doc is not None]
    loader = loader_class(text)
    try:
        docs = []
        while loader.check_node():
            doc = loader.get_node()
            if doc is not None:
                docs.append(doc)
        return docs
    finally:
        loader.dispose()
        vars(loader).clear()  # the resolver's references to itself: cycles that kept
        # every parser and its C buffers alive until a garbage collection


def compose_all(text: str) -> list[Any]:
    """Compose every document of ``text`` (BOM already removed) into node trees:
    the C composer first, the pure (YAML 1.2) one for a text it rejects; when
    both reject it, the C composer's error is raised."""
    from ruamel.yaml.error import MarkedYAMLError

    from promoter.manifests import depth

    deep = depth.too_deep(text)  # the C composer would crash on it
    if deep is not None:
        raise BadYaml(depth.MESSAGE, deep)
    try:
        return _compose(text, False)
    except MarkedYAMLError as exc:
        first = bad_yaml(text, exc)
    except BadYaml as exc:
        first = exc
    try:
        return _compose(text, True)
    except (MarkedYAMLError, BadYaml):
        raise first from None  # both refuse: the C composer's words, as before


def _compose(text: str, pure: bool) -> list[Any]:
    import warnings

    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ReusedAnchorWarning: legal in YAML 1.2
            if not pure:
                return _composed(text)
            return [doc for doc in _yaml(True).compose_all(text) if doc is not None]
    except MarkedYAMLError:
        raise
    except (YAMLError, ValueError, RecursionError) as exc:
        raise BadYaml(f"invalid YAML: {type(exc).__name__}") from None


def bad_yaml(text: str, exc: Any) -> BadYaml:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 0
    reason = str(exc.problem or exc.context)
    if "duplicate anchor" in str(exc.context) and mark is not None:
        anchor = (text[mark.index :].split(None, 1) or ["?"])[0]
        reason = f"anchor {anchor} defined twice"
    return BadYaml(f"invalid YAML: {reason}", line)
