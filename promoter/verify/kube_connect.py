"""Reaching the Kubernetes API (kubernetes imported lazily, only here and in
``promoter.verify.kube``): an ApiClient from a kubeconfig, loaded within the
verification's timeout and refused when its server URL carries credentials;
SDK and connection errors translated into promoter's own, redacted.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from promoter import logs
from promoter.errors import AuthError, InputError, PromoterError, WaitTimeout

CONNECT_SECONDS = 5.0


def connect(kubeconfig: str | None, context: str | None, timeout: float | None = None,
            limit: str = "--timeout", total: float | None = None) -> Any:
    """An ApiClient from a kubeconfig file (or in-cluster config), loaded within
    ``timeout`` seconds, the time left of ``total`` (WaitTimeout, naming
    ``limit``, the setting of ``total``): the client runs a kubeconfig's exec
    credential plugin (or an auth provider's refresh) with no time limit of its
    own. A plugin still running then is left to end by itself."""
    done: dict[str, Any] = {}

    def load() -> None:
        try:
            done["api"] = _connect(kubeconfig, context)
        except BaseException as exc:  # re-raised in the caller's thread
            done["error"] = exc

    thread = threading.Thread(target=load, daemon=True, name="verify-kubeconfig")
    thread.start()
    thread.join(timeout or None)
    if thread.is_alive():
        # the setting as the user wrote it, not the time that was left of it
        raise WaitTimeout(f"loading kubeconfig {kubeconfig or '~/.kube/config'}: its exec "
                          f"credential plugin or auth provider had not answered when {limit} "
                          f"({total or timeout:g}s) ran out; check it (can it log in without "
                          f"a terminal or browser?) or raise {limit}")
    if "error" in done:
        raise done["error"]
    return done["api"]


def _load(kubeconfig: str | None, context: str | None, configuration: Any) -> None:
    """The client's kubeconfig load; AuthError when its exec credential plugin
    gave no credentials. The client logs such a failure on the root logger
    (``logging.error`` in kube_config.py) and carries on without credentials:
    ``logs.kept`` keeps that record (printed nowhere) for the error. The
    client runs the plugin again when the token it gave is about to expire
    (``refresh_api_key_hook``, before a request): a failure then is the same
    error, raised before the request (as client-go does), not the API
    server's 401 for the expired token."""
    from kubernetes import config

    where = os.path.dirname(config.__file__) + os.sep
    with logs.kept(where) as log:
        load: Any = config.load_kube_config
        load(config_file=kubeconfig, context=context, client_configuration=configuration)
    _raise_plugin_failure(log, kubeconfig)
    refresh = configuration.refresh_api_key_hook
    if refresh is None:
        return

    def refreshed(current: Any) -> None:
        with logs.kept(where) as log:
            refresh(current)
        current.refresh_api_key_hook = refreshed  # the client sets its own again
        _raise_plugin_failure(log, kubeconfig)
        remember_credentials(current)  # a new token from the plugin

    configuration.refresh_api_key_hook = refreshed


def _raise_plugin_failure(log: logs.Kept, kubeconfig: str | None) -> None:
    """AuthError when the client logged a failure in this thread (redacted)."""
    failure = log.seen.pop(threading.get_ident(), None)
    if failure is None:
        return
    from promoter.http_safety import redacted

    raise redacted(AuthError(
        f"kubeconfig {kubeconfig or '~/.kube/config'}: its exec credential plugin gave no "
        f"credentials ({failure[:300]}); check that it is installed and can log in here "
        "(users[].user.exec in the kubeconfig)"))


def _connect(kubeconfig: str | None, context: str | None) -> Any:
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    check_server(kubeconfig, context)  # before the load runs any exec plugin
    try:
        configuration = client.Configuration()
        try:
            _load(kubeconfig, context, configuration)
        except ConfigException:
            if kubeconfig or context:
                raise
            incluster: Any = config.load_incluster_config
            incluster(client_configuration=configuration)
    except (ConfigException, OSError) as exc:
        raise InputError(f"cannot load kubeconfig {kubeconfig or '~/.kube/config'}"
                         f"{f' context {context}' if context else ''}: {exc}; "
                         "pass --kubeconfig/--context") from exc
    refuse_credentials(kubeconfig, str(configuration.host or ""))  # in-cluster, or as loaded
    remember_credentials(configuration)
    from urllib3.util.retry import Retry

    # urllib3 would follow a redirect to any origin (the request, and the judging of
    # whatever answers there): follow none; _translate refuses the 3xx (exit 2)
    configuration.retries = Retry(3, redirect=0, raise_on_redirect=False)
    return client.ApiClient(configuration)


def remember_credentials(configuration: Any) -> None:
    """The configuration's tokens: redacted everywhere (``http_safety``)."""
    from promoter import http_safety

    for value in (getattr(configuration, "api_key", None) or {}).values():
        http_safety.remember(*http_safety.header_secrets(str(value)))


def check_server(kubeconfig: str | None, context: str | None) -> None:
    """InputError when the server URL of the kubeconfig's context carries
    credentials, read from the file alone: no exec credential plugin or auth
    provider runs, so this is safe before any request (``promote --verify``
    checks it before the clone). A kubeconfig that is missing or unreadable, or
    no kubernetes client installed, is nothing to refuse here: loading it
    reports that, when a target needs the cluster at all."""
    try:
        from kubernetes.config import kube_config
    except ModuleNotFoundError:
        return
    try:
        paths = kubeconfig or kube_config.KUBE_CONFIG_DEFAULT_LOCATION  # $KUBECONFIG, as kubectl
        merger: Any = kube_config.KubeConfigMerger  # untyped
        config = merger(paths).config
        name = context or config["current-context"]
        cluster = config["contexts"].get_with_name(name)["context"]["cluster"]
        server = str(config["clusters"].get_with_name(cluster)["cluster"]["server"])
    except Exception:  # anything unreadable: the load says what is wrong with it
        return
    refuse_credentials(kubeconfig, server)


def refuse_credentials(kubeconfig: str | None, server: str) -> None:
    """InputError when the kubeconfig's ``server`` URL carries credentials
    (``remote.refuse_credentials``); the message masks them."""
    from promoter import remote

    remote.refuse_credentials(
        remote.parse(server), f"kubeconfig {kubeconfig or '~/.kube/config'}: server",
        "give them as the kubeconfig user's token, client certificate or exec plugin")


def translate(exc: Exception, what: str, server: str = "") -> PromoterError:
    """An SDK or connection error as promoter's own (server text redacted)."""
    from promoter.http_safety import redacted

    return redacted(_translate(exc, what, server))


def _translate(exc: Exception, what: str, server: str) -> PromoterError:
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, PromoterError):
        return exc
    if isinstance(exc, ApiException) and 300 <= int(exc.status or 0) < 400:
        location = (exc.headers or {}).get("Location") or "another location"
        return InputError(f"the Kubernetes API{f' at {server}' if server else ''} answered {what}"
                          f" with a redirect ({exc.status}) to {location}; promoter follows no"
                          " redirect from the Kubernetes API, so nothing goes elsewhere: point"
                          " the kubeconfig's server at the API server itself")
    if isinstance(exc, ApiException) and exc.status in (401, 403):
        word = "authentication" if exc.status == 401 else "permission"
        return AuthError(f"Kubernetes API refused {what} ({exc.status} {exc.reason}); check the "
                         f"kubeconfig's credentials and RBAC ({word})")
    if isinstance(exc, ApiException):
        return PromoterError(f"Kubernetes API error on {what}: {exc.status} {exc.reason}")
    where = f" at {server}" if server else ""
    return PromoterError(f"cannot reach the Kubernetes API{where} for {what}: {cause(exc)}")


def cause(exc: BaseException) -> str:
    """The innermost reason of a connection error, in words (not ``MaxRetryError``)."""
    inner: BaseException = exc
    while True:
        nxt = getattr(inner, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    text = str(inner)
    for words in ("Connection refused", "timed out", "Name or service not known",
                  "certificate verify failed", "No route to host", "Connection reset"):
        if words.lower() in text.lower():
            return words.lower()
    return text.rpartition(": ")[2][:200] or type(inner).__name__
