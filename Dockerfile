# promoter's container image: the CLI with git, run as a non-root user.
#
#   docker build -t promoter --build-arg VERSION=0.1.0 \
#     --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run --rm promoter demo
#
# VERSION is the release (the build context has no .git, so it also becomes
# promoter's own version); REVISION the commit; SOURCE the repository URL.
#
# The base is pinned by digest: the multi-platform index of
# python:3.12.14-slim-bookworm, cross-checked in independent public sources
# (tests/data/PROVENANCE.md, "Pins checked against public sources"), and
# pulled by that digest in CI (.github/workflows/ci.yml, job image). Dependabot (.github/dependabot.yml) proposes the next
# tag and digest as a pull request; it only reads a literal FROM line (no ARG).
# Another base with Python 3.10+ and /bin/sh: `buildah build --from IMAGE`, as
# the test suite (tests/ci/test_image.py) does, offline, on a local Debian base.
FROM python:3.12.14-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254

ARG VERSION=""
ARG REVISION=""
ARG SOURCE=https://github.com/<owner>/promoter
# pip settings for a mirror or an offline wheelhouse, e.g.
# --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/wheels (with a bind mount).
ARG PIP_INDEX_URL
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS

LABEL org.opencontainers.image.title="promoter" \
      org.opencontainers.image.description="GitOps image promotion: edit the tag or digest, open one PR/MR, verify the merged commit is live" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}"

COPY . /tmp/promoter-src
# git (promoter drives it) unless the base has it; promoter in its own venv,
# with the committed constraints when the source tree has them; a plain user.
RUN set -eu; \
    if ! command -v git >/dev/null; then \
      apt-get update -qq; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    python3 -m venv /opt/promoter; \
    constraints=""; \
    if [ -f /tmp/promoter-src/constraints.txt ]; then constraints=/tmp/promoter-src/constraints.txt; fi; \
    if [ -n "${VERSION}" ]; then export SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PROMOTER="${VERSION}"; fi; \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore \
      /opt/promoter/bin/python -m pip install --quiet ${constraints:+--constraint "$constraints"} "/tmp/promoter-src[all]"; \
    rm -rf /tmp/promoter-src; \
    useradd --uid 10001 --user-group --create-home --home-dir /home/promoter --shell /bin/sh promoter

ENV PATH=/opt/promoter/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /home/promoter
ENTRYPOINT ["promoter"]
CMD ["--help"]
