#!/usr/bin/env bash
# `kyso verify` of one small signed PDF against poppler's pdfsig on the same file with the
# same trust root (issue 10: ≤ 0.5 × pdfsig's time per small file). Both are whole processes,
# as a person runs them; every figure is a ratio taken in the same run:
#   - instructions (callgrind, one run each): robust to other load on the machine;
#   - CPU time (perf stat -e task-clock, RUNS runs each, interleaved);
#   - wall time (hyperfine, RUNS runs each).
# Not a test: a measurement.
#
#   cargo build --release
#   bash benches/verify_small.sh target/release/kyso [RUNS]
#
# The PDF is README's one-page "Hello, kyso" signed B-B by the dev PKI's chair of 99001,
# verified in dev mode (the dev root and its CRL); pdfsig is given the same root through a
# fresh NSS database. Both work offline from the same files: kyso with revocation fetching
# off, pdfsig with `-no-ocsp` and the dev CRLs imported (without OCSP, NSS wants a CRL for
# every certificate, else "Unknown issue with Certificate").
set -euo pipefail
kyso=$(realpath "${1:?usage: verify_small.sh KYSO [RUNS]}")
runs=${2:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export KYSO_REVOCATION__FETCH=false
"$kyso" pki dev-init >/dev/null 2>&1
python3 - <<'PY'
content = b"BT /F1 24 Tf 72 760 Td (Hello, kyso) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)]
out, offsets = bytearray(b"%PDF-1.7\n"), []
for i, o in enumerate(objs, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open("in.pdf", "wb").write(out)
PY
python3 -c 'import json; print(next(s["pin"] for s in json.load(open("certs/dev/manifest.json"))["signers"] if s["id"] == "99001-chair"))' |
  "$kyso" sign in.pdf signed.pdf --signer 99001-chair 2>/dev/null
root=$(python3 -c 'import json; print(json.load(open("certs/dev/manifest.json"))["root"])')
mkdir nssdb
certutil -N -d sql:nssdb --empty-password
certutil -A -d sql:nssdb -n "kyso dev root" -t CT,C,C -i "certs/dev/$root"
for crl in certs/dev/crl/*.crl; do crlutil -I -d sql:nssdb -B -i "$crl"; done

kyso_cmd=("$kyso" verify signed.pdf)
pdfsig_cmd=(pdfsig -no-ocsp -nssdir sql:nssdb signed.pdf)
# Both must accept the file: a failure would be a finding, not a measurement.
"${kyso_cmd[@]}" >kyso.out 2>&1 || { cat kyso.out >&2; echo "kyso verify failed" >&2; exit 1; }
"${pdfsig_cmd[@]}" >pdfsig.out 2>&1 || { cat pdfsig.out >&2; echo "pdfsig failed" >&2; exit 1; }
grep -q "Signature is Valid" pdfsig.out && grep -q "Certificate is Trusted" pdfsig.out ||
  { cat pdfsig.out >&2; echo "pdfsig does not find the signature valid and trusted" >&2; exit 1; }
echo "signed.pdf: $(stat -c %s signed.pdf) bytes; $runs runs each"

instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$@" >/dev/null 2>"$work/cg.err"
  awk '/^summary:/ {print $2}' "$work/cg.out"
}
ki=$(instructions "${kyso_cmd[@]}")
pi=$(instructions "${pdfsig_cmd[@]}")

# task-clock, interleaved so that a change of load falls on both alike.
kt=0 pt=0
for _ in $(seq "$runs"); do
  for name in kyso pdfsig; do
    cmd="${name}_cmd[@]"
    ms=$(perf stat -x, -e task-clock "${!cmd}" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
    if [ "$name" = kyso ]; then kt=$(echo "$kt + $ms" | bc -l); else pt=$(echo "$pt + $ms" | bc -l); fi
  done
done

hyperfine -N --warmup 3 --runs "$runs" --export-json hf.json \
  -n kyso "${kyso_cmd[*]}" -n pdfsig "${pdfsig_cmd[*]}" >/dev/null
python3 - "$ki" "$pi" "$kt" "$pt" "$runs" <<'PY'
import json, sys
ki, pi, kt, pt, runs = (float(a) for a in sys.argv[1:])
wall = {r["command"]: r["mean"] * 1000 for r in json.load(open("hf.json"))["results"]}
print(f"{'':26}{'kyso verify':>14}{'pdfsig':>14}{'ratio':>9}")
print(f"{'instructions (callgrind)':26}{ki / 1e6:>12.1f} M{pi / 1e6:>12.1f} M{ki / pi:>9.2f}")
print(f"{'CPU time (task-clock)':26}{kt / runs:>11.2f} ms{pt / runs:>11.2f} ms{kt / pt:>9.2f}")
print(f"{'wall time (hyperfine)':26}{wall['kyso']:>11.2f} ms{wall['pdfsig']:>11.2f} ms{wall['kyso'] / wall['pdfsig']:>9.2f}")
PY
