#!/usr/bin/env bash
# Peak memory of a running kyso under hostile PDFs (issue 9: "under 1 GiB resident
# throughout"). Not a timed test: it sends each file once to POST /api/v1/verify, prints the
# answer's status and time, and after all of them the server's peak resident set (VmHWM in
# /proc/PID/status), failing when it reached 1 GiB.
#
#   kyso serve &                      # or target/release/kyso serve, in dev mode
#   bash benches/memory_check.sh PID [http://127.0.0.1:8080]
#
# Files: test-artifacts/hostile/*.pdf (written by `cargo test --test api hostile::`) and three
# large ones generated here: 40 000 tiny objects, 5 000 /DocTimeStamp dictionaries over a 10 MB
# file, and a binary tree of 2^16 form fields.
set -euo pipefail
cd "$(dirname "$0")/.."
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
