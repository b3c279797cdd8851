//! What kyso publishes for its own (dev) CAs, so that PAdES B-LT with OCSP and with CRLs
//! works with no outside service: `POST /ocsp` and `GET /ocsp/{request}` (RFC 6960, A.1),
//! `GET /crl/{ca}.crl` and `GET /ca/{ca}.crt` (the URLs the dev certificates' AIA and CRL
//! distribution points name). Public, as a CA's are, and rate-limited per instance
//! (`revocation.rate_per_second`, `revocation.burst`; beyond, `429`).

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;

use super::form::{self, Budget};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::pki::ocsp::{self, CONTENT_TYPE_RESPONSE};

/// A request names a few certificates; anything bigger is not one.
const MAX_REQUEST: usize = 16 * 1024;

fn take(state: &AppState) -> Result<()> {
    state
        .revocation_bucket
        .take()
        .map_err(|retry_after| Error::RateLimited { retry_after })
}

async fn answer(state: web::Data<AppState>, request: Vec<u8>) -> Result<HttpResponse> {
    let reply = super::blocking(move || {
        let crls = state.revocation.files.all();
        Ok(ocsp::respond(
            &request,
            &state.ocsp,
            &crls,
            chrono::Utc::now(),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE_RESPONSE)
        .body(reply))
}

/// Trạng thái chứng thư số (OCSP) · Certificate status (OCSP, RFC 6960) for kyso's own CAs.
#[utoipa::path(
    post,
    path = "/ocsp",
    tag = "operations",
    request_body(content = super::openapi::OcspRequest, content_type = "application/ocsp-request"),
    responses(
        (status = 200, description = "OCSPResponse (RFC 6960); `unauthorized` cho CA khác · for another CA", content_type = "application/ocsp-response", body = super::openapi::OcspResponse),
        (status = 413, description = "Quá lớn · Too large"),
        (status = 429, description = "Quá nhiều yêu cầu (`Retry-After`) · Rate limited",
            headers(("Retry-After" = u64, description = "Giây · Seconds"))),
    )
)]
pub async fn ocsp_post(state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse> {
    take(&state)?;
    let request = form::body(payload, Budget::new(&state.settings, MAX_REQUEST)).await?;
    // A malformed request is answered in the protocol; no body at all is not a request.
    if request.is_empty() {
        return Err(Error::bad_request("the body must be a DER OCSPRequest"));
    }
    answer(state, request).await
}

/// Trạng thái chứng thư số qua GET · OCSP over GET (RFC 6960 A.1: the DER request, base64
/// then URL-encoded).
#[utoipa::path(
    get,
    path = "/ocsp/{request}",
    tag = "operations",
    params(("request" = String, Path, description = "OCSPRequest DER, base64, URL-encoded")),
    responses(
        (status = 200, description = "OCSPResponse (RFC 6960)", content_type = "application/ocsp-response", body = super::openapi::OcspResponse),
        (status = 429, description = "Quá nhiều yêu cầu (`Retry-After`) · Rate limited",
            headers(("Retry-After" = u64, description = "Giây · Seconds"))),
    )
)]
pub async fn ocsp_get(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    take(&state)?;
    let raw = req.match_info().get("request").unwrap_or_default();
    if raw.len() > MAX_REQUEST * 2 {
        return Err(Error::TooLarge {
            limit: MAX_REQUEST * 2,
        });
    }
    let text = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let request = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|_| Error::bad_request("the path must be a base64 OCSP request"))?;
    answer(state, request).await
}

fn ca<'a>(state: &'a AppState, name: &str) -> Result<&'a crate::pki::Certificate> {
    state
        .cas
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, cert)| cert)
        .ok_or_else(|| Error::NotFound(format!("no CA `{name}` is published here")))
}

/// Danh sách thu hồi của CA · A CA's newest revocation list (DER).
#[utoipa::path(
    get,
    path = "/crl/{ca}.crl",
    tag = "operations",
    params(("ca" = String, Path, description = "`root` | `issuing-ca`")),
    responses(
        (status = 200, description = "CRL (DER)", content_type = "application/pkix-crl", body = super::openapi::PkixBytes),
        (status = 404, description = "Không có CA này · No such CA"),
        (status = 429, description = "Quá nhiều yêu cầu (`Retry-After`) · Rate limited",
            headers(("Retry-After" = u64, description = "Giây · Seconds"))),
    )
)]
pub async fn ca_crl(state: web::Data<AppState>, name: web::Path<String>) -> Result<HttpResponse> {
    take(&state)?;
    let ca = ca(&state, &name)?;
    let key = ca.x509().public_key().map_err(Error::internal)?;
    let lists = state.revocation.files.all();
    let newest = lists
        .iter()
        .filter(|crl| crl.verify(&key).unwrap_or(false))
        .max_by_key(|crl| crate::pki::revocation::to_utc(crl.last_update()))
        .ok_or_else(|| Error::NotFound(format!("no revocation list of `{name}` is held")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/pkix-crl")
        .body(newest.to_der().map_err(Error::internal)?))
}

/// Chứng thư số của CA · A CA's certificate (DER), for AIA caIssuers.
#[utoipa::path(
    get,
    path = "/ca/{ca}.crt",
    tag = "operations",
    params(("ca" = String, Path, description = "`root` | `issuing-ca`")),
    responses(
        (status = 200, description = "Certificate (DER)", content_type = "application/pkix-cert", body = super::openapi::PkixBytes),
        (status = 404, description = "Không có CA này · No such CA"),
        (status = 429, description = "Quá nhiều yêu cầu (`Retry-After`) · Rate limited",
            headers(("Retry-After" = u64, description = "Giây · Seconds"))),
    )
)]
pub async fn ca_certificate(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse> {
    take(&state)?;
    let der = ca(&state, &name)?.der().to_vec();
    Ok(HttpResponse::Ok()
        .content_type("application/pkix-cert")
        .body(der))
}
