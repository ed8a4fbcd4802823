"""The Kubernetes adapter: with ``promoter.verify.kube_connect`` (the client and
its errors) the only module that imports ``kubernetes`` (lazily, when
verifying). One thread per target lists the object, then watches it from
the list's resourceVersion; a dropped watch is re-established from the last
resourceVersion seen, a 410 Gone relists. SDK errors stay here: 401/403 become
AuthError; a 404 on the list or watch (the collection, not one object: a missing
object lists as empty) means the cluster does not serve the resource type, a
VerifyFailed; the rest a waiting reason while the thread retries with backoff.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from promoter.errors import AuthError, InputError, PromoterError, Unreachable, VerifyFailed
from promoter.retry import RECONNECT, Clock
from promoter.verify.argocd import SYNC_OPERATION, needs_sync
from promoter.verify.kube_connect import CONNECT_SECONDS, translate
from promoter.verify.watch import UNREACHABLE_SECONDS, Follower, Sink, reconnect_wait

WATCH_SECONDS = 60  # longest watch; then relist (sooner within a short settle window)
STALL_GRACE = 2.0  # a watch silent this long past its server-side timeout has stalled


def not_served(resource: tuple[str, str, str]) -> VerifyFailed:
    """The error for a resource type the cluster does not serve (CRD not installed)."""
    from promoter.verify.kinds import provider as provider_of

    group, version, plural = resource
    provider = provider_of(group, plural)
    hint = f"is {provider} installed?" if provider else "is its CRD installed?"
    name = f"{plural}.{group}" if group else plural
    return VerifyFailed(f"the cluster does not serve {name}/{version}; {hint}")


class KubeSource(Follower):
    """Follows one namespaced object with list + watch.

    The watch lasts at most ``relist`` seconds (server side, and a client read
    timeout a little longer): then the object is listed again and judged, so a
    watch that stalls silently (connection open, no events, no bookmarks) is
    noticed within that time. A broken connection is reported (the verdict
    turns to "not observing") and followed by a relist. ``stop`` ends the
    thread and joins it: nothing runs into interpreter shutdown."""

    def __init__(self, api_client: Any, resource: tuple[str, str, str], namespace: str,
                 name: str, refresh: dict[str, str] | None = None,
                 relist: float = WATCH_SECONDS, sync: bool = False,
                 enrich: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 clock: Clock | None = None) -> None:
        from kubernetes import client

        self.clock = clock or Clock()  # a test's clock: its sleep is the reconnect wait
        self.pause: Callable[[float], object] = clock.sleep if clock else self.stopped_wait

        self.api = client.CustomObjectsApi(api_client)
        self.group, self.version, self.plural = resource
        self.namespace, self.name, self.refresh = namespace, name, refresh
        self.sync = sync  # Argo CD: set a sync operation once, when the app needs one
        self.enrich = enrich or (lambda obj: obj)  # adds what the rule needs besides obj
        self.what = f"{self.plural} {namespace}/{name}"
        self.doing = "listing"  # the request under way, as a refusal names it
        self.server = str(getattr(api_client.configuration, "host", "") or "")
        self.relist = max(1, int(relist))
        self.stopped = threading.Event()
        self.watch: Any = None
        self.thread: threading.Thread | None = None

    def interrupt(self) -> None:
        """Shut a blocked watch's socket down."""
        if self.watch is not None:
            self.watch.stop()

    def _run(self, index: int, sink: Sink) -> None:
        failures, rv = 0, None
        since: float | None = self.clock.now()  # None once the API server answered
        while not self.stopped.is_set():
            try:
                if self.refresh:
                    self._annotate({"metadata": {"annotations": self.refresh}})
                    self.refresh = None
                if rv is None:
                    rv = self._list(index, sink)
                    failures, since = 0, None
                self._watch(index, sink, rv)
                rv = None  # relist after every watch: judge the object as listed now
            except Exception as exc:  # SDK and connection errors, translated
                if self.stopped.is_set():
                    return
                rv, error = None, self._error(exc, since)
                sink(index, error)
                if isinstance(error, (AuthError, InputError, VerifyFailed, Unreachable)):
                    return
                failures += 1
                self.pause(self._delay(failures, since))

    def stopped_wait(self, seconds: float) -> None:
        self.stopped.wait(seconds)

    def _delay(self, failures: int, since: float | None) -> float:
        return reconnect_wait(RECONNECT.delay(failures), since, self.clock.now())

    def _error(self, exc: Exception, since: float | None) -> PromoterError:
        status = getattr(exc, "status", None)
        if status == 404:
            return not_served((self.group, self.version, self.plural))
        error = translate(exc, f"{self.doing} {self.what}", self.server)
        never = since is not None and getattr(exc, "status", None) is None
        if never and since is not None and self.clock.now() - since >= UNREACHABLE_SECONDS:
            return Unreachable(f"{error.message}; check --kubeconfig/--context and that the "
                               "cluster is reachable from here")
        return error

    def _selector(self) -> dict[str, Any]:
        return {"field_selector": f"metadata.name={self.name}"}

    def _list(self, index: int, sink: Sink) -> str:
        self.doing = "listing"
        listed: Any = self.api.list_namespaced_custom_object(
            self.group, self.version, self.namespace, self.plural,
            _request_timeout=(CONNECT_SECONDS, self.relist + STALL_GRACE), **self._selector())
        items = listed.get("items") or []
        if items and self.sync and needs_sync(items[0]):
            self._annotate(SYNC_OPERATION)  # the Argo CD controller runs .operation
        self.sync = False
        sink(index, self.enrich(items[0]) if items else None)
        return str(listed["metadata"]["resourceVersion"])

    def _watch(self, index: int, sink: Sink, rv: str) -> str | None:
        """Watch from ``rv`` for at most ``relist`` seconds; the last
        resourceVersion seen, or None after 410 Gone."""
        from kubernetes import watch

        make: Any = watch.Watch
        self.doing = "watching"
        self.watch = make()
        if self.stopped.is_set():
            return rv
        stream = self.watch.stream(
            self.api.list_namespaced_custom_object, self.group, self.version, self.namespace,
            self.plural, resource_version=rv, timeout_seconds=self.relist,
            allow_watch_bookmarks=True,
            _request_timeout=(CONNECT_SECONDS, self.relist + STALL_GRACE),
            **self._selector())
        for event in stream:
            obj = event.get("raw_object") or {}
            if event["type"] == "ERROR":
                if obj.get("code") == 410:
                    return None
                raise PromoterError(f"watch error on {self.what}: {obj.get('message')}")
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
            if event["type"] in ("ADDED", "MODIFIED"):
                sink(index, self.enrich(obj))
            elif event["type"] == "DELETED":
                sink(index, None)
            if self.stopped.is_set():
                break
        return rv

    def _annotate(self, patch: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        self.doing = "patching"
        try:
            self.api.patch_namespaced_custom_object(
                self.group, self.version, self.namespace, self.plural, self.name, patch,
                _content_type="application/merge-patch+json",
                _request_timeout=(CONNECT_SECONDS, 30))
        except ApiException as exc:
            if exc.status != 404:  # absent: nothing to refresh; the watch reports it
                raise


def _raw_list(api_client: Any, kind: str, namespace: str, labels: dict[str, str]) -> list[Any]:
    """ReplicaSets or Pods matching ``labels``, as plain dicts (not SDK models).
    An error names this request (a 403: the verb, resource and namespace RBAC
    refused), not the workload it was made for."""
    from kubernetes import client

    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    options: dict[str, Any] = {"label_selector": selector, "_preload_content": False,
                               "_request_timeout": (CONNECT_SECONDS, 30)}
    try:
        response: Any = (
            client.CoreV1Api(api_client).list_namespaced_pod(namespace, **options)
            if kind == "pods"
            else client.AppsV1Api(api_client).list_namespaced_replica_set(namespace, **options))
    except Exception as exc:  # SDK and connection errors
        server = str(getattr(api_client.configuration, "host", "") or "")
        raise translate(exc, f"listing {kind} in namespace {namespace}", server) from exc
    return list(json.loads(response.data).get("items") or [])


def _referenced(api_client: Any, obj: dict[str, Any]) -> dict[str, Any]:
    """A Rollout with ``spec.workloadRef`` and the Deployment (or ReplicaSet)
    it names, read after it (None: not found); any other object as it is. A
    refusal names the request (getting deployments NS/NAME)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from promoter.verify.pods import REFERENCED
    from promoter.verify.rollout_ref import followed

    where = followed(obj)
    if where is None:
        return obj
    try:
        plural, namespace, name = where
        found: Any = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
            "apps", "v1", namespace, plural, name, _request_timeout=(CONNECT_SECONDS, 30))
    except Exception as exc:  # SDK and connection errors; a 404 is an object not found
        if not isinstance(exc, ApiException) or exc.status != 404:
            server = str(getattr(api_client.configuration, "host", "") or "")
            raise translate(exc, f"getting {plural} {namespace}/{name}", server) from exc
        found = None
    return {**obj, REFERENCED: found}


def with_pods(api_client: Any,
              read_pods: bool = True) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An enricher attaching the Deployment a Rollout's ``spec.workloadRef``
    names and (with ``read_pods``) the Pods of a workload's newest revision (for
    the image check on containerStatuses; none when that revision is unknown)."""
    from promoter.verify.pods import PODS, new_pods_labels

    def enrich(obj: dict[str, Any]) -> dict[str, Any]:
        obj = _referenced(api_client, obj)
        if not read_pods:
            return obj
        namespace = str((obj.get("metadata") or {}).get("namespace") or "")
        labels = dict(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
        wanted = new_pods_labels(obj, lambda: _raw_list(api_client, "replicasets", namespace,
                                                         labels))
        pods = _raw_list(api_client, "pods", namespace, wanted) if wanted else []
        return {**obj, PODS: pods}

    return enrich


def with_workload_health(api_client: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An enricher for Argo CD 3.x apps, whose ``status.resources`` carry no
    health: the health of their workloads, judged from the workloads themselves."""
    from kubernetes import client

    from promoter.verify.argocd import fill_health
    from promoter.verify.workloads import WORKLOADS, workload_health

    api = client.CustomObjectsApi(api_client)

    def health(res: dict[str, Any]) -> dict[str, Any] | None:
        workload = WORKLOADS.get(str(res.get("kind")))
        if workload is None:
            return None
        try:
            obj: Any = api.get_namespaced_custom_object(
                str(res.get("group") or ""), str(res.get("version") or "v1"),
                str(res.get("namespace")), workload.resource.plural, str(res.get("name")),
                _request_timeout=(CONNECT_SECONDS, 30))
            obj = _referenced(api_client, obj)
        except Exception:  # unreadable: no health for it (the app's own health still counts)
            return None
        return {**res, "health": workload_health(obj)}

    def enrich(obj: dict[str, Any]) -> dict[str, Any]:
        resources = list((obj.get("status") or {}).get("resources") or ())
        fill_health(obj, lambda: [h for res in resources if (h := health(res))])
        return obj

    return enrich

