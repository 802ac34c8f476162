//! The tenant's files over GraphQL: upload (the GraphQL multipart request), read with a
//! short-lived download link, delete. Verticals attach files to their objects by id.

use async_graphql::{Context, ID, Object, Upload};
use chrono::{DateTime, Utc};
use entity::tenant::file;
use platform::{
    auth::{Role, RoleGuard},
    db::find_by_id,
    error::{AppError, GqlResult},
    graphql::ContextExt,
    id, parse_id,
};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

/// A file the tenant keeps (a contract, a logo, a deliverable).
pub struct FileNode(file::Model);

#[Object(name = "File")]
impl FileNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The name it was uploaded with.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Bytes.
    async fn size(&self) -> i64 {
        self.0.size
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// A link that downloads it for a few minutes (`NEXO_FILE_URL_TTL_SECS`): this server's
    /// `/files/...` path, or a presigned S3 URL.
    async fn download_url(&self, ctx: &Context<'_>) -> GqlResult<String> {
        let principal = ctx.principal()?;
        Ok(ctx
            .app()?
            .files
            .download_url(principal.tenant_id, self.0.id, Utc::now())
            .await?)
    }
}

#[derive(Default)]
pub struct FilesQuery;

#[Object]
impl FilesQuery {
    /// A file of this tenant's (`NOT_FOUND` for any other id).
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn file(&self, ctx: &Context<'_>, id: ID) -> GqlResult<FileNode> {
        let id = parse_id(&id, "id")?;
        Ok(FileNode(
            find_by_id::<file::Entity, _>(ctx.conn().await?, id, "file").await?,
        ))
    }
}

#[derive(Default)]
pub struct FilesMutation;

/// Longest name kept for a file.
const MAX_NAME: usize = 255;

#[Object]
impl FilesMutation {
    /// Stores an uploaded file (a `multipart/form-data` request, per the GraphQL multipart
    /// request spec). A body over `NEXO_MAX_UPLOAD_BYTES` is refused with
    /// `PAYLOAD_TOO_LARGE` and nothing is stored.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn upload_file(&self, ctx: &Context<'_>, file: Upload) -> GqlResult<FileNode> {
        let app = ctx.app()?;
        let principal = ctx.principal()?;
        let upload = file
            .value(ctx)
            .map_err(|_| AppError::bad_input("file", "not an uploaded file of this request"))?;
        let name: String = upload.filename.trim().chars().take(MAX_NAME).collect();
        if name.is_empty() {
            return Err(AppError::bad_input("file", "the file has no name").into());
        }
        let content_type = upload
            .content_type
            .clone()
            .filter(|t| t.len() <= MAX_NAME && !t.trim().is_empty())
            .unwrap_or_else(|| "application/octet-stream".into());
        let limit = app.files.max_upload_bytes;
        let mut content = upload.content;
        let body = tokio::task::spawn_blocking(move || {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut content, &mut body).map(|_| body)
        })
        .await
        .map_err(|e| AppError::internal(format!("reading an upload: {e}")))?
        .map_err(|e| AppError::internal(format!("reading an upload: {e}")))?;
        if body.len() > limit {
            return Err(AppError::PayloadTooLarge(limit).into());
        }
        let id = Uuid::now_v7();
        let size = body.len() as i64;
        // The body first, with no transaction open; a failed insert removes it again.
        app.files.put(principal.tenant_id, id, body).await?;
        let row = file::ActiveModel {
            id: Set(id),
            name: Set(name),
            content_type: Set(content_type),
            size: Set(size),
            uploaded_by: Set(Some(principal.user_id)),
            created_at: Set(Utc::now()),
        };
        let inserted = async { Ok::<_, AppError>(row.insert(ctx.conn().await?).await?) }.await;
        match inserted {
            Ok(model) => Ok(FileNode(model)),
            Err(e) => {
                let _ = app.files.delete(principal.tenant_id, id).await;
                Err(e.into())
            }
        }
    }

    /// Deletes a file and its body (managers and above).
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_file(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let file_id = parse_id(&id, "id")?;
        let principal = ctx.principal()?;
        let deleted = file::Entity::delete_by_id(file_id)
            .exec(ctx.conn().await?)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(AppError::NotFound("file").into());
        }
        let app = ctx.app()?.clone();
        let tenant = principal.tenant_id;
        // The body goes once the row's removal has committed.
        ctx.tenant_tx()?.after_commit(Box::pin(async move {
            if let Err(e) = app.files.delete(tenant, file_id).await {
                tracing::warn!(error = ?e, file = %file_id, "a deleted file's body stayed");
            }
        }));
        Ok(id)
    }
}
