"""Schemathesis hooks for kyso (loaded through SCHEMATHESIS_HOOKS by tests/api/schemathesis.rs)."""

import schemathesis

# An RFC 3161 query, an OCSP request and a PDF body are bytes: sent as they are, like any binary body.
schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")
schemathesis.serializer.alias("application/pdf", "application/octet-stream")
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")
