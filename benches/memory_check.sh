#!/usr/bin/env bash
# Memory and time of kyso on large and hostile input. Not timed tests: measurements.
#
# 1. A 50 MB scan (img2pdf of a random-noise PNG), signed by kyso, verified by `kyso verify`
#    and by poppler's pdfsig (issue 10: ≤ 32 MiB resident, ≤ 1× pdfsig's time on 50 MB and
#    ≤ 0.5× per small file). Peak resident set from /usr/bin/time -v, times from hyperfine;
#    a second kyso binary (an older build) is measured in the same run when given.
#
#   cargo build --release
#   bash benches/memory_check.sh large target/release/kyso [OLD_KYSO]
#
# 2. A running kyso under hostile PDFs (issue 9: "under 1 GiB resident throughout"): each file
#    is sent once to POST /api/v1/verify, with the answer's status and time, and after all of
#    them the server's peak resident set (VmHWM in /proc/PID/status), failing at 1 GiB.
#
#   kyso serve &                      # or target/release/kyso serve, in dev mode
#   bash benches/memory_check.sh PID [http://127.0.0.1:8080]
#
# Files: test-artifacts/hostile/*.pdf (written by `cargo test --test api hostile::`) and three
# large ones generated here: 40 000 tiny objects, 5 000 /DocTimeStamp dictionaries over a 10 MB
# file, and a binary tree of 2^16 form fields.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = large ]; then
  kyso=$(realpath "${2:?usage: memory_check.sh large KYSO [OLD_KYSO]}")
  old=${3:+$(realpath "$3")}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # 4 096 × 4 096 RGB noise: a 48 MiB PNG that neither PNG nor Flate can shrink.
  python3 - "$work/noise.png" <<'PY'
import os, struct, sys, zlib
side = 4096
raw = b"".join(b"\0" + os.urandom(side * 3) for _ in range(side))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
  img2pdf "$work/noise.png" -o "$work/scan.pdf"
  # Signed in dev mode in the scratch folder (its own database and dev PKI).
  (cd "$work" && "$kyso" pki dev-init >/dev/null &&
    python3 -c 'import json; print(next(s["pin"] for s in json.load(open("certs/dev/manifest.json"))["signers"] if s["id"] == "99001-chair"))' |
    "$kyso" sign scan.pdf large.pdf --signer 99001-chair 2>/dev/null)
  # A small signed file: the first page of the same kind, 64 × 64.
  python3 - "$work/small.png" <<'PY'
import os, struct, sys, zlib
side = 64
raw = b"".join(b"\0" + os.urandom(side * 3) for _ in range(side))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
  img2pdf "$work/small.png" -o "$work/small-scan.pdf"
  (cd "$work" &&
    python3 -c 'import json; print(next(s["pin"] for s in json.load(open("certs/dev/manifest.json"))["signers"] if s["id"] == "99001-chair"))' |
    "$kyso" sign small-scan.pdf small.pdf --signer 99001-chair 2>/dev/null)
  # pdfsig checks integrity only here (-nocert): no NSS database to build.
  declare -A cmd=([kyso]="$kyso verify")
  [ -n "$old" ] && cmd[kyso-old]="$old verify"
  cmd[pdfsig]="pdfsig -nocert"
  echo "large.pdf: $(stat -c %s "$work/large.pdf") bytes; small.pdf: $(stat -c %s "$work/small.pdf") bytes"
  for name in kyso kyso-old pdfsig; do
    [ -n "${cmd[$name]:-}" ] || continue
    for file in large small; do
      # Exit 1 (a signature not intact) would be a finding, not a measurement.
      (cd "$work" && /usr/bin/time -v ${cmd[$name]} "$file.pdf" >"$work/out" 2>"$work/time") || {
        cat "$work/out" "$work/time" >&2; echo "$name $file.pdf failed" >&2; exit 1; }
      rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
      printf '%-9s %-10s peak resident set %6d KiB (%d MiB)\n' "$name" "$file.pdf" "$rss" $((rss / 1024))
    done
  done
  # The server: peak resident set after one upload of the large file to POST /api/v1/verify,
  # and in a fresh server after one POST /api/v1/sign of the unsigned 50 MB scan (B-B), the
  # signed answer included (issue 9: about one copy of an upload in memory at most).
  pin=$(cd "$work" && python3 -c 'import json; print(next(s["pin"] for s in json.load(open("certs/dev/manifest.json"))["signers"] if s["id"] == "99001-chair"))')
  for name in kyso kyso-old; do
    [ -n "${cmd[$name]:-}" ] || continue
    bin=${cmd[$name]% verify}
    key=$(cd "$work" && "$bin" apikey create --role admin 2>/dev/null)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd "$work" && KYSO_BIND=127.0.0.1:$port exec "$bin" serve >/dev/null 2>&1) &
    server=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    before=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
    status=$(curl -s -o "$work/signed-by-server.pdf" -w '%{http_code}' -H "Authorization: Bearer $key" \
      -F "file=@$work/scan.pdf;type=application/pdf" -F signer=99001-chair -F "pin=$pin" \
      "http://127.0.0.1:$port/api/v1/sign")
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
    kill "$server"; wait "$server" 2>/dev/null || true
    printf '%-9s serve, one %d MiB POST /api/v1/sign: HTTP %s (%d bytes back), resident %d MiB before, peak %d MiB\n' \
      "$name" $(($(stat -c %s "$work/scan.pdf") >> 20)) "$status" "$(stat -c %s "$work/signed-by-server.pdf")" \
      $((before / 1024)) $((peak / 1024))
  done
  for name in kyso kyso-old; do
    [ -n "${cmd[$name]:-}" ] || continue
    bin=${cmd[$name]% verify}
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd "$work" && KYSO_BIND=127.0.0.1:$port exec "$bin" serve >/dev/null 2>&1) &
    server=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    before=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
    status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/pdf' \
      --data-binary "@$work/large.pdf" "http://127.0.0.1:$port/api/v1/verify")
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
    kill "$server"; wait "$server" 2>/dev/null || true
    printf '%-9s serve, one %d MiB upload: HTTP %s, resident %d MiB before, peak %d MiB\n' \
      "$name" $(($(stat -c %s "$work/large.pdf") >> 20)) "$status" $((before / 1024)) $((peak / 1024))
  done
  for file in large small; do
    args=()
    for name in kyso kyso-old pdfsig; do
      [ -n "${cmd[$name]:-}" ] && args+=(-n "$name" "${cmd[$name]} $work/$file.pdf")
    done
    (cd "$work" && hyperfine -N --warmup 3 --runs 20 --export-json "$work/$file.json" "${args[@]}" >/dev/null)
    python3 - "$work/$file.json" "$file.pdf" <<'PY'
import json, sys
results = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
base = results["pdfsig"]
for name, mean in results.items():
    print(f"{name:9} {sys.argv[2]:10} {mean * 1000:8.2f} ms  = {mean / base:.2f} x pdfsig")
PY
  done
  exit 0
fi

pid=${1:?usage: memory_check.sh PID [BASE_URL]}
base=${2:-http://127.0.0.1:8080}
limit_kb=$((1024 * 1024))
[ -r "/proc/$pid/status" ] || { echo "no process $pid" >&2; exit 1; }
ls test-artifacts/hostile/*.pdf >/dev/null 2>&1 ||
  { echo "test-artifacts/hostile/ is empty: run cargo test --test api hostile:: first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import sys
out = sys.argv[1]

def write(name, bodies, root=1):
    """A PDF of (number, body) objects with a classic xref table."""
    parts, offsets, at = [b"%PDF-1.7\n"], {}, 9
    for num, body in bodies:
        chunk = b"%d 0 obj\n%s\nendobj\n" % (num, body)
        offsets[num] = at
        parts.append(chunk)
        at += len(chunk)
    size = max(offsets) + 1
    rows = [b"xref\n0 %d\n0000000000 65535 f \n" % size]
    rows += [b"%010d 00000 n \n" % offsets.get(i, 0) for i in range(1, size)]
    rows.append(b"trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, at))
    open(f"{out}/{name}", "wb").write(b"".join(parts + rows))

head = [(1, b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]>>>>"),
        (2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>"),
        (3, b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>")]
write("objects-40000.pdf", head[:3] + [(4, b"<<>>")] +
      [(i, b"<</N %d/A[1 2 3]>>" % i) for i in range(5, 40005)])
padding = b" " * (10 << 20)
write("timestamps-5000.pdf", head + [(4, b"<<>>"), (5, padding)] +
      [(i, b"<</Type/DocTimeStamp/SubFilter/ETSI.RFC3161/ByteRange[0 5000000 5000010 5000000]/Contents<00>>>")
       for i in range(6, 5006)])
fields = [(4 + i, b"<</T(f%d)/Kids[%d 0 R %d 0 R]>>" % (i, 4 + 2 * i + 1, 4 + 2 * i + 2))
          for i in range(2**16 - 1)]
leaves = [(4 + i, b"<</T(f%d)/FT/Sig>>" % i) for i in range(2**16 - 1, 2**17 - 1)]
write("field-tree.pdf", head + fields + leaves)
PY

for f in test-artifacts/hostile/*.pdf "$work"/*.pdf; do
  line=$(curl -s -o /dev/null -w '%{http_code} %{time_total}s' -X POST \
    -H 'Content-Type: application/pdf' --data-binary "@$f" "$base/api/v1/verify")
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  printf '%-34s %9d bytes  -> %s  (RSS now %d MiB)\n' "$(basename "$f")" "$(stat -c %s "$f")" "$line" $((rss / 1024))
done
curl -sf "$base/healthz" >/dev/null || { echo "the server no longer answers /healthz" >&2; exit 1; }
peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "peak resident set: $((peak / 1024)) MiB (limit $((limit_kb / 1024)) MiB)"
[ "$peak" -lt "$limit_kb" ] || { echo "over 1 GiB" >&2; exit 1; }
