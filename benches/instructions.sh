#!/usr/bin/env bash
# The server's work per HTTP request in instructions (callgrind), beside the RSA-2048
# signatures it makes in the same run: a measurement that a busy or drifting machine does not
# move, for comparing two builds where wall-clock runs vary by ±10 %. Not a test.
#
# A fresh dev-mode `kyso serve` runs under callgrind in a temporary folder; after 20 requests
# of warm-up its counters are zeroed, then N requests are sent one at a time on one keep-alive
# connection: B-B signing of load.py's small PDF (`sign`) or birth extracts sealed by the
# agency (`issue`, the body of `issue_body.py`). Printed: instructions per request, and the share of
# them spent in RSA_sign, the limit of either (one signature per `sign`, two per `issue`).
# valgrind offers no AVX-512, so OpenSSL takes its AVX2 path: RSA costs more instructions
# than on the real CPU and the share reads higher than the time share would.
#
#   cargo build --release
#   bash benches/instructions.sh target/release/kyso sign [N]
#   bash benches/instructions.sh target/release/kyso issue [N]
set -euo pipefail
repo=$(realpath "$(dirname "$0")/..")
kyso=$(realpath "${1:?usage: instructions.sh KYSO sign|issue [N]}")
what=${2:?usage: instructions.sh KYSO sign|issue [N]}
n=${3:-100}
work=$(mktemp -d)
cd "$work"
export KYSO_BIND=127.0.0.1:18090 KYSO_PUBLIC_BASE_URL=http://127.0.0.1:18090
export KYSO_ARCHIVE__REFRESH=false
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$kyso" serve >server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; cd /; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
  curl -sf http://127.0.0.1:18090/healthz >/dev/null && break
  sleep 0.5
done
key=$("$kyso" apikey create --role admin 2>/dev/null)
python3 - "$repo/benches" "$what" "$n" "$key" <<'PY'
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
import issue_body
import load
what, n, key = sys.argv[2], int(sys.argv[3]), sys.argv[4]
signers = json.load(open("certs/dev/manifest.json"))["signers"]
pin = {s["id"]: s["pin"] for s in signers}
url = "http://127.0.0.1:18090"
if what == "sign":
    ctype, body = load.multipart({"signer": "99001-chair", "pin": pin["99001-chair"],
                                  "level": "B-B"}, load.minimal_pdf())
    request, expect = load.request(url, "/api/v1/sign", key, ctype, body), 200
else:
    body = json.dumps(issue_body.body(), ensure_ascii=False).encode()
    request = load.request(url, "/api/v1/extracts", key, "application/json", body)
    expect = 201
conn = load.Conn(url, request)

def one():
    conn.send()
    while (answer := conn.response()) is None:
        conn.buf += conn.sock.recv(1 << 20)
    if answer[0] != expect:
        raise SystemExit(f"HTTP {answer[0]}: {answer[1][:300]!r}")

for _ in range(20):
    one()
subprocess.run(["callgrind_control", "--zero"], check=True, capture_output=True)
for _ in range(n):
    one()
subprocess.run(["callgrind_control", "--dump"], check=True, capture_output=True)
PY
kill "$server"
wait "$server" 2>/dev/null || true
# The dump taken after the N requests (the one at exit, cg.out, holds only the shutdown).
dump=$work/cg.out.1
total=$(awk '/^(summary|totals):/ && !seen {print $2; seen = 1}' "$dump")
rsa=$(callgrind_annotate --inclusive=yes "$dump" 2>/dev/null |
  awk '/:RSA_sign \[/ && !seen {gsub(",", "", $1); print $1; seen = 1}')
python3 - "$what" "$n" "$total" "${rsa:-0}" <<'PY'
import sys
what, n, total, rsa = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"{what}: {total / n / 1e6:.2f} M instructions per request ({n} requests), "
      f"RSA_sign {rsa / total:.3f} of them")
PY
