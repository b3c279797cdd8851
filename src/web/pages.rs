//! The verification page's routes: `GET /verify` and the upload it posts back to itself.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::http;
use crate::http::form::{Budget, Form};

fn html(status: StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

pub async fn verify_form(state: actix_web::web::Data<AppState>) -> HttpResponse {
    html(
        StatusCode::OK,
        super::verify::page(state.settings.dev_mode, None),
    )
}

/// Works without JavaScript: a plain multipart form post answered with the same page.
pub async fn verify_upload(
    state: actix_web::web::Data<AppState>,
    req: HttpRequest,
    payload: actix_web::web::Payload,
) -> HttpResponse {
    let dev = state.settings.dev_mode;
    let result = async {
        http::same_origin(&req, &state)?;
        let slot = http::verify::slot(&state)?;
        let budget = Budget::upload(&state.settings);
        let mut form = Form::read(req.headers(), payload, budget).await?;
        let at = http::verify::validation_time(form.optional("at").as_deref())?;
        let pdf = form.upload("file")?;
        http::verify::report(state, slot, pdf, at).await
    }
    .await;
    match result {
        Ok(report) => html(StatusCode::OK, super::verify::page(dev, Some(Ok(&report)))),
        Err(e) => {
            let status = actix_web::ResponseError::status_code(&e);
            let message = format!(
                "{} ({})",
                super::errors::message_vi(&e),
                super::errors::message_en(&e)
            );
            let mut response = html(status, super::verify::page(dev, Some(Err(message))));
            if let crate::Error::Busy { retry_after } = e {
                response.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(retry_after),
                );
            }
            response
        }
    }
}
