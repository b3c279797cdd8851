//! `POST /tsa`: kyso's own RFC 3161 time-stamping authority (RFC 3161 §3.4, HTTP transport).
//! It signs for whoever asks, so it needs an API key unless `tsa.public = true`, and it is
//! rate-limited per instance (`tsa.rate_per_second`, `tsa.burst`; beyond, `429`).

use actix_web::{web, HttpRequest, HttpResponse};

use super::form::{self, Budget};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::pki::tsa::CONTENT_TYPE_REPLY;

/// Requests are a hash and a nonce; anything bigger is not a timestamp query.
const MAX_QUERY: usize = 16 * 1024;

/// Dấu thời gian RFC 3161 · RFC 3161 time-stamping. Needs a key unless `tsa.public = true`.
#[utoipa::path(
    post,
    path = "/tsa",
    tag = "operations",
    request_body(content = super::openapi::TimestampQuery, content_type = "application/timestamp-query"),
    responses(
        (status = 200, description = "TimeStampResp (RFC 3161)", content_type = "application/timestamp-reply", body = super::openapi::TimestampReply),
        (status = 401, description = "Thiếu khóa API (khi `tsa.public = false`) · Key needed unless public"),
        (status = 404, description = "Không có máy chủ dấu thời gian · No TSA on this instance"),
        (status = 413, description = "Quá lớn · Too large"),
        (status = 429, description = "Quá nhiều yêu cầu (`Retry-After`) · Rate limited",
            headers(("Retry-After" = u64, description = "Giây · Seconds"))),
    ),
    security((), ("api_key" = []))
)]
pub async fn timestamp(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    if state.tsa.is_none() {
        return Err(Error::NotFound(
            "this instance serves no time-stamping authority".into(),
        ));
    }
    if !state.settings.tsa.public {
        super::auth::client(&req).await?;
    }
    state
        .tsa_bucket
        .take()
        .map_err(|retry_after| Error::RateLimited { retry_after })?;
    let query = form::body(payload, Budget::new(&state.settings, MAX_QUERY)).await?;
    // A malformed query is answered in the protocol (a TimeStampResp with status
    // `rejection`); no body at all is not a query.
    if query.is_empty() {
        return Err(Error::bad_request("the body must be a DER TimeStampReq"));
    }
    let reply = super::blocking(move || match &state.tsa {
        Some(tsa) => Ok(tsa.respond(&query)?),
        None => Err(Error::internal("TSA vanished")),
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE_REPLY)
        .body(reply))
}
