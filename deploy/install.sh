#!/bin/sh
# Install review-bot into its own virtualenv: deploy/install.sh PREFIX [SOURCE]
# (the Containerfile runs exactly this; so can a host install under /opt/review-bot).
# PIP_ARGS adds pip options (e.g. an index or --no-deps).
set -eu
prefix=${1:?usage: install.sh PREFIX [SOURCE]}
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
python3 -m venv "$prefix"
# shellcheck disable=SC2086 # PIP_ARGS is a list of options
"$prefix/bin/pip" install --no-cache-dir --disable-pip-version-check -q ${PIP_ARGS:-} "$src"
"$prefix/bin/review-bot" --version
