//! The `subscribe` workload: many board and dashboard subscribers of one tenant while
//! opportunities move at a fixed rate; commit-to-delivery latency, memory per subscriber,
//! statements spent.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use rand::{SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::Target;

pub struct LiveReport {
    pub board_subscribers: usize,
    pub dashboard_subscribers: usize,
    pub mutations: u64,
    /// Board messages received (a move that changes nothing publishes nothing).
    pub deliveries: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rss_per_subscriber_kib: f64,
    pub statements_per_second: f64,
    pub dashboard_computations_per_second: f64,
}

type Sent = Arc<Mutex<HashMap<String, Instant>>>;

async fn open(
    target: &Target,
    port: u16,
    query: &str,
    variables: Value,
) -> anyhow::Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let mut request = format!("ws://127.0.0.1:{port}/graphql").into_client_request()?;
    request
        .headers_mut()
        .insert("Host", HeaderValue::from_str(&target.host)?);
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    // Small client buffers, so that the process's memory reflects the server's share.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    let init = json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", target.token)}});
    socket.send(Message::Text(init.to_string().into())).await?;
    loop {
        match socket.next().await.context("closed before ack")?? {
            Message::Text(text) if text.contains("connection_ack") => break,
            Message::Close(_) => anyhow::bail!("refused"),
            _ => {}
        }
    }
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await?;
    Ok(socket)
}

fn rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0.0)
}

pub async fn run(
    target: &Arc<Target>,
    port: u16,
    subscribers: usize,
    rate: u64,
    seconds: f64,
) -> anyhow::Result<LiveReport> {
    // The log's head: page through it (a page holds at most 1000 events).
    let mut head = 0;
    loop {
        let page = target
            .post(
                "query($a: Int!) { events(after: $a, first: 1000) { lastSequence hasMore } }",
                json!({"a": head}),
            )
            .await?;
        head = page["data"]["events"]["lastSequence"]
            .as_i64()
            .unwrap_or(head);
        if page["data"]["events"]["hasMore"] != json!(true) {
            break;
        }
    }
    let rss_before = rss_kib();
    let sent: Sent = Default::default();
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let mut readers = Vec::new();
    let board = "subscription($p: ID!, $a: Int) { pipelineBoard(pipelineId: $p, after: $a) { sequence type opportunityId opportunity { id title stage { name } contact { fullName } owner { email } } } }";
    let dashboard = "subscription($p: ID!) { dashboard(pipelineId: $p) { openCount openValue { amount currency } weightedValue { amount } wonCount winRate activitiesToday overdueTasks coldLeads } }";
    for i in 0..subscribers * 2 {
        let is_board = i % 2 == 0;
        let mut socket = if is_board {
            open(
                target,
                port,
                board,
                json!({"p": target.pipeline_id, "a": head}),
            )
            .await?
        } else {
            open(target, port, dashboard, json!({"p": target.pipeline_id})).await?
        };
        let sent = sent.clone();
        let histogram = histogram.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                if !is_board {
                    continue;
                }
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let Some(id) = value["payload"]["data"]["pipelineBoard"]["opportunityId"].as_str()
                else {
                    continue;
                };
                let start = sent.lock().ok().and_then(|s| s.get(id).copied());
                if let Some(start) = start
                    && let Ok(mut h) = histogram.lock()
                {
                    let _ = h.record(start.elapsed().as_micros().max(1) as u64);
                }
            }
        }));
    }
    // Let the dashboards' first snapshots and the sockets settle before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib();
    let statements_before = target.app.store.statement_count();
    let computations_before = target.app.dashboards.computations();
    let mut rng = StdRng::seed_from_u64(99);
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut mutations = 0u64;
    let mut stages: Vec<String> = Vec::new();
    let pipeline = target
        .post(
            "query($p: ID!) { pipeline(id: $p) { stages { id } } }",
            json!({"p": target.pipeline_id}),
        )
        .await?;
    for stage in pipeline["data"]["pipeline"]["stages"]
        .as_array()
        .context("stages")?
    {
        stages.push(stage["id"].as_str().unwrap_or_default().to_owned());
    }
    let mut movable = target.opportunity_ids.clone();
    while started.elapsed().as_secs_f64() < seconds {
        let due = started + interval * mutations as u32;
        tokio::time::sleep_until(due.into()).await;
        let Some(id) = movable.pop() else { break };
        let stage = stages.choose(&mut rng).cloned().unwrap_or_default();
        if let Ok(mut s) = sent.lock() {
            s.insert(id.clone(), Instant::now());
        }
        let target = target.clone();
        tokio::spawn(async move {
            let _ = target
                .post(
                    "mutation($o: ID!, $s: ID!) { moveOpportunity(id: $o, stageId: $s) { id } }",
                    json!({"o": id, "s": stage}),
                )
                .await;
        });
        mutations += 1;
    }
    // Deliveries still in flight.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let statements = target.app.store.statement_count() - statements_before;
    let computations = target.app.dashboards.computations() - computations_before;
    for reader in readers {
        reader.abort();
    }
    let h = histogram.lock().map_err(|_| anyhow::anyhow!("histogram"))?;
    Ok(LiveReport {
        board_subscribers: subscribers,
        dashboard_subscribers: subscribers,
        mutations,
        deliveries: h.len(),
        p50_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
        rss_per_subscriber_kib: (rss_after - rss_before) / (subscribers * 2) as f64,
        statements_per_second: statements as f64 / elapsed,
        dashboard_computations_per_second: computations as f64 / elapsed,
    })
}
