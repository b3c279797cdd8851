//! HTTP routes by resource. Handlers translate between HTTP and the domain; the work itself
//! runs on the blocking pool because signing and the database are synchronous.

pub(crate) mod auth;
mod documents;
pub(crate) mod form;
mod health;
mod pages;
pub(crate) mod rollout;
mod sign;
mod tsa;
mod verify;

use actix_web::web;

use crate::error::Error;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .error_handler(|err, _| Error::BadRequest(format!("invalid JSON body: {err}")).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| Error::BadRequest(err.to_string()).into()),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _| Error::BadRequest(err.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| Error::BadRequest(err.to_string()).into()),
    )
    .configure(crate::web::routes)
    .route("/healthz", web::get().to(health::healthz))
    .route("/verify", web::get().to(pages::verify_form))
    .route("/verify", web::post().to(pages::verify_upload))
    .route("/tsa", web::post().to(tsa::timestamp))
    .service(
        web::scope("/api/v1")
            .route("/sign", web::post().to(sign::sign))
            .route("/verify", web::post().to(verify::verify))
            .route("/extracts", web::post().to(documents::create_extract))
            .route(
                "/certified-copies",
                web::post().to(documents::create_certified_copy),
            )
            .route("/documents", web::get().to(documents::list))
            .route("/documents/{id}", web::get().to(documents::get))
            .route("/documents/{id}/pdf", web::get().to(documents::pdf))
            .route("/documents/{id}/seal", web::post().to(documents::seal))
            .configure(rollout::routes),
    );
}

/// Runs blocking work off the async workers, flattening the two layers of errors.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    web::block(work).await.map_err(Error::internal)?
}
