"""pyHanko's ETSI EN 319 102-1 validation of every signature (as `pyhanko sign adesverify`:
REQUIRE_REVINFO for every certificate) with online fetching turned off: the file's own
validation data must do. The CLI fetches whenever a certificate names an OCSP or CRL URL, and
a failed fetch hides the file's data, so it cannot say whether the file alone suffices; it
also judges by pyHanko's own status rather than the AdES indication printed here.

The process follows the signature's form:
- a document timestamp after it (PAdES B-LTA): validation with long-term availability and
  integrity of validation material (§5.6.3, `ades_lta_validation`), the timestamps proving
  when the DSS data existed;
- none (B-T, B-LT): validation of signatures with time and with long-term validation
  material (§5.5, `ades_with_time_validation`), with the DSS as the validation data.
  `ades_lta_validation` is not the process for these: with no document timestamp it has no
  proof of existence for the certificates but "now", taken when first asked and so always
  later than its own control time, and its past signature validation answers NO_POE for
  every such file, however fresh its revocation data.

Usage: pyhanko_local.py ROOT.pem FILE.pdf — one line per signature:
`<field>:<process>:<ades indication>:<subindication>` (process `lta` or `with_time`), the
reason of a failure on stderr; exit 1 unless all passed."""

import asyncio
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from asn1crypto.crl import CertificateList
from asn1crypto.ocsp import OCSPResponse
from pyhanko.sign.validation.ades import ades_lta_validation, ades_with_time_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer


def spec(root, local_knowledge=None):
    extra = {} if local_knowledge is None else {"local_knowledge": local_knowledge}
    return SignatureValidationSpec(
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
        **extra,
    )


def dss_knowledge(reader):
    """The certificates, CRLs and OCSP answers of the file's DSS."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return LocalKnowledge()
    return LocalKnowledge(
        known_ocsps=[
            answer
            for stream in dss.ocsps
            for answer in OCSPContainer.load_multi(
                OCSPResponse.load(stream.get_object().data)
            )
        ],
        known_crls=[
            CRLContainer(CertificateList.load(stream.get_object().data))
            for stream in dss.crls
        ],
        known_certs=list(dss.load_certs()),
    )


async def validate(reader, sig, root):
    archived = any(
        other.sig_object.get("/Type") == "/DocTimeStamp"
        and other.signed_revision > sig.signed_revision
        for other in reader.embedded_signatures
    )
    if archived:
        result = await ades_lta_validation(sig, PdfSignatureValidationSpec(spec(root)))
        return "lta", result
    sig.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)
    result = await ades_with_time_validation(
        sig.signed_data,
        spec(root, dss_knowledge(reader)),
        raw_digest=sig.compute_digest(),
        extra_status_kwargs=sig.summarise_integrity_info(),
        status_cls=PdfSignatureStatus,
    )
    return "with_time", result


def main():
    root = load_cert_from_pemder(sys.argv[1])
    ok = True
    with open(sys.argv[2], "rb") as f:
        reader = PdfFileReader(f)
        for sig in reader.embedded_regular_signatures:
            process, result = asyncio.run(validate(reader, sig, root))
            indication = result.ades_subindic.status.name
            print(f"{sig.field_name}:{process}:{indication}:{result.ades_subindic.name}")
            if indication != "PASSED":
                reason = result.failure_msg or (
                    result.api_status.summary() if result.api_status else ""
                )
                print(f"{sig.field_name}: {reason}", file=sys.stderr)
                ok = False
    sys.exit(0 if ok else 1)


main()
