//! Tenants' files. Bodies live in an object store (`object_store`): a directory under the
//! data directory by default, S3-compatible storage when `NEXO_FILES_S3_BUCKET` is set.
//! Every key is scoped by the tenant's id (`tenants/<tenant id>/<file id>`), never by
//! anything a client sends, and what a file is (name, type, size) is a row of the tenant's
//! own `files` table.
//!
//! Downloads go through short-lived signed URLs: on S3 presigned by the store; locally
//! `/files/<tenant>/<file>?expires=..&signature=..`, an HMAC the server checks (an expired or
//! altered URL is refused with 403).

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use hmac::{Hmac, Mac};
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, aws::AmazonS3, aws::AmazonS3Builder,
    local::LocalFileSystem, path::Path as Key, signer::Signer,
};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// `NEXO_FILES_*`, `NEXO_MAX_UPLOAD_BYTES`: where files live and how big they may be.
#[derive(Clone, Debug)]
pub struct FilesConfig {
    /// `NEXO_MAX_UPLOAD_BYTES`, default 25 MiB: a larger upload is refused
    /// (`PAYLOAD_TOO_LARGE`) before its body is read past the limit.
    pub max_upload_bytes: usize,
    /// `NEXO_FILE_URL_TTL_SECS`, default 300: how long a download URL works.
    pub url_ttl: Duration,
    /// `NEXO_FILES_DIR`, default `<data dir>/files`: the local store.
    pub dir: Option<PathBuf>,
    /// S3-compatible storage instead of the local directory.
    pub s3: Option<S3Config>,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 25 * 1024 * 1024,
            url_ttl: Duration::from_secs(300),
            dir: None,
            s3: None,
        }
    }
}

/// `NEXO_FILES_S3_*`.
#[derive(Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// For S3-compatible services (MinIO, R2, ...); AWS when unset.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The file store (`app.files`).
pub struct Files {
    store: Arc<dyn ObjectStore>,
    /// Presigns download URLs when the store is S3.
    s3: Option<Arc<AmazonS3>>,
    /// Signs local download URLs.
    url_key: Vec<u8>,
    url_ttl: Duration,
    pub max_upload_bytes: usize,
}

/// A local download URL's parts, as the server receives them back.
pub struct SignedDownload {
    pub tenant: Uuid,
    pub file: Uuid,
    pub expires: i64,
    pub signature: String,
}

impl Files {
    /// The configured store; `secret` (the server's signing secret) keys local URLs.
    pub fn new(
        config: &FilesConfig,
        data_dir: &std::path::Path,
        secret: &[u8],
    ) -> anyhow::Result<Self> {
        let (store, s3): (Arc<dyn ObjectStore>, _) = match &config.s3 {
            Some(s3) => {
                // The S3 client's TLS uses the process's rustls provider: ring, as the rest
                // of Nexo does (already installed is fine).
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let store = Arc::new(builder.build().context("configuring S3 file storage")?);
                (store.clone(), Some(store))
            }
            None => {
                let dir = config.dir.clone().unwrap_or_else(|| data_dir.join("files"));
                crate::private_fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let store = LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("opening {}", dir.display()))?;
                (Arc::new(store), None)
            }
        };
        // A key of its own, so that a URL signature can never stand for a token's.
        let mut derive = Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|e| anyhow::anyhow!("a signing key: {e}"))?;
        derive.update(b"nexo download urls");
        Ok(Self {
            store,
            s3,
            url_key: derive.finalize().into_bytes().to_vec(),
            url_ttl: config.url_ttl,
            max_upload_bytes: config.max_upload_bytes,
        })
    }

    fn key(tenant: Uuid, file: Uuid) -> Key {
        Key::from(format!("tenants/{tenant}/{file}"))
    }

    fn tenant_prefix(tenant: Uuid) -> Key {
        Key::from(format!("tenants/{tenant}"))
    }

    /// Stores a file's body.
    pub async fn put(&self, tenant: Uuid, file: Uuid, body: Vec<u8>) -> AppResult<()> {
        self.store
            .put(&Self::key(tenant, file), PutPayload::from(body))
            .await
            .map_err(|e| AppError::internal(format!("storing a file: {e}")))?;
        Ok(())
    }

    /// A file's body; `NOT_FOUND` when the tenant has no such file.
    pub async fn get(&self, tenant: Uuid, file: Uuid) -> AppResult<axum::body::Bytes> {
        match self.store.get(&Self::key(tenant, file)).await {
            Ok(found) => found
                .bytes()
                .await
                .map_err(|e| AppError::internal(format!("reading a file: {e}"))),
            Err(object_store::Error::NotFound { .. }) => Err(AppError::NotFound("file")),
            Err(e) => Err(AppError::internal(format!("reading a file: {e}"))),
        }
    }

    /// Removes a file's body (nothing if it is gone already).
    pub async fn delete(&self, tenant: Uuid, file: Uuid) -> AppResult<()> {
        match self.store.delete(&Self::key(tenant, file)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(AppError::internal(format!("deleting a file: {e}"))),
        }
    }

    /// The keys of every file of the tenant's.
    async fn list(&self, tenant: Uuid) -> AppResult<Vec<Key>> {
        self.store
            .list(Some(&Self::tenant_prefix(tenant)))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| AppError::internal(format!("listing a tenant's files: {e}")))
    }

    /// Copies every file of the tenant's into `dir` (a deleted tenant's backup); returns
    /// how many.
    pub async fn backup_tenant(&self, tenant: Uuid, dir: &std::path::Path) -> AppResult<usize> {
        let keys = self.list(tenant).await?;
        if keys.is_empty() {
            return Ok(0);
        }
        crate::private_fs::create_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        for key in &keys {
            let name = key.filename().unwrap_or("file").to_owned();
            let body = self
                .store
                .get(key)
                .await
                .map_err(|e| AppError::internal(format!("reading a file to back up: {e}")))?
                .bytes()
                .await
                .map_err(|e| AppError::internal(format!("reading a file to back up: {e}")))?;
            let path = dir.join(name);
            tokio::task::spawn_blocking(move || {
                let mut out = crate::private_fs::create_file(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                std::io::Write::write_all(&mut out, &body)
                    .with_context(|| format!("writing {}", path.display()))
            })
            .await
            .map_err(|e| AppError::internal(format!("backing up a file: {e}")))??;
        }
        Ok(keys.len())
    }

    /// Removes every file of the tenant's.
    pub async fn delete_tenant(&self, tenant: Uuid) -> AppResult<()> {
        for key in self.list(tenant).await? {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(AppError::internal(format!("deleting a file: {e}"))),
            }
        }
        Ok(())
    }

    /// A URL that downloads the file until `now` plus the configured time: presigned by S3,
    /// or this server's `/files/...` path, signed.
    pub async fn download_url(
        &self,
        tenant: Uuid,
        file: Uuid,
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        if let Some(s3) = &self.s3 {
            let url = s3
                .signed_url(
                    object_store::signer::Method::GET,
                    &Self::key(tenant, file),
                    self.url_ttl,
                )
                .await
                .map_err(|e| AppError::internal(format!("presigning a download: {e}")))?;
            return Ok(url.to_string());
        }
        let expires = now.timestamp() + self.url_ttl.as_secs() as i64;
        Ok(self.local_url(tenant, file, expires))
    }

    /// The local download path of `file`, valid until `expires` (seconds since the epoch).
    pub fn local_url(&self, tenant: Uuid, file: Uuid, expires: i64) -> String {
        let signature = hex::encode(self.sign(tenant, file, expires));
        format!("/files/{tenant}/{file}?expires={expires}&signature={signature}")
    }

    /// The MAC of a link to `file` valid until `expires`.
    fn mac(&self, tenant: Uuid, file: Uuid, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.url_key).expect("any key length");
        mac.update(format!("{tenant}/{file}/{expires}").as_bytes());
        mac
    }

    fn sign(&self, tenant: Uuid, file: Uuid, expires: i64) -> Vec<u8> {
        self.mac(tenant, file, expires)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Whether a local download URL is one this server signed and still valid at `now`:
    /// `FORBIDDEN` if not.
    pub fn check(&self, download: &SignedDownload, now: DateTime<Utc>) -> AppResult<()> {
        let refused = || AppError::Forbidden("the download link is invalid or has expired".into());
        let presented = hex::decode(&download.signature).map_err(|_| refused())?;
        self.mac(download.tenant, download.file, download.expires)
            .verify_slice(&presented)
            .map_err(|_| refused())?;
        if download.expires < now.timestamp() {
            return Err(refused());
        }
        Ok(())
    }
}
