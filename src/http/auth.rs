//! `Authorization: Bearer <key>` → the calling `Client`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};

use crate::app::AppState;
use crate::clients::{self, Client};
use crate::db;
use crate::error::Error;

impl FromRequest for Client {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Client, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { client(&req).await })
    }
}

/// The client whose key the request carries, or `Unauthorized`.
pub(crate) async fn client(req: &HttpRequest) -> Result<Client, Error> {
    let key = bearer(req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(key), Some(state)) = (key, state) else {
        return Err(Error::Unauthorized);
    };
    super::blocking(move || clients::authenticate(&mut *db::get(&state.pool)?, &key)).await
}

/// The key of an `Authorization: Bearer <key>` header.
pub(crate) fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|k| k.trim().to_owned())
}
