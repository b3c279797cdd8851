//! The HTTP server: the application's state (`app`) behind the API's routes (`http`) and the
//! pages (`web`), and the background task that refreshes archive timestamps.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::app::{prepare, AppState};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::http;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Opens storage, loads keys and trust data (generating the dev PKI in dev mode), and binds.
pub fn build(settings: Settings) -> Result<Application> {
    let listener = TcpListener::bind(&settings.bind)
        .map_err(|e| Error::config(format!("cannot bind {}: {e}", settings.bind)))?;
    let port = listener.local_addr().map_err(Error::internal)?.port();
    let state = Arc::new(prepare(settings)?);
    if state.settings.archive.refresh {
        archive_refresh_task(state.clone())?;
    }
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(crate::web::errors::as_pages))
            .wrap(http::security_headers())
            .wrap(actix_web::middleware::from_fn(http::observe::observe))
            .configure(crate::web::routes)
            .configure(http::routes)
    })
    .listen(listener)
    .map_err(Error::internal)?
    .run();
    Ok(Application { port, server })
}

/// Refreshes the archive timestamps of stored documents at start and then every
/// `archive.interval_hours`, on a thread of its own (signing blocks on the TSA).
fn archive_refresh_task(state: Arc<AppState>) -> Result<()> {
    let interval = Duration::from_secs(state.settings.archive.interval_hours.max(1) * 3600);
    std::thread::Builder::new()
        .name("archive-refresh".into())
        .spawn(move || loop {
            let signing = state.signing();
            let pass = crate::documents::archive::refresh(
                &state.pool,
                &state.settings,
                &signing,
                chrono::Utc::now(),
            );
            if let Err(e) = pass {
                tracing::warn!(error = %e, "archive refresh pass failed");
            }
            std::thread::sleep(interval);
        })
        .map(|_| ())
        .map_err(Error::internal)
}
