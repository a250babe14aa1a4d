#!/usr/bin/env bash
# Installs Python packages for tests, idempotently, each into its own cache folder:
#   scripts/py-deps.sh NAME...   ->   $CACHE/py-NAME (with a .complete marker when installed)
# A NAME may carry a pip version specifier (tensorboard==2.20.0); the folder is named after the
# bare name (an installed folder is kept whatever version is asked later: remove it to change).
# Prints, on stdout, the PYTHONPATH that holds every NAME (folders joined by ':').
# A second run only checks the markers. Exits non-zero, saying why, when pip cannot install one.
#
# Environment:
#   TCH_KERAS_CACHE  cache folder (default: ${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras)
#   PYTHON           the interpreter whose pip installs (default: python3)
set -euo pipefail

CACHE=${TCH_KERAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras}
PYTHON=${PYTHON:-python3}

say() { printf 'py-deps: %s\n' "$*" >&2; }
die() { printf 'py-deps: error: %s\n' "$*" >&2; exit 1; }

[ $# -gt 0 ] || die "usage: scripts/py-deps.sh NAME[==VERSION]..."

# ensure_pip: gets pip for $PYTHON, through Debian's python3-pip when we may.
ensure_pip() {
    "$PYTHON" -m pip --version >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian's python3-pip"
        apt-get update -qq >/dev/null && apt-get install -y -qq python3-pip >/dev/null && return 0
    fi
    die "$PYTHON has no pip: install python3-pip and run this again"
}

paths=()
for spec in "$@"; do
    [[ $spec =~ ^[A-Za-z0-9._-]+([\<\>=!~]=?[A-Za-z0-9._*+!-]+)?$ ]] ||
        die "'$spec' is not a package name with an optional version (such as tensorboard==2.21.0)"
    name=${spec%%[=<>!~]*}
    target=$CACHE/py-$name
    if [ ! -f "$target/.complete" ]; then
        command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install python3"
        ensure_pip
        say "installing $spec into $target (once)"
        mkdir -p "$CACHE"
        # One installer at a time per package, so tests running in parallel do not collide.
        exec 9>"$CACHE/.py-$name.lock"
        flock 9
        if [ ! -f "$target/.complete" ]; then
            rm -rf "$target.partial"
            "$PYTHON" -m pip install --quiet --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
                --target "$target.partial" "$spec" >&2 ||
                { rm -rf "$target.partial"; die "pip could not install $spec; check network access to PyPI"; }
            rm -rf "$target"
            mv "$target.partial" "$target"
            touch "$target/.complete"
        fi
        exec 9>&-
    fi
    paths+=("$target")
done
(IFS=:; printf '%s\n' "${paths[*]}")
