//! The live workloads. `subscribe`: board and dashboard subscribers of one tenant while its
//! opportunities move at a fixed rate: move-to-delivery latency, messages delivered,
//! statements and dashboard computations per second (memory is `idle`'s to measure: most of
//! these dashboards share one execution).
//! `idle`: many idle subscriptions over many tenants: held, live, and what each costs the
//! server in memory.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    Bench,
    fixtures::{BenchTenant, MainTenant},
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const BOARD: &str = "subscription($p: ID!, $a: Int) { pipelineBoard(pipelineId: $p, after: $a) { sequence type opportunityId opportunity { id title stage { name } contact { fullName } owner { email } } } }";
const DASHBOARD: &str = "subscription($p: ID!) { dashboard(pipelineId: $p) { openCount openValue { amount currency } weightedValue { amount } wonCount winRate activitiesToday overdueTasks coldLeads } }";
const EVENTS: &str = "subscription { events { sequence type entityId } }";
/// Events after a cursor: a subscription with a history of its own, never shared.
const RESUME: &str = "subscription($a: Int) { events(after: $a) { sequence type entityId } }";

/// A WebSocket with one subscription, acknowledged by the server.
async fn open(
    port: u16,
    tenant: &BenchTenant,
    query: &str,
    variables: Value,
) -> anyhow::Result<Socket> {
    let mut request = format!("ws://127.0.0.1:{port}/graphql").into_client_request()?;
    request
        .headers_mut()
        .insert("Host", HeaderValue::from_str(&tenant.host)?);
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    let init = json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", tenant.token)}});
    socket.send(Message::Text(init.to_string().into())).await?;
    loop {
        match socket.next().await.context("closed before ack")?? {
            Message::Text(text) if text.contains("connection_ack") => break,
            Message::Close(frame) => bail!("refused: {frame:?}"),
            _ => {}
        }
    }
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await?;
    Ok(socket)
}

/// The tenant's last event number.
async fn log_head(bench: &Bench, tenant: &BenchTenant) -> anyhow::Result<i64> {
    let mut head = 0;
    loop {
        let page = bench
            .client
            .post(
                &tenant.host,
                Some(&tenant.token),
                "query($a: Int!) { events(after: $a, first: 1000) { lastSequence hasMore } }",
                json!({"a": head}),
            )
            .await?;
        head = page["data"]["events"]["lastSequence"]
            .as_i64()
            .unwrap_or(head);
        if page["data"]["events"]["hasMore"] != json!(true) {
            return Ok(head);
        }
    }
}

pub async fn subscribe(bench: &Bench, main: &MainTenant) -> anyhow::Result<String> {
    let args = &bench.args;
    let port = bench.server.port;
    let tenant = &main.tenant;
    let head = log_head(bench, tenant).await?;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Default::default();
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1,
        120_000_000,
        3,
    )?));
    let deliveries = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for i in 0..args.subscribers * 2 {
        let is_board = i % 2 == 0;
        let mut socket = if is_board {
            open(
                port,
                tenant,
                BOARD,
                json!({"p": tenant.board_id, "a": head}),
            )
            .await?
        } else {
            open(port, tenant, DASHBOARD, json!({"p": tenant.board_id})).await?
        };
        let (sent, histogram, deliveries) = (sent.clone(), histogram.clone(), deliveries.clone());
        readers.push(tokio::spawn(async move {
            // A move can bring more than one message (stage changed, positions moved):
            // the first about each moved opportunity is its delivery.
            let mut seen = std::collections::HashSet::new();
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                if !is_board {
                    continue;
                }
                // Only the opportunity's id is needed: found in the text, not by parsing the
                // whole message, so that the client takes as little of the machine's CPU
                // from the server as it can.
                let Some(id) = opportunity_id(&text) else {
                    continue;
                };
                let start = sent.lock().ok().and_then(|s| s.get(id).copied());
                if let Some(start) = start
                    && seen.insert(id.to_owned())
                {
                    deliveries.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut h) = histogram.lock() {
                        let _ = h.record(start.elapsed().as_micros().max(1) as u64);
                    }
                }
            }
        }));
    }
    // The dashboards' first snapshots and the sockets settle before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = bench.server.usage().await?;
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / args.rate.max(1) as f64);
    let stages = &main.board_stage_ids;
    let mut movable = main.board_opportunities.clone();
    let mut moves = tokio::task::JoinSet::new();
    let mut n = 0u32;
    while started.elapsed().as_secs_f64() < args.duration {
        tokio::time::sleep_until((started + interval * n).into()).await;
        let Some((id, current)) = movable.pop() else {
            break;
        };
        // Always to another stage, so every move changes the board.
        let position = stages.iter().position(|s| *s == current).unwrap_or(0);
        let stage = stages[(position + 1 + n as usize % (stages.len() - 1)) % stages.len()].clone();
        if let Ok(mut s) = sent.lock() {
            s.insert(id.clone(), Instant::now());
        }
        let (client, host, token) = (
            bench.client.clone(),
            tenant.host.clone(),
            tenant.token.clone(),
        );
        moves.spawn(async move {
            client
                .post(
                    &host,
                    Some(&token),
                    "mutation($o: ID!, $s: ID!) { moveOpportunity(id: $o, stageId: $s) { id } }",
                    json!({"o": id, "s": stage}),
                )
                .await
        });
        n += 1;
    }
    let mut acknowledged = 0u64;
    while let Some(result) = moves.join_next().await {
        if matches!(result, Ok(Ok(_))) {
            acknowledged += 1;
        }
    }
    // Every board subscriber gets every acknowledged move; wait for the last ones.
    let expected = acknowledged * args.subscribers as u64;
    let waiting = Instant::now();
    while deliveries.load(Ordering::Relaxed) < expected
        && waiting.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let used = bench.server.usage().await? - before;
    for reader in readers {
        reader.abort();
    }
    let delivered = deliveries.load(Ordering::Relaxed);
    let h = histogram.lock().map_err(|_| anyhow::anyhow!("histogram"))?;
    let note = format!(
        "subscribe: {subs} board + {subs} dashboard subscribers, {acknowledged} moves at {rate}/s: \
         {delivered} of {expected} moves delivered to board subscribers, move-to-delivery p50 {p50:.1} ms \
         p99 {p99:.1} ms; {stmts:.1} statements/s, \
         {comps:.1} dashboard computations/s; CPU busy: server {server_cpu:.2}, PostgreSQL \
         {pg_cpu:.2} (of 2 cores)",
        subs = args.subscribers,
        rate = args.rate,
        p50 = h.value_at_quantile(0.5) as f64 / 1000.0,
        p99 = h.value_at_quantile(0.99) as f64 / 1000.0,
        stmts = used.statements as f64 / elapsed,
        comps = used.dashboard_computations as f64 / elapsed,
        server_cpu = used.server_cpu / elapsed,
        pg_cpu = if bench.postgres {
            used.postgres_cpu / elapsed
        } else {
            0.0
        },
    );
    if delivered < expected {
        bail!("{note}: moves lost");
    }
    Ok(note)
}

pub async fn idle(bench: &Bench, tenants: &[BenchTenant]) -> anyhow::Result<String> {
    let total = bench.args.idle_subscriptions;
    if tenants.is_empty() || total == 0 {
        bail!("idle: no tenants or no subscriptions to hold");
    }
    let kinds: Vec<&str> = bench.args.idle_kinds.split(',').map(str::trim).collect();
    let port = bench.server.port;
    // Every tenant in use before measuring, so that what its database connection costs
    // (on SQLite a pool per tenant) is not counted as its subscribers' cost; its log's
    // head is the cursor of `resume` subscriptions.
    let mut heads = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        heads.push(log_head(bench, tenant).await?);
    }
    let open_before = bench.server.live_subscriptions().await?;
    let rss_before = bench.server.rss_kib()?;
    let started = Instant::now();
    // Opened in two halves: the first also pays what is set up once per tenant (its feed,
    // its shared dashboard, statement caches); the second shows what one more subscriber
    // costs.
    let half = total / 2;
    let mut sockets = open_idle(port, tenants, &heads, &kinds, 0..half).await?;
    wait_held(bench, open_before, half).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_half = bench.server.rss_kib()?;
    sockets.extend(open_idle(port, tenants, &heads, &kinds, half..total).await?);
    let opening = started.elapsed().as_secs_f64();
    let held = wait_held(bench, open_before, total).await?;
    let executions = bench.server.subscription_executions().await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = bench.server.rss_kib()?;
    // Live: a change in the first tenant reaches its first subscriber (an events one when
    // events are among the kinds; a board subscriber sees the change as a move).
    let mut sockets = sockets;
    let first = &tenants[0];
    bench
        .client
        .post(
            &first.host,
            Some(&first.token),
            "mutation($p: ID!) { createOpportunity(input: {title: \"Idle check\", pipelineId: $p, value: {amount: \"1000.00\", currency: \"EUR\"}}) { id } }",
            json!({"p": first.board_id}),
        )
        .await?;
    let reached = tokio::time::timeout(Duration::from_secs(10), async {
        let mut snapshots = 0;
        while let Some(Ok(message)) = sockets[0].next().await {
            let Message::Text(text) = message else {
                continue;
            };
            // Events and board subscribers name the change; a dashboard sends a second
            // snapshot after its first.
            if text.contains("opportunity.created") {
                return true;
            }
            if text.contains("\"dashboard\"") {
                snapshots += 1;
                if snapshots == 2 {
                    return true;
                }
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    drop(sockets);
    let note = format!(
        "idle ({kinds}): {held} of {total} subscriptions held over {tenants} tenants (opened in \
         {opening:.1} s); server memory {marginal:.2} KiB per further idle subscriber, {average:.2} \
         KiB per subscriber with the per-tenant setup of the first {half} ({all:.1} MiB in all); \
         {executions} shared executions served them; a change reached a subscriber: {reached}",
        kinds = kinds.join("+"),
        tenants = tenants.len(),
        marginal = (rss_after - rss_half) / (total - half).max(1) as f64,
        average = (rss_half - rss_before) / half.max(1) as f64,
        all = (rss_after - rss_before) / 1024.0,
        reached = if reached { "yes" } else { "no" }
    );
    if held < total as u64 || !reached {
        bail!("{note}");
    }
    Ok(note)
}

/// Opens the idle subscriptions numbered `range`: tenants in turn, and for each round of
/// tenants the next kind.
async fn open_idle(
    port: u16,
    tenants: &[BenchTenant],
    heads: &[i64],
    kinds: &[&str],
    range: std::ops::Range<usize>,
) -> anyhow::Result<Vec<Socket>> {
    futures::stream::iter(range)
        .map(|i| {
            let tenant = &tenants[i % tenants.len()];
            let (query, variables) = match kinds[(i / tenants.len()) % kinds.len()] {
                "board" => (BOARD, json!({"p": tenant.board_id})),
                "dashboard" => (DASHBOARD, json!({"p": tenant.board_id})),
                "resume" => (RESUME, json!({"a": heads[i % tenants.len()]})),
                _ => (EVENTS, json!({})),
            };
            open(port, tenant, query, variables)
        })
        .buffered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Waits (at most 30 s) until the server holds `expected` more subscriptions than
/// `before`; returns how many it holds.
async fn wait_held(bench: &Bench, before: u64, expected: usize) -> anyhow::Result<u64> {
    let waiting = Instant::now();
    loop {
        let held = bench
            .server
            .live_subscriptions()
            .await?
            .saturating_sub(before);
        if held >= expected as u64 || waiting.elapsed() > Duration::from_secs(30) {
            return Ok(held);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `opportunityId` of a `pipelineBoard` message (a UUID, so never escaped).
fn opportunity_id(message: &str) -> Option<&str> {
    const KEY: &str = "\"opportunityId\":\"";
    let start = message.find(KEY)? + KEY.len();
    let length = message[start..].find('"')?;
    Some(&message[start..start + length])
}
