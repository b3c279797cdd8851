use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::AppState;

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "mode": if state.settings.dev_mode { "dev" } else { "production" },
        "version": env!("CARGO_PKG_VERSION"),
    }))
}
