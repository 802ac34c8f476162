//! The test harness: starts the real Nexo server on a random port (SQLite in a temporary
//! directory, or PostgreSQL when `NEXO_TEST_DATABASE_URL` is set) and speaks HTTP to it the
//! way a frontend, partner or operator would. Logs only with `TEST_LOG=1`.

pub mod crm;
pub mod sales;

use std::sync::Once;

use api::{AppContext, Application, Config};
use rand::{Rng, distr::Alphanumeric};
use serde_json::{Value, json};

/// The signing key of test servers, so tests can forge tokens the way an attacker would.
pub const TEST_JWT_SECRET: &str = "nexo-test-secret-0123456789abcdef0123456789";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub port: u16,
    pub app: AppContext,
    pub base_domain: String,
    client: reqwest::Client,
    data_dir: std::sync::Arc<tempfile::TempDir>,
    register: Register,
}

/// What a test registers beside the verticals (a job kind of its own).
pub type Register = fn(&mut api::Verticals);

/// A response: HTTP status and the GraphQL body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// `data` at a path like `login.accessToken`; panics with the whole body if absent.
    pub fn data(&self, path: &str) -> &Value {
        let mut value = &self.body["data"];
        for key in path.split('.') {
            value = &value[key];
        }
        assert!(!value.is_null(), "no data at {path}: {:#}", self.body);
        value
    }

    pub fn str(&self, path: &str) -> String {
        self.data(path)
            .as_str()
            .unwrap_or_else(|| panic!("{path} is not a string: {:#}", self.body))
            .to_owned()
    }

    /// The code of the first error, or `None` if the request succeeded.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    pub fn ok(&self) -> &Self {
        assert!(
            self.body.get("errors").is_none(),
            "expected success, got {:#}",
            self.body
        );
        self
    }

    pub fn error_code(&self) -> &str {
        self.code()
            .unwrap_or_else(|| panic!("expected an error, got {:#}", self.body))
    }
}

/// A provisioned tenant with a signed-in owner.
pub struct TestTenant {
    pub slug: String,
    pub host: String,
    pub owner_email: String,
    pub owner_token: String,
    pub owner_refresh: String,
}

pub fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            api::telemetry::init(api::config::LogFormat::Pretty);
        }
    });
}

/// The database tests run on: PostgreSQL if `NEXO_TEST_DATABASE_URL` is set, else SQLite.
pub fn test_database_url() -> Option<String> {
    std::env::var("NEXO_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `adjust` has changed its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_registering(adjust, |_| {}).await
}

/// Starts a server with `register`'s additions, after `adjust` has changed its
/// configuration.
pub async fn spawn_app_registering(
    adjust: impl FnOnce(&mut Config),
    register: Register,
) -> TestApp {
    let data_dir = std::sync::Arc::new(tempfile::tempdir().expect("temporary directory"));
    start_instance(data_dir, adjust, register).await
}

impl TestApp {
    /// The server's data directory (SQLite files, backups).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// A second server on the same data (the same SQLite files, or the same PostgreSQL
    /// database), as another instance behind the load balancer would be.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// Another instance, configured by `adjust`, with what this one registered.
    pub async fn another_instance_with(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        start_instance(self.data_dir.clone(), adjust, self.register).await
    }
}

/// A test server's configuration on `data_dir`: the test database, the test signing key,
/// and no job workers (on the shared PostgreSQL database they would take other tests'
/// jobs); a test that runs jobs asks for workers.
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut config = Config::development(data_dir);
    config.listen = "127.0.0.1:0".parse().expect("address");
    config.database_url = test_database_url();
    config.jwt_secret = Some(TEST_JWT_SECRET.into());
    config.db_max_connections = 8;
    config.jobs.workers = 0;
    config
}

async fn start_instance(
    data_dir: std::sync::Arc<tempfile::TempDir>,
    adjust: impl FnOnce(&mut Config),
    register: Register,
) -> TestApp {
    init_logs();
    let mut config = test_config(data_dir.path());
    adjust(&mut config);
    let base_domain = config.base_domain.clone();
    let application = Application::build_with(config, register)
        .await
        .expect("server builds");
    let port = application.port();
    let app = application.context().clone();
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    TestApp {
        port,
        app,
        base_domain,
        client: reqwest::Client::new(),
        data_dir,
        register,
    }
}

/// The head of an HTTP request read from `socket` (up to the blank line), as a local
/// receiver of Nexo's outbound calls sees it; `None` if the peer went away first.
pub async fn read_request_head(socket: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A slug no other test uses.
pub fn random_slug() -> String {
    let suffix: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(10)
        .map(char::from)
        .collect();
    format!("t{}", suffix.to_lowercase())
}

impl TestApp {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    pub fn tenant_host(&self, slug: &str) -> String {
        format!("{slug}.{}", self.base_domain)
    }

    pub fn admin_host(&self) -> String {
        format!("admin.{}", self.base_domain)
    }

    /// `/metrics` as an operator's scraper reads it (development: no token).
    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("http://127.0.0.1:{}/metrics", self.port))
            .send()
            .await
            .expect("metrics request")
            .text()
            .await
            .expect("metrics body")
    }

    /// SQL statements the server has run so far.
    pub fn statements(&self) -> u64 {
        self.app.store.statement_count()
    }

    /// POSTs one GraphQL operation to `host`.
    pub async fn gql(
        &self,
        host: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Reply {
        self.post_json(
            host,
            token,
            &json!({"query": query, "variables": variables}),
        )
        .await
    }

    pub async fn post_json(&self, host: &str, token: Option<&str>, body: &Value) -> Reply {
        self.post_raw(host, token, serde_json::to_vec(body).expect("json"))
            .await
    }

    pub async fn post_raw(&self, host: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
        let mut request = self
            .client
            .post(self.url())
            .header("Host", host)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        into_reply(request.send().await.expect("request sent")).await
    }

    /// POSTs a `multipart/form-data` GraphQL request (the multipart request spec).
    pub async fn post_multipart(
        &self,
        host: &str,
        token: Option<&str>,
        form: reqwest::multipart::Form,
    ) -> Reply {
        let mut request = self
            .client
            .post(self.url())
            .header("Host", host)
            .multipart(form);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        into_reply(request.send().await.expect("request sent")).await
    }

    /// GETs a path of the server (a download link): status, headers and body.
    pub async fn fetch(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .client
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        (status, headers, body)
    }

    /// A request to a path of the server on `host` (a public page), to finish and send.
    pub fn request(
        &self,
        method: reqwest::Method,
        host: &str,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("http://127.0.0.1:{}{path}", self.port))
            .header("Host", host)
    }

    /// POSTs `body` as if through a reverse proxy that sent `X-Forwarded-For`.
    pub async fn post_forwarded(
        &self,
        host: &str,
        forwarded_for: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut request = self.client.post(self.url()).header("Host", host).json(body);
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("X-Forwarded-For", forwarded_for);
        }
        into_reply(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, host: &str, query_string: &str) -> Reply {
        let response = self
            .client
            .get(format!("{}?{query_string}", self.url()))
            .header("Host", host)
            .send()
            .await
            .expect("request sent");
        into_reply(response).await
    }

    /// Creates a platform admin (as `nexo admin create` does) and signs them in.
    pub async fn admin_token(&self) -> String {
        let email = format!("{}@platform.example", random_slug());
        let (_, setup) = api::admin::service::create_admin(&self.app, &email)
            .await
            .expect("admin created");
        self.gql(
            &self.admin_host(),
            None,
            "mutation($t: String!, $p: String!) { completeAdminSetup(token: $t, password: $p) { accessToken } }",
            json!({"t": setup, "p": PASSWORD}),
        )
        .await
        .ok()
        .str("completeAdminSetup.accessToken")
    }

    /// A new tenant with its owner signed in (a platform admin of its own provisions it).
    pub async fn new_tenant(&self) -> TestTenant {
        let admin = self.admin_token().await;
        self.provision(&admin).await
    }

    /// Deletes a tenant through the admin API, as an operator would; the backup's path.
    pub async fn delete_tenant(&self, slug: &str) -> std::path::PathBuf {
        let deleted = self
            .gql(
                &self.admin_host(),
                Some(&self.admin_token().await),
                "mutation($s: String!) { deleteTenant(slug: $s) { backupPath } }",
                json!({"s": slug}),
            )
            .await;
        std::path::PathBuf::from(deleted.ok().str("deleteTenant.backupPath"))
    }

    /// Provisions a tenant through the admin API and completes its owner's setup.
    pub async fn provision(&self, admin_token: &str) -> TestTenant {
        self.provision_slug(admin_token, &random_slug()).await
    }

    /// Provisions a tenant at `slug` (which must be free) and completes its owner's setup.
    pub async fn provision_slug(&self, admin_token: &str, slug: &str) -> TestTenant {
        let slug = slug.to_owned();
        let owner_email = format!("owner@{slug}.example");
        let reply = self
            .gql(
                &self.admin_host(),
                Some(admin_token),
                "mutation($input: ProvisionTenantInput!) { provisionTenant(input: $input) { ownerSetupToken tenant { slug } } }",
                json!({"input": {"slug": slug, "name": format!("Company {slug}"), "ownerEmail": owner_email}}),
            )
            .await;
        let setup = reply.ok().str("provisionTenant.ownerSetupToken");
        let host = self.tenant_host(&slug);
        let session = self
            .gql(
                &host,
                None,
                "mutation($t: String!, $p: String!) { completeSetup(token: $t, password: $p) { accessToken refreshToken } }",
                json!({"t": setup, "p": PASSWORD}),
            )
            .await;
        session.ok();
        TestTenant {
            owner_token: session.str("completeSetup.accessToken"),
            owner_refresh: session.str("completeSetup.refreshToken"),
            slug,
            host,
            owner_email,
        }
    }

    /// The id of the tenant's first pipeline (the default one of a new tenant).
    pub async fn first_pipeline_id(&self, tenant: &TestTenant) -> Value {
        self.gql(
            &tenant.host,
            Some(&tenant.owner_token),
            "{ pipelines { id } }",
            json!({}),
        )
        .await
        .ok()
        .data("pipelines")[0]["id"]
            .clone()
    }

    /// Invites a user with `role` into `tenant` and signs them in; returns (user id, token).
    pub async fn add_user(&self, tenant: &TestTenant, role: &str) -> (String, String) {
        let email = format!("{}@{}.example", random_slug(), tenant.slug);
        let invite = self
            .gql(
                &tenant.host,
                Some(&tenant.owner_token),
                &format!("mutation($e: String!) {{ inviteUser(email: $e, role: {role}) {{ inviteToken user {{ id }} }} }}"),
                json!({"e": email}),
            )
            .await;
        invite.ok();
        let accepted = self
            .gql(
                &tenant.host,
                None,
                "mutation($t: String!, $p: String!) { acceptInvite(token: $t, password: $p) { accessToken } }",
                json!({"t": invite.str("inviteUser.inviteToken"), "p": PASSWORD}),
            )
            .await;
        (
            invite.str("inviteUser.user.id"),
            accepted.ok().str("acceptInvite.accessToken"),
        )
    }
}

impl TestApp {
    /// The tenant registered at `slug`, as the server's storage addresses it.
    pub async fn tenant(&self, slug: &str) -> api::tenancy::Tenant {
        self.app
            .registry
            .by_slug(slug)
            .await
            .expect("registry")
            .expect("a tenant at this slug")
    }

    /// Runs SQL in a tenant's own database, to arrange what the API cannot (moving a
    /// record's timestamps into the past for time-based figures).
    pub async fn tenant_sql(&self, slug: &str, sql: &str) {
        use sea_orm::ConnectionTrait;
        let tenant = self.tenant(slug).await;
        let tx = self
            .app
            .store
            .begin_tenant(&tenant, api::tenancy::TxMode::Write)
            .await
            .expect("tenant transaction");
        tx.execute_unprepared(sql).await.expect("fixture SQL runs");
        tx.commit().await.expect("fixture committed");
    }
}

/// A time `days` ago, as SQL text both backends read as a timestamp.
pub fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let text = response.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply { status, body }
}

/// An id as a SQL literal in a tenant's database: a UUID on PostgreSQL, 16 bytes on SQLite.
pub fn id_sql(id: &str) -> String {
    let uuid = uuid::Uuid::parse_str(id).expect("an id");
    if test_database_url().is_some() {
        format!("'{uuid}'")
    } else {
        format!("X'{}'", uuid.simple())
    }
}

/// A GraphQL subscription over WebSocket, as a dashboard holds one.
pub struct Subscription {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    legacy: bool,
}

/// How a WebSocket connection ended before it could subscribe.
#[derive(Debug)]
pub enum Refusal {
    /// Closed by the server, with its close code.
    Closed(u16),
    /// An error message of the legacy protocol.
    ConnectionError(Value),
}

impl TestApp {
    /// Opens a WebSocket to `host` with `protocol` (`graphql-transport-ws` or `graphql-ws`),
    /// sends `connection_init` with the token, and subscribes to `query`.
    pub async fn subscribe(
        &self,
        host: &str,
        token: Option<&str>,
        protocol: &str,
        query: &str,
        variables: Value,
    ) -> Result<Subscription, Refusal> {
        use futures::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::{
            Message, client::IntoClientRequest, http::HeaderValue,
        };
        let mut request = format!("ws://127.0.0.1:{}/graphql", self.port)
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("Host", HeaderValue::from_str(host).expect("host"));
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocol).expect("protocol"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connects");
        let legacy = protocol == "graphql-ws";
        let init = match token {
            Some(token) => {
                json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}})
            }
            None => json!({"type": "connection_init", "payload": {}}),
        };
        socket
            .send(Message::Text(init.to_string().into()))
            .await
            .expect("init sent");
        loop {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
                .await
                .expect("the server answers connection_init");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON message");
                    match message["type"].as_str() {
                        Some("connection_ack") => break,
                        Some("connection_error") => return Err(Refusal::ConnectionError(message)),
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(Refusal::Closed(
                        frame.map(|f| u16::from(f.code)).unwrap_or(0),
                    ));
                }
                Some(Ok(_)) => {}
                _ => return Err(Refusal::Closed(0)),
            }
        }
        let start = json!({
            "id": "1",
            "type": if legacy { "start" } else { "subscribe" },
            "payload": {"query": query, "variables": variables},
        });
        socket
            .send(Message::Text(start.to_string().into()))
            .await
            .expect("subscribe sent");
        Ok(Subscription { socket, legacy })
    }
}

impl Subscription {
    /// The next result the subscription delivers (its `payload`); panics if none comes
    /// within 10 s, so a broken server fails the test instead of hanging it.
    pub async fn next(&mut self) -> Value {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let data = if self.legacy { "data" } else { "next" };
        loop {
            let frame =
                tokio::time::timeout(std::time::Duration::from_secs(10), self.socket.next())
                    .await
                    .expect("an event within 10 s");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON message");
                    if message["type"] == data {
                        return message["payload"].clone();
                    }
                    assert!(
                        !matches!(message["type"].as_str(), Some("error" | "complete")),
                        "subscription ended: {message}"
                    );
                }
                Some(Ok(_)) => {}
                other => panic!("connection ended: {other:?}"),
            }
        }
    }
}

impl Subscription {
    /// The next protocol message, whatever its type (`next`, `error`, `complete`, ...).
    pub async fn next_message(&mut self) -> Value {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame =
                tokio::time::timeout(std::time::Duration::from_secs(10), self.socket.next())
                    .await
                    .expect("a message within 10 s");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON message");
                    if message["type"] != "ping" && message["type"] != "ka" {
                        return message;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("connection ended: {other:?}"),
            }
        }
    }
}

impl Subscription {
    /// The code of the next operation error on the connection (passing over completions).
    pub async fn refusal_code(&mut self) -> String {
        loop {
            let message = self.next_message().await;
            if message["type"] == "complete" {
                continue;
            }
            return message["payload"]["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_else(|| panic!("expected an error, got {message}"))
                .to_owned();
        }
    }

    /// Starts another operation `id` on the same connection.
    pub async fn start(&mut self, id: &str, query: &str, variables: Value) {
        use futures::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let start = json!({
            "id": id,
            "type": if self.legacy { "start" } else { "subscribe" },
            "payload": {"query": query, "variables": variables},
        });
        self.socket
            .send(Message::Text(start.to_string().into()))
            .await
            .expect("operation sent");
    }

    /// Sends a raw text message on the connection.
    pub async fn send_text(&mut self, text: String) {
        use futures::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("message sent");
    }

    /// Reads until the server closes the connection; returns its close code (0 without
    /// one). Panics if the connection stays open for 10 s.
    pub async fn close_code(&mut self) -> u16 {
        wait_for_close(&mut self.socket).await
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn wait_for_close(socket: &mut Socket) -> u16 {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("the server closes the connection within 10 s");
        match frame {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| u16::from(f.code)).unwrap_or(0);
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return 0,
        }
    }
}

/// A WebSocket opened to the server that has sent nothing yet.
pub struct RawSocket(Socket);

impl TestApp {
    /// Opens a `graphql-transport-ws` WebSocket to `host` and sends nothing.
    pub async fn raw_socket(&self, host: &str) -> RawSocket {
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
        let mut request = format!("ws://127.0.0.1:{}/graphql", self.port)
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("Host", HeaderValue::from_str(host).expect("host"));
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connects");
        RawSocket(socket)
    }
}

impl RawSocket {
    pub async fn send_text(&mut self, text: String) {
        use futures::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        // The server may already have closed; what it answers is what the test reads.
        let _ = self.0.send(Message::Text(text.into())).await;
    }

    /// See [`Subscription::close_code`].
    pub async fn close_code(&mut self) -> u16 {
        wait_for_close(&mut self.0).await
    }
}

/// Signs `claims` with the test servers' key, as someone holding it (or a forger who
/// guessed it) would.
pub fn sign_claims(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .expect("token")
}

/// The claims of a JWT, unverified.
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64"),
    )
    .expect("json")
}
