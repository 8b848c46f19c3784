#!/usr/bin/env bash
# Test what ships: pack the tarball (npm pack builds it through "prepack"), lint it with publint and
# @arethetypeswrong/cli, then install it into throwaway consumer projects beside Express 5 and Express 4 from
# the npm registry and run, against each: a CommonJS `require` app, an ES module `import` app, and two
# TypeScript `strict` apps (CommonJS and nodenext ESM) typing `req.user` through the documented augmentation.
# Every app starts the kit, logs in over HTTP and calls a protected route (scripts/package-consumers/). Then
# runs the installed `express-simplejwt` command through npx, without the optional drivers, and `jwksUri` with and
# without the optional peer jwks-rsa. Then each app of examples/ is copied out, given the tarball in place of its
# "file:../.." dependency, installed, started with `npm start` and driven over HTTP (scripts/check-example.mjs).
#
# Usage: npm run test:package        KEEP_PACKAGE_TEST=1 keeps the temporary directory for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/express-simplejwt-package.XXXXXX")
cleanup() {
  if [ "${KEEP_PACKAGE_TEST:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
tsc=(node "$root/node_modules/typescript/bin/tsc")

step() { printf '\n== %s (%ds)\n' "$1" $((SECONDS - started)); }
fail() { echo "FAIL: $*" >&2; exit 1; }

step 'npm pack (prepack runs the build)'
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "npm pack"; }
tarball=$(ls "$work"/express-simplejwt-*.tgz)
files=$(tar -tzf "$tarball" | sed 's|^package/||' | sort)
for required in package.json README.md LICENSE CHANGELOG.md SECURITY.md docs/options.md dist/cjs/index.js dist/cjs/index.d.ts dist/esm/index.mjs dist/esm/index.d.mts dist/cjs/testing/index.js dist/esm/testing.mjs dist/cjs/openapi.js dist/esm/openapi.mjs lib/cli/bin.cjs dist/cjs/cli/index.js; do
  grep -qx "$required" <<<"$files" || fail "the tarball lacks $required"
done
stray=$(grep -vE '^(package\.json|README\.md|LICENSE|CHANGELOG\.md|SECURITY\.md|docs/[a-z-]+\.(md|py)|lib/cli/bin\.cjs|dist/.*)$' <<<"$files" || true)
[ -z "$stray" ] || fail "the tarball holds files outside dist/ and the documents: $stray"
echo "$(wc -l <<<"$files") files, $(du -k "$tarball" | cut -f1) kB: $(basename "$tarball")"

step publint
publint_out=$(npx --no-install publint run "$tarball" 2>&1) || { echo "$publint_out"; fail 'publint'; }
echo "$publint_out"
if grep -qE '^(Errors|Warnings|Suggestions):' <<<"$publint_out"; then fail 'publint reported something'; fi

step 'are the types wrong (attw)'
npx --no-install attw "$tarball" --no-color --format table-flipped || fail 'attw'

step 'install the consumers (Express 5 and 4) and the examples, in parallel'
pids=()
examples=()
for src in examples/*/; do
  name=$(basename "$src")
  examples+=("$name")
  dir="$work/examples/$name"
  mkdir -p "$dir"
  (cd "$src" && tar --exclude=node_modules --exclude=package-lock.json --exclude='*.sqlite3*' -cf - .) | (cd "$dir" && tar -xf -)
  # What a user does outside this repository: depend on the published package (here, the tarball). The SQLite
  # driver is linked from this repository, already compiled (building it again takes minutes on a small runner).
  node -e '
    const [file, tarball, root] = process.argv.slice(1);
    const pkg = JSON.parse(require("fs").readFileSync(file, "utf8"));
    if (pkg.dependencies["express-simplejwt"] !== "file:../..") throw new Error(file + ": express-simplejwt must be file:../..");
    pkg.dependencies["express-simplejwt"] = "file:" + tarball;
    if (pkg.dependencies["better-sqlite3"]) pkg.dependencies["better-sqlite3"] = "file:" + root + "/node_modules/better-sqlite3";
    require("fs").writeFileSync(file, JSON.stringify(pkg, null, 2));
  ' "$dir/package.json" "$tarball" "$root"
  ignore_scripts=()
  grep -q better-sqlite3 "$dir/package.json" && ignore_scripts=(--ignore-scripts)
  (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "${ignore_scripts[@]}" >"$dir/install.log" 2>&1) &
  pids+=($!)
done
for major in 5 4; do
  dir="$work/express$major"
  mkdir -p "$dir"
  cp scripts/package-consumers/* "$dir/"
  cat >"$dir/package.json" <<EOF
{
  "name": "consumer-express$major",
  "version": "0.0.0",
  "private": true,
  "dependencies": {
    "@types/express": "^$major",
    "@types/node": "^20",
    "express": "^$major",
    "express-simplejwt": "file:$tarball"$([ "$major" = 5 ] && printf ',\n    "jwks-rsa": "^4.1.0"')
  }
}
EOF
  (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --loglevel=error >"$dir/install.log" 2>&1) &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { cat "$work"/express*/install.log "$work"/examples/*/install.log; fail 'npm install of a consumer or an example'; }
done

run() { # run <label> <command...>: a consumer app must finish, green, within a minute
  local label=$1
  shift
  timeout 60 "$@" || fail "$label"
}
for major in 5 4; do
  step "consumers on Express $major"
  cd "$work/express$major"
  for peer in @node-rs/argon2 @node-rs/bcrypt better-sqlite3 ioredis rate-limit-redis; do
    [ ! -e "node_modules/$peer" ] || fail "the optional peer $peer should not be installed here"
  done
  run "CommonJS, Express $major" node cjs.cjs
  run "ESM, Express $major" node esm.mjs
  run "conformance suite with node:test, Express $major" node --test --test-reporter=dot conformance.mjs
  run "tsc CommonJS, Express $major" "${tsc[@]}" -p tsconfig.cjs.json
  run "TypeScript CommonJS, Express $major" node app-cjs.js
  run "tsc ESM, Express $major" "${tsc[@]}" -p tsconfig.esm.json
  run "TypeScript ESM, Express $major" node app-esm.mjs
  run "jwksUri, Express $major" node jwks.cjs # Express 5's consumer has jwks-rsa (current major), Express 4's none
  cd "$root"
done

step 'the express-simplejwt command, installed'
cd "$work/express5"
cli() { timeout 30 npx --no-install express-simplejwt "$@"; }
version=$(node -p 'require("express-simplejwt/package.json").version')
[ "$(cli --version)" = "$version" ] || fail "express-simplejwt --version does not print $version"
# (Outputs are captured before grep: `grep -q` closing a pipe early would fail the pipeline under pipefail.)
out=$(cli --help) && grep -q 'flush-expired' <<<"$out" || fail "express-simplejwt --help: $out"
out=$(cli flush-expired --help) && grep -q -- '--timeout <seconds>' <<<"$out" || fail "flush-expired --help: $out"
out=$(cli generate-secret) && grep -qE '^[A-Za-z0-9_-]{86}$' <<<"$out" || fail "generate-secret: $out"
vector=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs
out=$(echo not_secret | cli inspect "$vector" --secret -) && grep -q 'signature: valid (HS256' <<<"$out" || fail "inspect --secret -: $out"
# The optional drivers are not installed here: one clear error each, exit 1, no stack trace.
for store in sqlite:./tokens.sqlite3 redis://127.0.0.1:1/0; do
  set +e
  out=$(cli flush-expired --store "$store" 2>&1)
  code=$?
  set -e
  [ "$code" = 1 ] || fail "flush-expired --store $store exited $code: $out"
  grep -qE 'needs the optional package (better-sqlite3|ioredis), which is not installed: npm install ' <<<"$out" || fail "flush-expired --store $store: $out"
  ! grep -qE '^\s+at ' <<<"$out" || fail "flush-expired --store $store printed a stack trace"
done
echo "express-simplejwt $version: --version, --help, generate-secret, inspect, flush-expired without drivers"
cd "$root"
step "examples (${examples[*]})"
for name in "${examples[@]}"; do
  dir="$work/examples/$name"
  [ -L "$dir/node_modules/express-simplejwt" ] && fail "$name: express-simplejwt is a link, not the installed tarball"
  flags=()
  # A persistent store (SQLite, Redis, Redis Cluster, PostgreSQL) is also checked to keep a logout across a
  # restart of the app; the server-backed ones get a throwaway server (three joined nodes for the cluster one).
  secret=JWT_SECRET=example-test-secret-0123456789-abcdefghijkl
  if grep -q '"better-sqlite3"' "$dir/package.json"; then flags=(--restart "$secret")
  elif grep -qs 'REDIS_CLUSTER_NODES' "$dir"/server.*; then flags=(--with-redis-cluster --restart "$secret")
  elif grep -q '"ioredis"' "$dir/package.json"; then flags=(--with-redis --restart "$secret")
  elif grep -q '"pg"' "$dir/package.json"; then flags=(--with-postgres --restart "$secret")
  fi
  timeout 180 node scripts/check-example.mjs "$dir" DB_PATH="$dir/example.sqlite3" "${flags[@]}" || fail "example $name"
  if grep -q '"typecheck"' "$dir/package.json"; then
    (cd "$dir" && timeout 60 npm run --silent typecheck) || fail "example $name: npm run typecheck"
    echo "ok  example $name: npm run typecheck"
  fi
done

step 'package test passed'
