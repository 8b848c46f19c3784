#!/usr/bin/env bash
# Test what ships: pack the tarball (npm pack builds it through "prepack"), lint it with publint and
# @arethetypeswrong/cli, then install it into throwaway consumer projects beside Express 5 and Express 4 from
# the npm registry and run, against each: a CommonJS `require` app, an ES module `import` app, and two
# TypeScript `strict` apps (CommonJS and nodenext ESM) typing `req.user` through the documented augmentation.
# Every app starts the kit, logs in over HTTP and calls a protected route (scripts/package-consumers/).
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
for required in package.json README.md LICENSE CHANGELOG.md SECURITY.md docs/options.md dist/cjs/index.js dist/cjs/index.d.ts dist/esm/index.mjs dist/esm/index.d.mts dist/cjs/testing/index.js dist/esm/testing.mjs; do
  grep -qx "$required" <<<"$files" || fail "the tarball lacks $required"
done
stray=$(grep -vE '^(package\.json|README\.md|LICENSE|CHANGELOG\.md|SECURITY\.md|docs/[a-z-]+\.md|dist/.*)$' <<<"$files" || true)
[ -z "$stray" ] || fail "the tarball holds files outside dist/: $stray"
echo "$(wc -l <<<"$files") files, $(du -k "$tarball" | cut -f1) kB: $(basename "$tarball")"

step publint
publint_out=$(npx --no-install publint run "$tarball" 2>&1) || { echo "$publint_out"; fail 'publint'; }
echo "$publint_out"
if grep -qE '^(Errors|Warnings|Suggestions):' <<<"$publint_out"; then fail 'publint reported something'; fi

step 'are the types wrong (attw)'
npx --no-install attw "$tarball" --no-color --format table-flipped || fail 'attw'

step 'install the consumers (Express 5 and 4, in parallel)'
pids=()
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
    "express-simplejwt": "file:$tarball"
  }
}
EOF
  (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --loglevel=error >"$dir/install.log" 2>&1) &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { cat "$work"/express*/install.log; fail 'npm install of a consumer'; }
done

run() { # run <label> <command...>: a consumer app must finish, green, within a minute
  local label=$1
  shift
  timeout 60 "$@" || fail "$label"
}
for major in 5 4; do
  step "consumers on Express $major"
  cd "$work/express$major"
  [ ! -e node_modules/@node-rs/argon2 ] || fail 'the optional peer @node-rs/argon2 should not be installed here'
  run "CommonJS, Express $major" node cjs.cjs
  run "ESM, Express $major" node esm.mjs
  run "conformance suite with node:test, Express $major" node --test --test-reporter=dot conformance.mjs
  run "tsc CommonJS, Express $major" "${tsc[@]}" -p tsconfig.cjs.json
  run "TypeScript CommonJS, Express $major" node app-cjs.js
  run "tsc ESM, Express $major" "${tsc[@]}" -p tsconfig.esm.json
  run "TypeScript ESM, Express $major" node app-esm.mjs
  cd "$root"
done

step 'package test passed'
