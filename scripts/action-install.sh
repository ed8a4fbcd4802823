#!/usr/bin/env bash
# The GitHub Action's install of promoter (action.yml runs this; bash on Linux,
# macOS and Windows runners).
#
#   action-install.sh plan      before actions/cache: Python, what to install,
#                               the key, and the venv directory named by the key;
#                               ready=true when that venv is already complete
#   action-install.sh install   after it: use the venv when its marker file holds
#                               the key, else install with uv when it is on PATH
#                               (pip otherwise)
#
# The venv lives under the runner's tool cache (RUNNER_TOOL_CACHE, which a
# self-hosted runner keeps between jobs; RUNNER_TEMP when there is none) in a
# directory named by the key: promoter source digest or release, extras, OS,
# arch, exact Python and its path. Another version, extras or Python is another
# directory, so a shared runner never runs another version's venv, and a key's
# venv is only used once its marker (.promoter-key, written last) holds the key.
# An install goes to a directory of its own and is renamed into place.
#
# It never fails the step: a problem becomes the output `error`, and the run
# step turns it into operation=failed, error=... and an ::error:: annotation.
# Env: ACTION_VERSION, ACTION_PYTHON, ACTION_EXTRAS, ACTION_FORGE,
# ACTION_REPOSITORY, ACTION_COMMAND, ACTION_VERIFY (plan); PLAN_ERROR, PLAN_PYTHON,
# PLAN_VENV, PLAN_KEY, PLAN_SOURCE, PLAN_CONSTRAINTS (install); pip's
# PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_NO_INDEX, PIP_FIND_LINKS are passed to
# uv as well.
set -uo pipefail

out() { printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"; }
stop() { echo "promoter install: $1"; out error "$1"; exit 0; }
bindir() { if [ -d "$1/Scripts" ]; then echo "$1/Scripts"; else echo "$1/bin"; fi; }

# One run of the interpreter: its version, path, a digest of the path, and a
# digest of what pip would build from the action's directory (argv[1], when the
# action installs its own source). Python 2 syntax too, to name an old Python.
PROBE='
import hashlib, os, platform, sys
def digest(data):
    return hashlib.sha256(data).hexdigest()[:16]
source = hashlib.sha256()
top = sys.argv[1] if len(sys.argv) > 1 else ""
if top:
    files = [f for f in ("pyproject.toml", "constraints.txt", ".git_archival.txt")
             if os.path.isfile(os.path.join(top, f))]
    for root, dirs, names in os.walk(os.path.join(top, "promoter")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(root, top).replace(os.sep, "/")
        files += [rel + "/" + n for n in names if not n.endswith(".pyc")]
    for name in sorted(files, key=lambda f: f.encode("utf-8")):
        source.update(name.encode("utf-8") + b"\n")
        with open(os.path.join(top, name), "rb") as handle:
            source.update(handle.read())
print("%d.%d %s %s %s %s" % (sys.version_info[0], sys.version_info[1],
      platform.python_version(), digest(sys.executable.encode("utf-8")),
      source.hexdigest()[:16], sys.executable))
'

extras() {
  # The SDK extras the inputs need (promoter/extras.py): the forge's, and kube to verify.
  if [ -n "${ACTION_EXTRAS:-}" ]; then
    local given="${ACTION_EXTRAS//[[:space:]]/}"
    [[ "$given" =~ ^(none|(github|gitlab|kube|all)(,(github|gitlab|kube|all))*)$ ]] || return 1
    if [ "$given" != none ]; then echo "$given"; fi
    return
  fi
  local forge="${ACTION_FORGE:-}" list=()
  if [ -z "$forge" ]; then
    case "${ACTION_REPOSITORY:-}" in
      /*|./*|../*|file://*|[A-Za-z]:[\\/]*) forge=local ;;
      *gitlab*) forge=gitlab ;;
      *) forge=github ;;  # empty (this repository), github.com, GitHub Enterprise, owner/name
    esac
  fi
  case "${ACTION_COMMAND:-}" in update|diff|verify) forge=local ;; esac  # no forge SDK
  case "$forge" in github|gitlab) list+=("$forge") ;; esac
  if [ "${ACTION_COMMAND:-}" = verify ] || [ "${ACTION_VERIFY:-}" = true ]; then list+=(kube); fi
  local IFS=,
  echo "${list[*]:-}"
}

plan() {
  local python="${ACTION_PYTHON:-}" about minor full exe_digest source_digest exe base venv
  local version source constraints ident wanted path key
  wanted="$(extras)" ||
    stop "extras: '${ACTION_EXTRAS:-}' is not a comma-separated list of github, gitlab, kube, all (or none)"
  if [ -z "$python" ]; then
    python="$(command -v python3 || command -v python)" ||
      stop "no python3 on PATH; set setup-python: true or install Python 3.10+"
  fi
  path="${GITHUB_ACTION_PATH:-}"
  if command -v cygpath >/dev/null; then path="$(cygpath -m "$path")"; fi
  if [ -n "${ACTION_VERSION:-}" ]; then path=""; fi  # a release: no source to digest
  about="$("$python" -c "$PROBE" ${path:+"$path"} 2>&1)" || stop "$python does not run: $about"
  read -r minor full exe_digest source_digest exe <<< "$about"
  case "$minor" in 3.[0-9]|2.*)
    stop "promoter needs Python 3.10 or later, $python is $full; set python-version: \"3.12\" (with setup-python: true)" ;;
  esac
  if [ -n "${ACTION_VERSION:-}" ]; then
    version="${ACTION_VERSION#v}"
    [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+((a|b|rc)[0-9]+)?$ ]] ||
      stop "version: '$ACTION_VERSION' is not a promoter release such as 1.2.3; leave it empty to install the action's own release"
    source="promoter${wanted:+[$wanted]}==$version" constraints="" ident="$version"
  else
    case "$path" in /*) ;; *) path="/$path" ;; esac  # C:/... on Windows
    source="promoter${wanted:+[$wanted]} @ file://${path// /%20}"
    constraints="$GITHUB_ACTION_PATH/constraints.txt"
    [ -f "$constraints" ] || constraints=""
    ident="src-$source_digest"
  fi
  ident="$ident-${wanted:-none}"
  ident="${ident//,/+}"
  key="promoter-$ident-${RUNNER_OS:-os}-${RUNNER_ARCH:-arch}-py$full-$exe_digest"
  base="${RUNNER_TOOL_CACHE:-}"
  if [ -z "$base" ] || ! mkdir -p "$base/promoter" 2>/dev/null; then base="$RUNNER_TEMP"; fi
  if command -v cygpath >/dev/null; then base="$(cygpath -u "$base")"; fi
  venv="$base/promoter/$key"
  out python "$python"
  out venv "$venv"
  out source "$source"
  out constraints "$constraints"
  out key "$key"
  if [ "$(cat "$venv/.promoter-key" 2>/dev/null)" = "$key" ]; then out ready true; fi
  echo "promoter install: $source for Python $full ($minor, $exe) into $venv"
  echo "promoter install: extras ${wanted:-none} (inputs forge, repository, command, verify; or extras)"
}

uv_index_args() {
  # pip's settings, as the README documents them for mirrors and air-gapped runners
  if [ -n "${PIP_INDEX_URL:-}" ]; then printf '%s\n' --index-url "$PIP_INDEX_URL"; fi
  for url in ${PIP_EXTRA_INDEX_URL:-}; do printf '%s\n' --extra-index-url "$url"; done
  case "${PIP_NO_INDEX:-}" in ""|0|false|no|off) ;; *) printf '%s\n' --no-index ;; esac
  for dir in ${PIP_FIND_LINKS:-}; do printf '%s\n' --find-links "$dir"; done
}

ready() {  # the venv at $1 is complete for the key
  [ "$(cat "$1/.promoter-key" 2>/dev/null)" = "$PLAN_KEY" ]
}

prune() {
  # kubernetes/aio is the asyncio copy of the client (half its files), which
  # promoter never imports; leaving it out halves what a cache hit unpacks.
  local dir
  for dir in "$1"/lib/python*/site-packages/kubernetes/aio "$1"/Lib/site-packages/kubernetes/aio; do
    if [ -d "$dir" ]; then rm -rf "$dir"; fi
  done
}

install() {
  if [ -n "${PLAN_ERROR:-}" ]; then exit 0; fi
  local venv="$PLAN_VENV" work bin log installer args=() index=()
  if ready "$venv"; then
    echo "promoter install: cached venv $PLAN_KEY"
    out python "$(bindir "$venv")/python"
    exit 0
  fi
  work="$venv.partial-$$"
  rm -rf "$work"
  mkdir -p "$(dirname "$work")"
  if [ -n "$PLAN_CONSTRAINTS" ]; then args+=(--constraint "$PLAN_CONSTRAINTS"); fi
  log="$(mktemp)"
  echo "::group::install $PLAN_SOURCE"
  if command -v uv >/dev/null; then
    installer="uv"
    while IFS= read -r arg; do index+=("$arg"); done < <(uv_index_args)
    uv venv --quiet --python "$PLAN_PYTHON" "$work" > "$log" 2>&1 &&
      bin="$(bindir "$work")" &&
      uv pip install --quiet --python "$bin/python" ${index[@]+"${index[@]}"} \
        ${args[@]+"${args[@]}"} "$PLAN_SOURCE" >> "$log" 2>&1
  else
    installer="pip"
    "$PLAN_PYTHON" -m venv "$work" > "$log" 2>&1 &&
      bin="$(bindir "$work")" &&
      "$bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
        ${args[@]+"${args[@]}"} "$PLAN_SOURCE" >> "$log" 2>&1
  fi
  local status=$?
  cat "$log"
  echo "::endgroup::"
  if [ "$status" -ne 0 ]; then
    rm -rf "$work"
    stop "$installer could not install $PLAN_SOURCE: $(grep -v '^\s*$' "$log" | tail -n 1 | tr -d '\r')"
  fi
  prune "$work"
  "$bin/python" -m promoter --version ||
    { rm -rf "$work"; stop "promoter does not run after the install into $work"; }
  printf '%s\n' "$PLAN_KEY" > "$work/.promoter-key"
  # Into place by one rename; a job of this runner that finished the same key
  # first wins (its venv may be running), and anything else there is replaced.
  if ! "$bin/python" -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$work" "$venv" 2>/dev/null; then
    if ready "$venv"; then rm -rf "$work"; else
      rm -rf "$venv" && mv "$work" "$venv" || stop "cannot move the venv into $venv"
    fi
  fi
  echo "promoter install: $installer"
  out python "$(bindir "$venv")/python"
}

case "${1:-}" in
  plan) plan ;;
  install) install ;;
  *) echo "usage: $0 plan|install" >&2; exit 2 ;;
esac
