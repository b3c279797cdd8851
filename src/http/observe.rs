//! One middleware for what every request leaves behind: a request id (answered in
//! `X-Request-Id` and carried by every log line of the request), one log line, and the
//! request counters and latency histogram of `/metrics`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::app::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let mut res = next.call(req).instrument(span.clone()).await?;
    // The pattern (`/d/{code}`), never the path: lookup codes and ids stay out of labels.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(state) = state {
        state.metrics.request(&method, &route, status, seconds);
        if let Some(error) = res.response().error() {
            if let Some(error) = error.as_error::<crate::Error>() {
                state.metrics.error(error);
            }
        }
    }
    span.in_scope(|| {
        tracing::info!(
            route = %route,
            status,
            ms = (seconds * 1000.0).round(),
            "answered"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// `GET /metrics`: the Prometheus text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = super::openapi::PrometheusText))
)]
pub async fn metrics(state: web::Data<AppState>) -> crate::Result<actix_web::HttpResponse> {
    let text = state.metrics.render(&state.pool)?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(text))
}
