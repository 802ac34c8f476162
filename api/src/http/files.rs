//! `/files/<tenant>/<file>?expires=..&signature=..`: where a local download link leads. The
//! link is checked first (403 when altered or expired), then the tenant (still served) and
//! the file (a row of that tenant's, 404 otherwise).

use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use entity::tenant::file;
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::AppState;
use crate::{error::AppError, files::SignedDownload, tenancy::TenantStatus};

#[derive(serde::Deserialize)]
pub(super) struct Link {
    #[serde(default)]
    expires: i64,
    #[serde(default)]
    signature: String,
}

pub(super) async fn download(
    State(state): State<AppState>,
    Path((tenant, file_id)): Path<(String, String)>,
    Query(link): Query<Link>,
) -> Response {
    match serve(&state, &tenant, &file_id, link).await {
        Ok(response) => response,
        Err(e) => (e.http_status(), axum::Json(e.to_response_body())).into_response(),
    }
}

async fn serve(
    state: &AppState,
    tenant: &str,
    file_id: &str,
    link: Link,
) -> Result<Response, AppError> {
    let app = &state.app;
    let (Ok(tenant), Ok(file_id)) = (Uuid::parse_str(tenant), Uuid::parse_str(file_id)) else {
        return Err(AppError::NotFound("file"));
    };
    app.files.check(
        &SignedDownload {
            tenant,
            file: file_id,
            expires: link.expires,
            signature: link.signature,
        },
        Utc::now(),
    )?;
    let tenant = app
        .registry
        .by_id(tenant)
        .await?
        .ok_or(AppError::NotFound("file"))?;
    match tenant.status {
        TenantStatus::Active => {}
        TenantStatus::Suspended => return Err(AppError::TenantSuspended),
        TenantStatus::Provisioning => return Err(AppError::NotFound("file")),
    }
    let found = app
        .store
        .read(&tenant, |tx| {
            Box::pin(async move { Ok(file::Entity::find_by_id(file_id).one(tx).await?) })
        })
        .await?
        .ok_or(AppError::NotFound("file"))?;
    let body = app.files.get(tenant.id, file_id).await?;
    let content_type = HeaderValue::from_str(&found.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let plain: String = found
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(found.name.as_bytes()).collect();
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        body,
    )
        .into_response())
}
