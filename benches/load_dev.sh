#!/usr/bin/env bash
# benches/load.py against a fresh dev-mode kyso (release build) on SQLite or PostgreSQL: a new
# database and dev PKI in a temporary folder, an admin key, the PINs of 99001's chair (signing)
# and civil-status officer and agency (issuing a birth extract at B-B), then load.py's figures.
#
#   cargo build --release
#   bash benches/load_dev.sh sqlite [SECONDS]
#   bash benches/load_dev.sh postgres://postgres@127.0.0.1:5432 [SECONDS]   # database kyso_load
#   INSTANCES=2 bash benches/load_dev.sh postgres://postgres@127.0.0.1:5432   # two, one database
#
# The server listens on 127.0.0.1:18080 (a second one on :18081, same folder and database) and
# is stopped at the end; its log stays in the temporary folder until then. LOAD_ARGS passes
# further options to load.py.
set -euo pipefail
repo=$(realpath "$(dirname "$0")/..")
kyso=$repo/target/release/kyso
backend=${1:?usage: load_dev.sh sqlite|postgres://USER@HOST:PORT [SECONDS]}
seconds=${2:-10}
instances=${INSTANCES:-1}
if [ "$instances" = 2 ] && [ "$backend" = sqlite ]; then
  echo "two instances share a PostgreSQL database, not a SQLite file" >&2
  exit 2
fi
work=$(mktemp -d)
cd "$work"
export KYSO_BIND=127.0.0.1:18080 KYSO_PUBLIC_BASE_URL=http://127.0.0.1:18080
export KYSO_ARCHIVE__REFRESH=false
if [ "$backend" != sqlite ]; then
  psql -q "$backend/postgres" -c "DROP DATABASE IF EXISTS kyso_load" -c "CREATE DATABASE kyso_load"
  export KYSO_DATABASE_URL=$backend/kyso_load
fi
"$kyso" serve >server.log 2>&1 &
server=$!
servers=$server
trap 'kill $servers; wait $servers 2>/dev/null; cd /; rm -rf "$work"' EXIT
for _ in $(seq 1 240); do
  curl -sf http://127.0.0.1:18080/healthz >/dev/null && break
  sleep 0.5
done
second=()
if [ "$instances" = 2 ]; then
  # Started once the first has migrated the database and made the dev PKI.
  KYSO_BIND=127.0.0.1:18081 "$kyso" serve >server2.log 2>&1 &
  servers="$servers $!"
  for _ in $(seq 1 240); do
    curl -sf http://127.0.0.1:18081/healthz >/dev/null && break
    sleep 0.5
  done
  second=(--url2 http://127.0.0.1:18081)
fi
key=$("$kyso" apikey create --role admin 2>/dev/null)
python3 "$repo/benches/issue_body.py" >issue.json
pin=$(python3 -c 'import json; print(next(s["pin"] for s in json.load(open("certs/dev/manifest.json"))["signers"] if s["id"] == "99001-chair"))')
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
python3 "$repo/benches/load.py" --url http://127.0.0.1:18080 "${second[@]}" --key "$key" --pin "$pin" \
  --root certs/dev/root.pem --issue-body issue.json --seconds "$seconds" ${LOAD_ARGS:-}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
