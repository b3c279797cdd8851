"""pyHanko's AdES validation (as `pyhanko sign adesverify`: REQUIRE_REVINFO for every
certificate) with online fetching turned off: the file's own validation data must do.
The CLI fetches whenever a certificate names an OCSP or CRL URL, and a failed fetch hides
the file's data, so it cannot say whether the file alone suffices.

Usage: pyhanko_local.py ROOT.pem FILE.pdf — one line per signature:
`<field>:<ades indication>:<subindication>`; exit 1 unless all passed."""

import asyncio
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

root = load_cert_from_pemder(sys.argv[1])
spec = PdfSignatureValidationSpec(
    SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=[root]),
            revinfo_policy=CertRevTrustPolicy(
                REQUIRE_REVINFO,
                freshness=None,
                freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
            ),
        ),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
        ),
    )
)
ok = True
with open(sys.argv[2], "rb") as f:
    reader = PdfFileReader(f)
    for sig in reader.embedded_regular_signatures:
        result = asyncio.run(ades_lta_validation(sig, spec))
        indication = result.ades_subindic.status.name
        print(f"{sig.field_name}:{indication}:{result.ades_subindic.name}")
        ok &= indication == "PASSED"
sys.exit(0 if ok else 1)
