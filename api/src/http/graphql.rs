//! `/graphql`: resolves the Host to a tenant or the admin API, enforces the request limits
//! before anything executes, authenticates, runs each operation in its own tenant
//! transaction, and commits before answering.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use async_graphql::{
    BatchRequest, BatchResponse, Data, Request, Response, ServerError,
    http::ALL_WEBSOCKET_PROTOCOLS,
    http::{GraphiQLSource, parse_query_string},
    parser::types::OperationType,
};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    body::{Body, Bytes},
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response as HttpResponse},
};
use futures::{SinkExt, StreamExt, TryStreamExt};

use super::{
    AppState,
    body::{self, BodyError},
};
use crate::{
    AppContext, ClientInfo,
    auth::{AdminPrincipal, Principal, TenantToken},
    error::AppError,
    graphql::{
        analyze_operation,
        batching::{self, RequestSpawner},
        check_literal_lists, check_variable_lists, finalize_response,
        subscriptions::SubscriptionExecutor,
    },
    tenancy::{HostTarget, Tenant, TenantTx, TxMode},
};

/// What the request is allowed to be, by HTTP method.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

pub(super) async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    protocol: Result<GraphQLProtocol, StatusCode>,
) -> HttpResponse {
    if let Ok(upgrade) = upgrade {
        return websocket(state, headers, upgrade, protocol).await;
    }
    let Some(query) = uri.query().filter(|q| !q.is_empty()) else {
        if state.app.config.is_production() {
            return refuse(AppError::MethodNotAllowed(
                "send GraphQL requests with POST".into(),
            ));
        }
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    };
    let batch = match parse_query_string(query) {
        Ok(request) => BatchRequest::Single(request),
        Err(e) => return refuse_parse(e.to_string()),
    };
    handle(state, peer, headers, batch, Method::Get).await
}

pub(super) async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> HttpResponse {
    if let Some(content_type) = multipart_type(&headers) {
        return match multipart(&state, &headers, content_type, body).await {
            Ok(batch) => handle(state, peer, headers, batch, Method::Post).await,
            Err(refusal) => refusal,
        };
    }
    let limit = state.app.config.limits.max_body_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return refuse(AppError::PayloadTooLarge(limit)),
    };
    let batch = match body::parse(&bytes, state.app.config.limits.max_input_list) {
        Ok(batch) => batch,
        Err(BodyError::Malformed(e)) => {
            return refuse_parse(format!("the body is not a GraphQL request: {e}"));
        }
        Err(BodyError::TooLarge(e)) => return refuse(e),
    };
    handle(state, peer, headers, batch, Method::Post).await
}

/// The content type of a `multipart/form-data` body (the GraphQL multipart request spec).
fn multipart_type(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
        .then(|| content_type.to_owned())
}

/// Reads a multipart request, with its files, within the upload limit: a declared length
/// over the limit is refused before any of the body is read, and a body that grows past
/// it is refused where it crosses (`PAYLOAD_TOO_LARGE`); nothing of it is kept.
async fn multipart(
    state: &AppState,
    headers: &HeaderMap,
    content_type: String,
    body: Body,
) -> Result<BatchRequest, HttpResponse> {
    let limits = &state.app.config.limits;
    let max_file = state.app.files.max_upload_bytes;
    // Room for the operations and the parts' headers beside the files.
    let max_total = max_file.saturating_add(limits.max_body_bytes);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max_total) {
        return Err(refuse(AppError::PayloadTooLarge(max_file)));
    }
    let mut read = 0usize;
    // Set when the body crosses the limit: the parser reports that only as a read error.
    let crossed = Arc::new(AtomicBool::new(false));
    let crossing = crossed.clone();
    let limited = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        read = read.saturating_add(chunk.len());
        if read > max_total {
            crossing.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("the body passed the upload limit"));
        }
        Ok(chunk)
    });
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(max_file)
        .max_num_files(MAX_UPLOADED_FILES);
    match async_graphql::http::receive_batch_body(
        Some(content_type),
        limited.into_async_read(),
        options,
    )
    .await
    {
        Ok(batch) => Ok(batch),
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
            Err(refuse(AppError::PayloadTooLarge(max_file)))
        }
        Err(_) if crossed.load(Ordering::Relaxed) => {
            Err(refuse(AppError::PayloadTooLarge(max_file)))
        }
        Err(e) => Err(refuse_parse(format!(
            "the multipart body is not a GraphQL request: {e}"
        ))),
    }
}

/// Files one request may upload.
const MAX_UPLOADED_FILES: usize = 10;

async fn handle(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    batch: BatchRequest,
    method: Method,
) -> HttpResponse {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let target = match state.app.resolver.resolve(host).await {
        Ok(target) => target,
        Err(e) => return refuse(e),
    };
    let span = tracing::Span::current();
    match &target {
        HostTarget::Admin => span.record("tenant", "admin"),
        HostTarget::Tenant(tenant) => span.record("tenant", tenant.slug.as_str()),
    };
    let max_batch = state.app.config.limits.max_batch;
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > max_batch
    {
        return refuse(AppError::QueryTooComplex(format!(
            "the batch has {} operations; at most {max_batch} are allowed",
            requests.len()
        )));
    }
    let client = ClientInfo {
        ip: state.app.client_ip(&headers, peer),
    };
    let bearer = match bearer_token(&headers) {
        Ok(bearer) => bearer,
        Err(e) => return refuse(e),
    };
    let mutates = AtomicBool::new(false);
    let response = match target {
        HostTarget::Admin => {
            let principal = match bearer.map(|t| state.app.keys.verify_admin(t)).transpose() {
                Ok(principal) => principal,
                Err(e) => return refuse(e),
            };
            run_batch(batch, |request| {
                run_admin(&state, request, principal.clone(), client, method, &mutates)
            })
            .await
        }
        HostTarget::Tenant(tenant) => {
            let principal = match bearer {
                None => None,
                Some(token) => match state.app.authorize_bearer(&tenant, token).await {
                    Ok(principal) => Some(principal),
                    Err(e) => return refuse(e),
                },
            };
            run_batch(batch, |request| {
                run_tenant(
                    &state,
                    tenant.clone(),
                    request,
                    principal.clone(),
                    client,
                    method,
                    &mutates,
                )
            })
            .await
        }
    };
    match response {
        Ok(response) => respond(
            &response,
            state.app.config.limits.max_response_bytes,
            mutates.load(Ordering::Relaxed),
        ),
        Err(e) => refuse(e),
    }
}

/// The response as JSON. One larger than `limit` is refused, unless a mutation ran: what
/// it did is committed and must be acknowledged.
fn respond(response: &BatchResponse, limit: usize, mutated: bool) -> HttpResponse {
    let mut body = LimitedBuffer {
        bytes: Vec::with_capacity(4096),
        limit: if mutated { usize::MAX } else { limit },
        exceeded: false,
    };
    match serde_json::to_writer(&mut body, response) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body.bytes).into_response(),
        Err(_) if body.exceeded => refuse(AppError::QueryTooComplex(format!(
            "the response would be larger than {limit} bytes; ask for fewer items or fields"
        ))),
        Err(e) => refuse(AppError::internal(format!("writing a response: {e}"))),
    }
}

/// A buffer that refuses to grow past `limit`.
struct LimitedBuffer {
    bytes: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl std::io::Write for LimitedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("response size limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the operations of a batch one after the other; a refusal of any refuses the batch.
async fn run_batch<F, Fut>(batch: BatchRequest, mut run: F) -> Result<BatchResponse, AppError>
where
    F: FnMut(Request) -> Fut,
    Fut: Future<Output = Result<Response, AppError>>,
{
    match batch {
        BatchRequest::Single(request) => Ok(BatchResponse::Single(run(request).await?)),
        BatchRequest::Batch(requests) => {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                responses.push(run(request).await?);
            }
            Ok(BatchResponse::Batch(responses))
        }
    }
}

/// Parses and checks one operation; `Ok(Err(response))` is a GraphQL error response that
/// ends the operation before it runs.
fn prepare(
    app: &AppContext,
    request: &mut Request,
    method: Method,
    signed_in: bool,
    mutates: &AtomicBool,
) -> Result<Result<crate::graphql::OperationInfo, Response>, AppError> {
    let max_list = app.config.limits.max_input_list;
    if let Err(error) = check_variable_lists(request, max_list) {
        return Ok(Err(Response::from_errors(vec![error.to_server_error()])));
    }
    let operation_name = request.operation_name.clone();
    let doc = match request.parsed_query() {
        Ok(doc) => doc,
        Err(error) => return Ok(Err(parse_failure(error))),
    };
    if let Err(error) = check_literal_lists(doc, max_list) {
        return Ok(Err(Response::from_errors(vec![error.to_server_error()])));
    }
    let info = analyze_operation(
        doc,
        operation_name.as_deref(),
        app.config.limits.max_aliases,
    )?;
    if info.kind == OperationType::Mutation {
        mutates.store(true, Ordering::Relaxed);
    }
    if method == Method::Get && info.kind == OperationType::Mutation {
        return Err(AppError::MethodNotAllowed(
            "mutations must be sent with POST".into(),
        ));
    }
    if info.introspection && !signed_in && app.config.is_production() {
        // Partners read the checked-in SDL; the live schema is for signed-in users.
        return Ok(Err(Response::from_errors(vec![
            AppError::Unauthenticated("sign in to introspect the schema".into()).to_server_error(),
        ])));
    }
    if info.kind == OperationType::Subscription {
        return Ok(Err(Response::from_errors(vec![with_code(
            ServerError::new("subscriptions are served over WebSocket", None),
            "BAD_REQUEST",
        )])));
    }
    Ok(Ok(info))
}

async fn run_tenant(
    state: &AppState,
    tenant: Arc<Tenant>,
    mut request: Request,
    principal: Option<Principal>,
    client: ClientInfo,
    method: Method,
    mutates: &AtomicBool,
) -> Result<Response, AppError> {
    let app = &state.app;
    let info = match prepare(app, &mut request, method, principal.is_some(), mutates)? {
        Ok(info) => info,
        Err(response) => return Ok(response),
    };
    let mode = match info.kind {
        OperationType::Mutation => TxMode::Write,
        _ => TxMode::Read,
    };
    let tx = Arc::new(
        TenantTx::new(app.store.clone(), tenant, mode, info.mutation_fields > 1)
            .waking(app.events.clone()),
    );
    let spawner = RequestSpawner::default();
    request = request.data(tx.clone()).data(client);
    for attach in &app.verticals.loaders {
        request = attach(request, &tx, &spawner);
    }
    request = match principal {
        Some(principal) => request.data(principal),
        None if app.config.is_production() => request.disable_introspection(),
        None => request,
    };
    let timeout = app.config.limits.request_timeout;
    let schema = match info.kind {
        OperationType::Mutation => &state.tenant_schema,
        _ => &state.tenant_read_schema,
    };
    let execution = batching::drive(schema.execute(request), spawner);
    let executed = tokio::time::timeout(timeout, execution).await;
    let Ok(mut response) = executed else {
        // The execution future is gone, and with it every other reference: dropping ours
        // rolls the transaction back.
        drop(tx);
        return Err(AppError::Timeout(timeout.as_millis()));
    };
    if let Err(e) = TenantTx::finish_shared(tx).await {
        // Nothing may be acknowledged that was not committed.
        return Ok(Response::from_errors(vec![e.to_server_error()]));
    }
    finalize_response(&mut response);
    Ok(response)
}

async fn run_admin(
    state: &AppState,
    mut request: Request,
    principal: Option<AdminPrincipal>,
    client: ClientInfo,
    method: Method,
    mutates: &AtomicBool,
) -> Result<Response, AppError> {
    let app = &state.app;
    if let Err(response) = prepare(app, &mut request, method, principal.is_some(), mutates)? {
        return Ok(response);
    }
    request = request.data(client);
    request = match principal {
        Some(principal) => request.data(principal),
        None if app.config.is_production() => request.disable_introspection(),
        None => request,
    };
    let timeout = app.config.limits.request_timeout;
    let mut response = tokio::time::timeout(timeout, state.admin_schema.execute(request))
        .await
        .map_err(|_| AppError::Timeout(timeout.as_millis()))?;
    finalize_response(&mut response);
    Ok(response)
}

const FORBIDDEN: &str = "Forbidden";

/// Until `connection_init` is accepted, a client may send no message larger than this:
/// an unauthenticated socket gets no more of the server's memory than a small init needs.
const MAX_INIT_MESSAGE: usize = 16 * 1024;

/// WebSocket subscriptions (`graphql-transport-ws` or the legacy `graphql-ws`): the tenant
/// comes from the upgrade request's Host, the user from the `connection_init` payload
/// (`{"authorization": "Bearer ..."}`); without a valid token the connection is refused
/// with the protocol's close code. The same limits as over HTTP apply to every message;
/// a connection that sends no `connection_init` in time is closed (4408), and one whose
/// token expires is closed (4401): the client connects again with a fresh token.
async fn websocket(
    state: AppState,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
    protocol: Result<GraphQLProtocol, StatusCode>,
) -> HttpResponse {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let tenant = match state.app.resolver.resolve(host).await {
        Ok(HostTarget::Tenant(tenant)) => tenant,
        Ok(HostTarget::Admin) => {
            return refuse(AppError::MethodNotAllowed(
                "the admin API has no subscriptions".into(),
            ));
        }
        Err(e) => return refuse(e),
    };
    let Ok(protocol) = protocol else {
        return refuse_parse(
            "name a WebSocket subprotocol: graphql-transport-ws or graphql-ws".into(),
        );
    };
    tracing::Span::current().record("tenant", tenant.slug.as_str());
    let executor = SubscriptionExecutor {
        schema: state.tenant_read_schema.clone(),
        app: state.app.clone(),
    };
    let app = state.app.clone();
    let limits = &state.app.config.limits;
    let init_timeout = limits.websocket_init_timeout;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // Small buffers: an idle subscriber should cost little memory. Clients send short
        // messages (init, subscribe, complete); a longer one grows the buffer as needed.
        .read_buffer_size(1024)
        .write_buffer_size(4 * 1024)
        // A subscriber that does not read is dropped once this much waits for it, instead
        // of growing the server's memory; it can resume from its last sequence.
        .max_write_buffer_size(256 * 1024)
        // A message is a request: the body limit applies to it as to a POST.
        .max_message_size(limits.max_body_bytes)
        .max_frame_size(limits.max_body_bytes)
        .on_upgrade(move |socket| async move {
            let (mut sink, stream) = socket.split();
            let (outgoing, mut to_send) = futures::channel::mpsc::channel::<Message>(8);
            // The token `connection_init` was accepted with, once it was.
            let (signed_in, session) = tokio::sync::watch::channel::<Option<TenantToken>>(None);
            let (abort, aborted) = tokio::sync::oneshot::channel::<CloseFrame>();
            // graphql-transport-ws closes a refused connection_init with 4403 Forbidden;
            // async-graphql closes it with 1002, so the refusal is recognised and recoded.
            let outgoing =
                outgoing
                    .sink_map_err(axum::Error::new)
                    .with(|message: Message| async move {
                        Ok::<_, axum::Error>(match message {
                            Message::Close(Some(frame))
                                if frame.code == 1002 && frame.reason.starts_with(FORBIDDEN) =>
                            {
                                Message::Close(Some(CloseFrame {
                                    code: 4403,
                                    reason: frame.reason,
                                }))
                            }
                            other => other,
                        })
                    });
            let incoming = small_until_initialised(stream, session.clone(), abort);
            let serve = GraphQLWebSocket::new_with_pair(outgoing, incoming, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let forbidden =
                        |why: &str| async_graphql::Error::new(format!("{FORBIDDEN}: {why}"));
                    let token = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v))
                        .ok_or_else(|| forbidden("connection_init needs an authorization"))?;
                    let token = app
                        .keys
                        .verify_tenant(token.trim(), tenant.id)
                        .map_err(|e| forbidden(&e.message()))?;
                    // Each operation is authorized again, with the user's role of then.
                    let (tenant, _) = app
                        .access
                        .authorize_again(&tenant, &token)
                        .await
                        .map_err(|e| forbidden(&e.message()))?;
                    let _ = signed_in.send(Some(token));
                    let mut data = Data::default();
                    data.insert(token);
                    data.insert(tenant);
                    data.insert(crate::events::slots::ConnectionSubscriptions::default());
                    Ok(data)
                })
                .serve();
            let ended = session_end(session, aborted, init_timeout);
            tokio::pin!(serve, ended);
            let mut serving = true;
            loop {
                // The server's own close first: a reader that refused a message also ends
                // the protocol, and its reason must not be lost to that ending.
                tokio::select! {
                    biased;
                    frame = &mut ended => {
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        return;
                    }
                    message = to_send.next() => match message {
                        Some(message) => {
                            if sink.send(message).await.is_err() {
                                return;
                            }
                        }
                        // The protocol has ended and everything it said was sent.
                        None => return,
                    },
                    () = &mut serve, if serving => serving = false,
                }
            }
        })
}

/// The client's messages, refusing (through `abort`) one larger than
/// [`MAX_INIT_MESSAGE`] before `connection_init` was accepted.
fn small_until_initialised(
    stream: impl futures::Stream<Item = Result<Message, axum::Error>> + Send + 'static,
    session: tokio::sync::watch::Receiver<Option<TenantToken>>,
    abort: tokio::sync::oneshot::Sender<CloseFrame>,
) -> impl futures::Stream<Item = Result<Message, axum::Error>> + Send + 'static {
    let mut abort = Some(abort);
    stream.take_while(move |message| {
        let size = match message {
            Ok(Message::Text(text)) => text.len(),
            Ok(Message::Binary(bytes)) => bytes.len(),
            _ => 0,
        };
        let allowed = size <= MAX_INIT_MESSAGE || session.borrow().is_some();
        if !allowed && let Some(abort) = abort.take() {
            let _ = abort.send(CloseFrame {
                code: 4400,
                reason: format!("messages before connection_init is accepted are at most {MAX_INIT_MESSAGE} bytes").into(),
            });
        }
        futures::future::ready(allowed)
    })
}

/// When the server ends a connection on its own: no accepted `connection_init` within
/// `init_timeout` (4408), the access token's expiry (4401), or an `abort` by the reader.
async fn session_end(
    mut session: tokio::sync::watch::Receiver<Option<TenantToken>>,
    aborted: tokio::sync::oneshot::Receiver<CloseFrame>,
    init_timeout: std::time::Duration,
) -> CloseFrame {
    let close = |code: u16, reason: &str| CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    // The reader drops `abort` when the connection ends: nothing more to close then.
    let aborted = async move {
        match aborted.await {
            Ok(frame) => frame,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::pin!(aborted);
    let token = tokio::select! {
        biased;
        frame = &mut aborted => return frame,
        signed_in = tokio::time::timeout(init_timeout, async {
            session.wait_for(Option::is_some).await.map(|token| *token)
        }) => {
            match signed_in {
                Ok(Ok(Some(token))) => token,
                // Refused: the protocol closes the connection itself.
                Ok(_) => return std::future::pending().await,
                Err(_) => return close(4408, "connection initialisation timeout"),
            }
        }
    };
    let left = (token.expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::select! {
        frame = aborted => frame,
        () = tokio::time::sleep(left) => close(
            4401,
            "the access token expired; connect again with a fresh one",
        ),
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AppError::Unauthenticated("unreadable Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(AppError::Unauthenticated(
            "the Authorization header must be `Bearer <access token>`".into(),
        )),
    }
}

fn refuse(error: AppError) -> HttpResponse {
    (error.http_status(), axum::Json(error.to_response_body())).into_response()
}

fn refuse_parse(message: String) -> HttpResponse {
    let body = serde_json::json!({
        "data": null,
        "errors": [{"message": message, "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn parse_failure(error: ServerError) -> Response {
    Response::from_errors(vec![with_code(error, "GRAPHQL_PARSE_FAILED")])
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}
