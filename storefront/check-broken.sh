#!/usr/bin/env bash
# The type check has teeth: the storefront script with one field name misspelt (`status_url` ->
# `status_uri`, as a server-side rename would leave it) must fail tsc, naming that field.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf broken && mkdir broken
cp src/api.d.ts broken/api.d.ts
sed 's/accepted\.status_url/accepted.status_uri/' src/storefront.ts > broken/storefront.ts
grep -q 'status_uri' broken/storefront.ts
if output=$(npx tsc --noEmit --strict --target ES2022 --module ESNext --moduleResolution Bundler \
    --lib ES2022,DOM --skipLibCheck broken/storefront.ts 2>&1); then
  echo "typescript: a misspelt field passed tsc; the check would miss a breaking schema change" >&2
  exit 1
fi
grep -q "Property 'status_uri' does not exist" <<<"$output" || { echo "$output" >&2; exit 1; }
rm -rf broken
echo "typescript: a misspelt field fails tsc, as it should"
