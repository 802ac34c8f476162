//! Tenants' files: uploaded with the GraphQL multipart request, downloaded through short-lived
//! signed links, never reachable from another tenant, removed (and kept in the backup) with
//! their tenant.

use reqwest::multipart::{Form, Part};
use serde_json::json;
use tests::{Reply, TestApp, TestTenant, spawn_app, spawn_app_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const UPLOAD: &str =
    "mutation($f: Upload!) { uploadFile(file: $f) { id name contentType size downloadUrl } }";

fn form(name: &str, content_type: &str, body: Vec<u8>) -> Form {
    Form::new()
        .text(
            "operations",
            json!({"query": UPLOAD, "variables": {"f": null}}).to_string(),
        )
        .text("map", json!({"0": ["variables.f"]}).to_string())
        .part(
            "0",
            Part::bytes(body)
                .file_name(name.to_owned())
                .mime_str(content_type)
                .expect("a type"),
        )
}

async fn upload(app: &TestApp, t: &TestTenant, token: &str, name: &str, body: &[u8]) -> Reply {
    app.post_multipart(
        &t.host,
        Some(token),
        form(name, "text/plain", body.to_vec()),
    )
    .await
}

/// Files stored for the tenant on the local store.
fn stored(app: &TestApp, tenant: uuid::Uuid) -> usize {
    std::fs::read_dir(
        app.data_dir()
            .join("files/tenants")
            .join(tenant.to_string()),
    )
    .map(|dir| dir.count())
    .unwrap_or(0)
}

#[tokio::test]
async fn a_file_uploads_and_downloads_through_its_link() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let uploaded = upload(&app, &t, &t.owner_token, "Q3 notes.txt", b"hello, Nexo").await;
    let file = uploaded.ok().data("uploadFile").clone();
    assert_eq!(file["name"], "Q3 notes.txt");
    assert_eq!(file["contentType"], "text/plain");
    assert_eq!(file["size"], 11);

    let link = file["downloadUrl"].as_str().expect("a link").to_owned();
    let (status, headers, body) = app.fetch(&link).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"hello, Nexo");
    assert_eq!(headers["content-type"], "text/plain");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"Q3_notes.txt\"; filename*=UTF-8''Q3+notes.txt"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // A viewer reads it (with a fresh link) but cannot upload.
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let read = app
        .gql(
            &t.host,
            Some(&viewer),
            "query($id: ID!) { file(id: $id) { name downloadUrl } }",
            json!({"id": file["id"]}),
        )
        .await;
    let fresh = read.ok().str("file.downloadUrl");
    assert_eq!(app.fetch(&fresh).await.2, b"hello, Nexo");
    let refused = upload(&app, &t, &viewer, "more.txt", b"no").await;
    assert_eq!(refused.error_code(), "FORBIDDEN");

    // A manager deletes it: its link then finds nothing.
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    app.gql(
        &t.host,
        Some(&manager),
        "mutation($id: ID!) { deleteFile(id: $id) }",
        json!({"id": file["id"]}),
    )
    .await
    .ok();
    assert_eq!(app.fetch(&fresh).await.0, 404);
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_and_nothing_is_kept() {
    let app = spawn_app_with(|config| config.files.max_upload_bytes = 1024).await;
    let t = app.new_tenant().await;
    let tenant = app.tenant(&t.slug).await;

    let big = upload(&app, &t, &t.owner_token, "big.bin", &[7u8; 4096]).await;
    assert_eq!(big.error_code(), "PAYLOAD_TOO_LARGE", "{:?}", big.body);
    assert_eq!(stored(&app, tenant.id), 0, "no body was stored");
    let fits = upload(&app, &t, &t.owner_token, "small.bin", &[7u8; 512]).await;
    fits.ok();
    assert_eq!(stored(&app, tenant.id), 1);

    // A body declared larger than the limit is refused before it is sent: the answer
    // comes while the client still holds almost all of it.
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connected");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 50000000\r\n\r\n--xyz\r\n",
        t.host, t.owner_token
    );
    socket.write_all(head.as_bytes()).await.expect("sent");
    let mut answer = vec![0u8; 4096];
    let n = socket.read(&mut answer).await.expect("an answer");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    assert_eq!(stored(&app, tenant.id), 1);
}

#[tokio::test]
async fn altered_or_expired_links_are_refused_and_other_tenants_files_are_not_found() {
    let app = spawn_app().await;
    let a = app.new_tenant().await;
    let b = app.new_tenant().await;
    let (tenant_a, tenant_b) = (app.tenant(&a.slug).await, app.tenant(&b.slug).await);
    let uploaded = upload(&app, &a, &a.owner_token, "a.txt", b"tenant A's").await;
    let file = uploaded.ok().data("uploadFile").clone();
    let file_id = uuid::Uuid::parse_str(file["id"].as_str().expect("an id")).expect("a uuid");
    let link = file["downloadUrl"].as_str().expect("a link").to_owned();
    let code = |body: Vec<u8>| -> String {
        let body: serde_json::Value = serde_json::from_slice(&body).expect("a JSON error");
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // Altered: one character of the signature, or the file's id.
    let mut altered = link.clone();
    let last = altered.pop().expect("a character");
    altered.push(if last == '0' { '1' } else { '0' });
    let (status, _, body) = app.fetch(&altered).await;
    assert_eq!((status, code(body).as_str()), (403, "FORBIDDEN"));
    let other_file = link.replace(&file_id.to_string(), &uuid::Uuid::now_v7().to_string());
    assert_eq!(app.fetch(&other_file).await.0, 403);
    let unsigned = link.split('?').next().expect("a path").to_owned();
    assert_eq!(app.fetch(&unsigned).await.0, 403);

    // Expired.
    let expired = app
        .app
        .files
        .local_url(tenant_a.id, file_id, chrono::Utc::now().timestamp() - 1);
    let (status, _, body) = app.fetch(&expired).await;
    assert_eq!((status, code(body).as_str()), (403, "FORBIDDEN"));

    // Tenant B: the id finds nothing, and a valid link of B's for that id neither.
    let theirs = app
        .gql(
            &b.host,
            Some(&b.owner_token),
            "query($id: ID!) { file(id: $id) { name } }",
            json!({"id": file["id"]}),
        )
        .await;
    assert_eq!(theirs.error_code(), "NOT_FOUND");
    let b_link = app
        .app
        .files
        .local_url(tenant_b.id, file_id, chrono::Utc::now().timestamp() + 60);
    let (status, _, body) = app.fetch(&b_link).await;
    assert_eq!((status, code(body).as_str()), (404, "NOT_FOUND"));
    // A's own link still works.
    assert_eq!(app.fetch(&link).await.2, b"tenant A's");
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_files_and_keeps_them_in_the_backup() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let tenant = app.tenant(&t.slug).await;
    let uploaded = upload(&app, &t, &t.owner_token, "contract.txt", b"signed").await;
    let file = uploaded.ok().data("uploadFile").clone();
    let link = file["downloadUrl"].as_str().expect("a link").to_owned();
    assert_eq!(stored(&app, tenant.id), 1);

    let backup = app.delete_tenant(&t.slug).await;
    assert_eq!(stored(&app, tenant.id), 0, "its files went with it");
    let kept = backup
        .with_extension("files")
        .join(file["id"].as_str().expect("an id"));
    assert_eq!(std::fs::read(&kept).expect("kept in the backup"), b"signed");
    assert_eq!(app.fetch(&link).await.0, 404);
}

#[tokio::test]
async fn bad_uploads_and_deletes_by_the_wrong_people_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let a = app.new_tenant().await;
    let b = app.new_tenant().await;
    let tenant = app.tenant(&a.slug).await;

    // Not a file: the variable as JSON text, and a multipart body without its map.
    let text = app
        .gql(
            &a.host,
            Some(&a.owner_token),
            UPLOAD,
            json!({"f": "not a file"}),
        )
        .await;
    assert_eq!(text.error_code(), "BAD_USER_INPUT");
    let no_map = Form::new().text(
        "operations",
        json!({"query": UPLOAD, "variables": {"f": null}}).to_string(),
    );
    let refused = app
        .post_multipart(&a.host, Some(&a.owner_token), no_map)
        .await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (400, "GRAPHQL_PARSE_FAILED")
    );
    assert_eq!(stored(&app, tenant.id), 0);
    let bad_id = app
        .gql(
            &a.host,
            Some(&a.owner_token),
            "{ file(id: \"not-an-id\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(bad_id.error_code(), "BAD_USER_INPUT");

    let uploaded = upload(&app, &a, &a.owner_token, "kept.txt", b"kept").await;
    let file = uploaded.ok().data("uploadFile").clone();
    let delete = "mutation($id: ID!) { deleteFile(id: $id) }";
    let by = |token: String, host: String| {
        let app = &app;
        let id = file["id"].clone();
        async move {
            app.gql(&host, Some(&token), delete, json!({"id": id}))
                .await
        }
    };
    // A lower role, another tenant, a deactivated manager.
    let (_, sales) = app.add_user(&a, "SALES").await;
    assert_eq!(by(sales, a.host.clone()).await.error_code(), "FORBIDDEN");
    assert_eq!(
        by(b.owner_token.clone(), b.host.clone()).await.error_code(),
        "NOT_FOUND"
    );
    let (manager_id, manager) = app.add_user(&a, "MANAGER").await;
    app.gql(
        &a.host,
        Some(&a.owner_token),
        "mutation($u: ID!) { deactivateUser(userId: $u) { status } }",
        json!({"u": manager_id}),
    )
    .await
    .ok();
    assert_eq!(
        by(manager, a.host.clone()).await.error_code(),
        "UNAUTHENTICATED"
    );
    let link = file["downloadUrl"].as_str().expect("a link");
    assert_eq!(app.fetch(link).await.2, b"kept");
    assert_eq!(stored(&app, tenant.id), 1);
}

/// A local S3-compatible server: Python's moto (`pip install 'moto[server]'`), stopped with
/// the test.
struct S3Server {
    child: std::process::Child,
    url: String,
}

impl S3Server {
    async fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if reqwest::get(&server.url).await.is_ok() {
                return Some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        None
    }

    /// The keys under `prefix` in `bucket`.
    async fn keys(&self, bucket: &str, prefix: &str) -> String {
        reqwest::get(format!("{}/{bucket}?prefix={prefix}", self.url))
            .await
            .expect("listed")
            .text()
            .await
            .expect("a listing")
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn files_on_s3_compatible_storage_are_presigned_and_go_with_their_tenant() {
    let Some(s3) = S3Server::start().await else {
        println!(
            "skipped: moto_server is not installed, so the S3 store was not exercised \
             (pip install 'moto[server]')"
        );
        return;
    };
    let bucket = tests::random_slug();
    let created = reqwest::Client::new()
        .put(format!("{}/{bucket}", s3.url))
        .send()
        .await
        .expect("bucket created");
    assert!(created.status().is_success());
    let endpoint = s3.url.clone();
    let bucket_name = bucket.clone();
    let app = spawn_app_with(move |config| {
        config.files.s3 = Some(api::files::S3Config {
            bucket: bucket_name,
            region: "us-east-1".into(),
            endpoint: Some(endpoint),
            access_key_id: "nexo-test".into(),
            secret_access_key: "nexo-test-secret".into(),
        });
    })
    .await;
    let t = app.new_tenant().await;
    let tenant = app.tenant(&t.slug).await;
    let uploaded = upload(&app, &t, &t.owner_token, "deck.txt", b"on S3").await;
    let file = uploaded.ok().data("uploadFile").clone();
    let link = file["downloadUrl"].as_str().expect("a link");
    assert!(
        link.starts_with(&format!("{}/{bucket}/tenants/{}/", s3.url, tenant.id))
            && link.contains("X-Amz-Signature="),
        "{link}"
    );
    let body = reqwest::get(link)
        .await
        .expect("downloaded")
        .bytes()
        .await
        .expect("a body");
    assert_eq!(&body[..], b"on S3");
    assert!(
        !app.data_dir().join("files/tenants").exists(),
        "nothing local"
    );

    let backup = app.delete_tenant(&t.slug).await;
    let listing = s3.keys(&bucket, &format!("tenants/{}/", tenant.id)).await;
    assert!(
        !listing.contains("<Key>"),
        "the tenant's objects are gone: {listing}"
    );
    let kept = backup
        .with_extension("files")
        .join(file["id"].as_str().expect("an id"));
    assert_eq!(std::fs::read(kept).expect("kept in the backup"), b"on S3");
}
