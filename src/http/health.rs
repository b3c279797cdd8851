use actix_web::{web, HttpResponse};

use crate::app::AppState;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    /// `dev` or `production`.
    mode: &'static str,
    version: &'static str,
}

/// Máy chủ còn chạy · Liveness.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Đang chạy · Up", body = Health))
)]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        mode: if state.settings.dev_mode {
            "dev"
        } else {
            "production"
        },
        version: env!("CARGO_PKG_VERSION"),
    })
}
