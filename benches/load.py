#!/usr/bin/env python3
"""HTTP load on a running kyso (release build), every figure as a ratio to its limit.

    python3 benches/load.py --url http://127.0.0.1:8080 --key KEY --signer 99001-chair --pin PIN
        [--url2 http://127.0.0.1:8081]  # a second instance on the same PostgreSQL
        [--seconds 10] [--connections 8] [--pdf FILE]

Measured in the same run:
- the raw RSA-2048 signing rate of this machine on all its cores (`openssl speed -multi`),
  the limit of HTTP signing (each B-B signature is one RSA signature);
- HTTP signing (B-B, invisible, keep-alive connections), as signatures/s and as a ratio to it;
  with --url2, half the connections on each instance;
- HTTP verification of the signed file (server time per file: 1 / rate), beside the time per
  file of pdfsig (a process per file) and pyHanko (in one interpreter,
  `benches/pyhanko_validate.py`, with --root);
- issuing (birth extracts, official + agency: two signatures each), as a ratio to half the raw
  rate (the two-signature ceiling), with --issue-body naming a JSON body.

Beside each figure: the CPU time per request of the kyso servers and of PostgreSQL (from /proc),
which share the cores with the load.

Standard library only. The client is one thread multiplexing its connections with selectors
and sending prebuilt requests, so it costs little of the cores it shares with the server; its
own CPU time is printed beside the figures.
"""

import argparse
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid


def raw_rsa_rate(seconds):
    """RSA-2048 signatures/s on all cores, from `openssl speed -multi N rsa2048`."""
    cores = os.cpu_count() or 1
    out = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), "-multi", str(cores), "rsa2048"],
        capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)", line)
        if m:
            return float(m.group(1))
    raise SystemExit("no rsa2048 figure in openssl speed's output:\n" + out)


def multipart(fields, file_bytes):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f'{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="in.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode())
    parts.append(file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def request(url, path, key, content_type, body):
    host = urllib.parse.urlsplit(url).netloc
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class Conn:
    def __init__(self, url, payload):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.payload = payload
        self.buf = b""
        self.sent_at = 0.0

    def send(self):
        self.buf = b""
        self.sent_at = time.perf_counter()
        self.sock.sendall(self.payload)

    def response(self):
        """(status, body) once a whole response arrived, else None."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode("latin-1")
        length = int(re.search(r"(?im)^content-length:\s*(\d+)", head).group(1))
        if len(self.buf) < end + 4 + length:
            return None
        return int(head.split()[1]), self.buf[end + 4:end + 4 + length]


def cpu_seconds(name):
    """CPU time (user and system) so far of the processes called `name`, from /proc (Linux)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                comm, rest = f.read().split(" (", 1)[1].rsplit(") ", 1)
        except OSError:  # ended meanwhile
            continue
        if comm == name:
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def load(targets, seconds, expect=200):
    """Keeps every connection busy for `seconds`: (completed requests/s, one answer body, the
    client's CPU share, and the CPU time per request of the kyso servers and of PostgreSQL)."""
    sel = selectors.DefaultSelector()
    conns = [Conn(url, payload) for url, payload in targets]
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
        c.send()
    servers0 = {name: cpu_seconds(name) for name in SERVERS}
    done, sample, cpu0 = 0, None, time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        for key, _ in sel.select(timeout=deadline - now):
            c = key.data
            chunk = c.sock.recv(1 << 20)
            if not chunk:
                raise SystemExit("the server closed a connection")
            c.buf += chunk
            answer = c.response()
            if answer is None:
                continue
            status, body = answer
            if status != expect:
                raise SystemExit(f"HTTP {status}: {body[:300]!r}")
            done += 1
            sample = body
            c.send()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    servers = {name: (cpu_seconds(name) - servers0[name]) / max(done, 1) for name in SERVERS}
    for c in conns:
        c.sock.close()
    return done / elapsed, sample, cpu / elapsed, servers


# Whose CPU time `load` reports per request: kyso's (`target/release/kyso`), and PostgreSQL's,
# which shares the cores.
SERVERS = ("kyso", "postgres")


def cpu_note(client_cpu, servers):
    """The client's CPU share and the servers' CPU time per request, for a figure's line."""
    spent = ", ".join(f"{name} {t * 1000:.2f} ms" for name, t in servers.items() if t > 0)
    return f"client used {client_cpu:.2f} core; CPU per request: {spent}"


def per_file(command, runs=20):
    """Median wall time of one run of `command`."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--url2", help="a second instance on the same database")
    ap.add_argument("--key", required=True)
    ap.add_argument("--signer", default="99001-chair")
    ap.add_argument("--pin", required=True)
    ap.add_argument("--pdf", help="the PDF to sign (default: a generated one-page PDF)")
    ap.add_argument("--root", help="the trust anchor (PEM) pyHanko validates against")
    ap.add_argument("--issue-body", help="a JSON body for POST /api/v1/extracts")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()

    urls = [args.url] + ([args.url2] if args.url2 else [])
    pdf = open(args.pdf, "rb").read() if args.pdf else minimal_pdf()
    raw = raw_rsa_rate(3)
    print(f"raw RSA-2048 (openssl speed -multi {os.cpu_count()}): {raw:.0f} signatures/s")

    ctype, body = multipart({"signer": args.signer, "pin": args.pin, "level": "B-B"}, pdf)
    sign_req = lambda url: request(url, "/api/v1/sign", args.key, ctype, body)  # noqa: E731
    targets = [(urls[i % len(urls)], sign_req(urls[i % len(urls)]))
               for i in range(args.connections)]
    load(targets, 2)  # warm up (keys unlocked, connections pooled)
    rate, signed, client_cpu, servers = load(targets, args.seconds)
    print(f"HTTP sign B-B ({len(pdf)} B PDF, {args.connections} connections, "
          f"{len(urls)} instance(s)): {rate:.0f}/s = {rate / raw:.3f} of raw RSA "
          f"({cpu_note(client_cpu, servers)})")

    ctype_v, body_v = multipart({}, signed)
    # No more than the server's verification slots (`security.max_concurrent_verifications`,
    # default 4, per instance): beyond them it answers 503.
    verify_targets = [(urls[i % len(urls)],
                       request(urls[i % len(urls)], "/api/v1/verify", args.key, ctype_v, body_v))
                      for i in range(min(args.connections, 4 * len(urls)))]
    rate_v, _, client_cpu, _ = load(verify_targets, args.seconds)
    signed_path = "/tmp/kyso-load-signed.pdf"
    open(signed_path, "wb").write(signed)
    pdfsig = per_file(["pdfsig", signed_path])
    line = (f"HTTP verify: {rate_v:.0f}/s = {1 / rate_v * 1000:.2f} ms per file of server time "
            f"(client used {client_cpu:.2f} core); pdfsig {pdfsig * 1000:.1f} ms per file "
            f"(ratio {1 / rate_v / pdfsig:.3f})")
    if args.root:
        venv = os.path.join(os.path.dirname(__file__), "..", ".venv-validators", "bin", "python")
        out = subprocess.run([venv, os.path.join(os.path.dirname(__file__), "pyhanko_validate.py"),
                              signed_path, args.root, "20"],
                             capture_output=True, text=True, check=True).stdout
        pyhanko = float(out.split()[0])
        line += f"; pyHanko {pyhanko * 1000:.1f} ms per file (ratio {1 / rate_v / pyhanko:.3f})"
    print(line)

    if args.issue_body:
        issue_body = json.load(open(args.issue_body))
        reqs = []
        for i in range(args.connections):
            url = urls[i % len(urls)]
            raw_body = json.dumps(issue_body).encode()
            reqs.append((url, request(url, "/api/v1/extracts", args.key, "application/json",
                                      raw_body)))
        rate_i, _, client_cpu, servers = load(reqs, args.seconds, expect=201)
        print(f"HTTP issue (two signatures each): {rate_i:.1f}/s = {rate_i / (raw / 2):.3f} of "
              f"the two-signature ceiling ({cpu_note(client_cpu, servers)})")


def minimal_pdf():
    """A one-page PDF with a classic cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"]
    text = b"BT /F1 12 Tf 72 770 Td (kyso load) Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
    out = b"%PDF-1.7\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


if __name__ == "__main__":
    sys.exit(main())
