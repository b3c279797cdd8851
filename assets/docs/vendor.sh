#!/usr/bin/env bash
# Re-creates rapidoc-min.js from the npm registry: RapiDoc 9.3.8 (MIT), the viewer behind
# `/docs`. Two edits make it fetch nothing from elsewhere: its Open Sans faces point at the
# local font instead of Google Fonts (the page sets `load-fonts="false"` anyway), and the
# source-map comment goes (the map is not served).
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent rapidoc@9.3.8 >/dev/null)
echo "8e1f447a8e78f13149e108929f0c4c41d81637d6  $work/rapidoc-9.3.8.tgz" | sha1sum -c --quiet
tar xzf "$work/rapidoc-9.3.8.tgz" -C "$work"
sed -e "s#url(https://fonts.gstatic.com/s/opensans/v18/[A-Za-z0-9_-]*\.woff2) format('woff2')#local('Open Sans')#g" \
    -e '/^\/\/# sourceMappingURL=/d' \
    "$work/package/dist/rapidoc-min.js" >rapidoc-min.js
cp "$work/package/LICENSE.txt" LICENSE-rapidoc.txt
cp "$work/package/dist/rapidoc-min.js.LICENSE.txt" rapidoc-min.js.LICENSE.txt
