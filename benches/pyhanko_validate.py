"""Mean time of one pyHanko validation of a signed PDF, over N runs in one interpreter.

usage: pyhanko_validate.py SIGNED.pdf ROOT.pem N   -> prints seconds per validation
(the pyHanko figure of benches/load.py; interpreter start and imports are not timed)
"""
import io
import sys
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

data = open(sys.argv[1], "rb").read()
root = load_cert_from_pemder(sys.argv[2])
runs = int(sys.argv[3])


def validate_once():
    reader = PdfFileReader(io.BytesIO(data))
    for sig in reader.embedded_signatures:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=[root]))
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()


validate_once()  # warm caches, as kyso's loop does
start = time.perf_counter()
for _ in range(runs):
    validate_once()
print((time.perf_counter() - start) / runs)
