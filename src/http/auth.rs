//! `Authorization: Bearer <key>` → the calling `Client`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};

use crate::app::AppState;
use crate::clients::{self, Client};
use crate::db::{self, DbConnection};
use crate::error::Error;

impl FromRequest for Client {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Client, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { client(&req).await })
    }
}

/// The caller of a route that checks its key in the same blocking hop as its work: one hop to
/// the blocking pool and one pool check-out fewer per request. A body small enough to stay in
/// memory is read before the key is checked (it costs what it weighs, and the work starts with
/// the check); a larger or unsized one only after, as `Client` does, so a stranger cannot make
/// the service receive an upload.
pub enum Caller {
    Known(Client),
    Claimed(String),
}

impl FromRequest for Caller {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let small = req
                .headers()
                .get(actix_web::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
                .is_some_and(|length| length <= super::form::SPOOL_ABOVE);
            match bearer(&req) {
                Some(key) if small => Ok(Caller::Claimed(key)),
                Some(_) => client(&req).await.map(Caller::Known),
                None => Err(Error::Unauthorized),
            }
        })
    }
}

impl Caller {
    /// The client, its key checked on `conn` if that was left to the work.
    pub fn check(self, conn: &mut DbConnection) -> Result<Client, Error> {
        match self {
            Caller::Known(client) => Ok(client),
            Caller::Claimed(key) => clients::authenticate(conn, &key),
        }
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
