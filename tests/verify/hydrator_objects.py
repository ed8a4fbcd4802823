"""Factories for Argo CD Applications with the source hydrator
(``spec.sourceHydrator``, ``status.sourceHydrator``): valid against the CRD, with
the status Argo CD's hydrator and controller would write."""

from __future__ import annotations

from typing import Any

from fakes import kube_api
from verify_objects import T0, T1, application, checked


def hydrate_operation(phase: str, dry: str | None = None, hydrated: str | None = None,
                      message: str = "", hydrate_to: str | None = None) -> dict[str, Any]:
    """``status.sourceHydrator.currentOperation`` as Argo CD's hydrator writes it: a
    Hydrating one has no SHAs yet; a Failed one its message and the dry SHA if resolved."""
    op: dict[str, Any] = {"phase": phase, "message": message, "startedAt": T0,
                          "sourceHydrator": source_hydrator(hydrate_to)}
    if phase != "Hydrating":
        op["finishedAt"] = T1
    op.update({k: v for k, v in (("drySHA", dry), ("hydratedSHA", hydrated)) if v})
    return op


def source_hydrator(hydrate_to: str | None = None) -> dict[str, Any]:
    """``spec.sourceHydrator``: dry source main:apps/api, hydrated to env/prod:api."""
    spec: dict[str, Any] = {
        "drySource": {"repoURL": "https://git.example/config", "targetRevision": "main",
                      "path": "apps/api"},
        "syncSource": {"targetBranch": "env/prod", "path": "api"}}
    if hydrate_to:
        spec["hydrateTo"] = {"targetBranch": hydrate_to}
    return spec


def hydrator_app(revision: str | None, *, current: dict[str, Any] | None = None,
                 last: tuple[str, str] | None = None, hydrate_to: str | None = None,
                 **app_args: Any) -> dict[str, Any]:
    """An Application with ``spec.sourceHydrator``: ``revision`` is the synced
    (hydrated) commit; ``current`` the hydration in ``currentOperation``; ``last``
    (drySHA, hydratedSHA) its ``lastSuccessfulOperation``. Valid against the CRD."""
    app = application(revision, **app_args)
    del app["spec"]["source"]
    app["spec"]["sourceHydrator"] = source_hydrator(hydrate_to)
    hydrator: dict[str, Any] = {}
    if current is not None:
        hydrator["currentOperation"] = current
    if last is not None:
        hydrator["lastSuccessfulOperation"] = {
            "drySHA": last[0], "hydratedSHA": last[1],
            "sourceHydrator": source_hydrator(hydrate_to)}
    if hydrator:
        app["status"]["sourceHydrator"] = hydrator
    checked(app)
    kube_api.validate(kube_api.resource_of_object(app), app)
    return app
