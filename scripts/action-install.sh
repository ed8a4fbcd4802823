#!/usr/bin/env bash
# The GitHub Action's install of promoter (action.yml runs this; bash on Linux,
# macOS and Windows runners).
#
#   action-install.sh plan      before actions/cache: Python, venv path, what to
#                               install, and the cache key (outputs)
#   action-install.sh install   after it: reuse the cached venv, or install with
#                               uv when it is on PATH (pip otherwise)
#
# It never fails the step: a problem becomes the output `error`, and the run
# step turns it into operation=failed, error=... and an ::error:: annotation.
# Env: ACTION_VERSION, ACTION_PYTHON, ACTION_EXTRAS, ACTION_FORGE,
# ACTION_REPOSITORY, ACTION_COMMAND, ACTION_VERIFY (plan); PLAN_ERROR, PLAN_PYTHON, PLAN_VENV,
# PLAN_SOURCE, PLAN_CONSTRAINTS, ACTION_CACHE_HIT (install); pip's PIP_INDEX_URL,
# PIP_EXTRA_INDEX_URL, PIP_NO_INDEX, PIP_FIND_LINKS are passed to uv as well.
set -uo pipefail

out() { printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"; }
stop() { echo "promoter install: $1"; out error "$1"; exit 0; }
digest() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi | cut -c1-16; }

bindir() { if [ -d "$1/Scripts" ]; then echo "$1/Scripts"; else echo "$1/bin"; fi; }

source_digest() {
  # what pip would build from the action's own directory
  (cd "$GITHUB_ACTION_PATH" && find promoter pyproject.toml constraints.txt .git_archival.txt \
      -type f ! -name '*.pyc' 2>/dev/null | LC_ALL=C sort | while IFS= read -r f; do
        printf '%s\n' "$f"; cat "$f"; done) | digest
}

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
  case "${ACTION_COMMAND:-}" in update|diff) forge=local ;; esac
  case "$forge" in github|gitlab) list+=("$forge") ;; esac
  if [ "${ACTION_COMMAND:-}" = verify ] || [ "${ACTION_VERIFY:-}" = true ]; then list+=(kube); fi
  local IFS=,
  echo "${list[*]:-}"
}

plan() {
  local python="${ACTION_PYTHON:-}" about minor full exe temp venv version source constraints ident
  local wanted path
  wanted="$(extras)" ||
    stop "extras: '${ACTION_EXTRAS:-}' is not a comma-separated list of github, gitlab, kube, all (or none)"
  if [ -z "$python" ]; then
    python="$(command -v python3 || command -v python)" ||
      stop "no python3 on PATH; set setup-python: true or install Python 3.10+"
  fi
  about="$("$python" -c 'import platform, sys; print("%d.%d" % sys.version_info[:2], platform.python_version(), sys.executable)' 2>&1)" ||
    stop "$python does not run: $about"
  read -r minor full exe <<< "$about"
  case "$minor" in 3.[0-9]|2.*)
    stop "promoter needs Python 3.10 or later, $python is $full; set python-version: \"3.12\" (with setup-python: true)" ;;
  esac
  temp="$RUNNER_TEMP"
  if command -v cygpath >/dev/null; then temp="$(cygpath -u "$RUNNER_TEMP")"; fi
  venv="$temp/promoter-venv"
  if [ -n "${ACTION_VERSION:-}" ]; then
    version="${ACTION_VERSION#v}"
    [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+((a|b|rc)[0-9]+)?$ ]] ||
      stop "version: '$ACTION_VERSION' is not a promoter release such as 1.2.3; leave it empty to install the action's own release"
    source="promoter${wanted:+[$wanted]}==$version" constraints="" ident="$version"
  else
    path="$GITHUB_ACTION_PATH"
    if command -v cygpath >/dev/null; then path="$(cygpath -m "$path")"; fi
    case "$path" in /*) ;; *) path="/$path" ;; esac  # C:/... on Windows
    source="promoter${wanted:+[$wanted]} @ file://${path// /%20}"
    constraints="$GITHUB_ACTION_PATH/constraints.txt"
    [ -f "$constraints" ] || constraints=""
    ident="src-$(source_digest)"
  fi
  ident="$ident-${wanted:-none}"
  ident="${ident//,/+}"
  out python "$python"
  out venv "$venv"
  out source "$source"
  out constraints "$constraints"
  # Not the venv's path: RUNNER_TEMP may differ between runs (it does under act),
  # and the run step starts `python -m promoter`, which works from any path.
  out key "promoter-$ident-${RUNNER_OS:-os}-${RUNNER_ARCH:-arch}-py$full-$(printf '%s' "$exe" | digest)"
  echo "promoter install: $source for Python $full ($minor) into $venv"
  echo "promoter install: extras ${wanted:-none} (inputs forge, repository, command, verify; or extras)"
}

uv_index_args() {
  # pip's settings, as the README documents them for mirrors and air-gapped runners
  if [ -n "${PIP_INDEX_URL:-}" ]; then printf '%s\n' --index-url "$PIP_INDEX_URL"; fi
  for url in ${PIP_EXTRA_INDEX_URL:-}; do printf '%s\n' --extra-index-url "$url"; done
  case "${PIP_NO_INDEX:-}" in ""|0|false|no|off) ;; *) printf '%s\n' --no-index ;; esac
  for dir in ${PIP_FIND_LINKS:-}; do printf '%s\n' --find-links "$dir"; done
}

install() {
  if [ -n "${PLAN_ERROR:-}" ]; then exit 0; fi
  local venv="$PLAN_VENV" bin log installer version args=() index=()
  bin="$(bindir "$venv")"
  if [ "${ACTION_CACHE_HIT:-}" = "true" ] && version="$("$bin/python" -m promoter --version 2>&1)"; then
    echo "promoter install: cached, $version"
    out python "$bin/python"
    exit 0
  fi
  rm -rf "$venv"
  if [ -n "$PLAN_CONSTRAINTS" ]; then args+=(--constraint "$PLAN_CONSTRAINTS"); fi
  log="$(mktemp)"
  echo "::group::install $PLAN_SOURCE"
  if command -v uv >/dev/null; then
    installer="uv"
    while IFS= read -r arg; do index+=("$arg"); done < <(uv_index_args)
    uv venv --quiet --python "$PLAN_PYTHON" "$venv" > "$log" 2>&1 &&
      bin="$(bindir "$venv")" &&
      uv pip install --quiet --python "$bin/python" ${index[@]+"${index[@]}"} \
        ${args[@]+"${args[@]}"} "$PLAN_SOURCE" >> "$log" 2>&1
  else
    installer="pip"
    "$PLAN_PYTHON" -m venv "$venv" > "$log" 2>&1 &&
      bin="$(bindir "$venv")" &&
      "$bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
        ${args[@]+"${args[@]}"} "$PLAN_SOURCE" >> "$log" 2>&1
  fi
  local status=$?
  cat "$log"
  echo "::endgroup::"
  if [ "$status" -ne 0 ]; then
    stop "$installer could not install $PLAN_SOURCE: $(grep -v '^\s*$' "$log" | tail -n 1 | tr -d '\r')"
  fi
  "$bin/python" -m promoter --version || stop "promoter does not run after the install into $venv"
  echo "promoter install: $installer"
  out python "$bin/python"
}

case "${1:-}" in
  plan) plan ;;
  install) install ;;
  *) echo "usage: $0 plan|install" >&2; exit 2 ;;
esac
