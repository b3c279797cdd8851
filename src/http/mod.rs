//! HTTP routes by resource. Handlers translate between HTTP and the domain; the work itself
//! runs on the blocking pool because signing and the database are synchronous.

pub(crate) mod auth;
mod body;
mod documents;
pub(crate) mod form;
mod health;
pub(crate) mod observe;
mod ocsp;
pub(crate) mod openapi;
pub(crate) mod rollout;
mod sessions;
mod sign;
mod tsa;
pub(crate) mod verify;

use actix_web::web;

use crate::app::AppState;
use crate::error::Error;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .error_handler(|err, _| Error::bad_request(format!("invalid JSON body: {err}")).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| Error::bad_request(err.to_string()).into()),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _| Error::bad_request(err.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| Error::bad_request(err.to_string()).into()),
    )
    .route(
        "/",
        web::get().to(|| async { web::Redirect::to("/verify").see_other() }),
    )
    .service(web::resource("/healthz").get(health::healthz))
    .service(web::resource("/metrics").get(observe::metrics))
    .route("/openapi.json", web::get().to(openapi::document))
    .service(web::resource("/tsa").post(tsa::timestamp))
    .service(web::resource("/ocsp").post(ocsp::ocsp_post))
    .service(web::resource("/ocsp/{request:.+}").get(ocsp::ocsp_get))
    .service(web::resource("/crl/{ca}.crl").get(ocsp::ca_crl))
    .service(web::resource("/ca/{ca}.crt").get(ocsp::ca_certificate))
    .service(
        // Resources, not `.route`: a method a path does not take answers 405 with `Allow`.
        web::scope("/api/v1")
            .service(web::resource("/sign").post(sign::sign))
            .service(web::resource("/extend").post(sign::extend))
            .service(web::resource("/verify").post(verify::verify))
            .service(web::resource("/verify/batch").post(verify::batch))
            .service(web::resource("/extracts").post(documents::create_extract))
            .service(web::resource("/certified-copies").post(documents::create_certified_copy))
            .service(web::resource("/documents").get(documents::list))
            .service(web::resource("/documents/{id}").get(documents::get))
            .service(web::resource("/documents/{id}/pdf").get(documents::pdf))
            .service(web::resource("/documents/{id}/seal").post(documents::seal))
            .service(web::resource("/numbering-books/{commune}/{kind}/{year}").get(documents::book))
            .configure(sessions::routes)
            .configure(rollout::routes),
    );
}

/// Pages have no script and take styles and images only from kyso itself; nothing may frame
/// them (clickjacking), sniff types, or learn the URL (lookup codes) through `Referer`.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Security headers on every response, errors included.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
}

/// A form posted from a page must come from kyso's own pages (against cross-site request
/// forgery, beside the SameSite=Strict cookie). Browsers send `Origin` with every POST; a
/// request without one is not a browser's forgery (a command-line client) and passes. Our own
/// `Referrer-Policy: no-referrer` makes browsers send `Origin: null` for form posts (Fetch
/// standard, "serializing a request origin"); then the Fetch Metadata header
/// `Sec-Fetch-Site: same-origin` is what vouches for the page.
pub(crate) fn same_origin(req: &actix_web::HttpRequest, state: &AppState) -> crate::Result<()> {
    let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    if origin == "null" {
        let site = req.headers().get("Sec-Fetch-Site");
        return match site.and_then(|s| s.to_str().ok()) {
            Some("same-origin") => Ok(()),
            _ => Err(Error::CrossOrigin),
        };
    }
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    let public = &state.settings.public_base_url;
    // The origin of the public URL: scheme and authority, without any path.
    let public_origin = public
        .find("://")
        .map(|at| at + 3)
        .map(|host| &public[..public[host..].find('/').map_or(public.len(), |p| host + p)]);
    if origin == own || Some(origin) == public_origin {
        Ok(())
    } else {
        Err(Error::CrossOrigin)
    }
}

/// Runs short synchronous work on this async worker. A panic in it fails the request with a
/// 500, as it would on the blocking pool, instead of taking down the worker and every
/// connection it serves.
pub(crate) fn on_worker<T>(work: impl FnOnce() -> crate::Result<T>) -> crate::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .map_err(|_| Error::internal("the request's work panicked"))?
}

/// Runs blocking work off the async workers, flattening the two layers of errors.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    web::block(work).await.map_err(Error::internal)?
}
