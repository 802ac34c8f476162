//! `abuse`: one tenant's user posts `createContact` with a tag list of about 1 MB (just under
//! the body limit) as fast as a few clients can, while another tenant reads contacts at a
//! fixed rate. Reports how long each refusal takes and the other tenant's latency alone and
//! during the attack.

use std::{sync::Arc, time::Duration};

use anyhow::bail;
use serde_json::{Value, json};

use crate::{
    Bench,
    fixtures::{self, Client, MainTenant},
    load::{self, Phase, Request},
    main_request,
};

/// The other tenant's reads per second.
const VICTIM_RATE: f64 = 100.0;
/// Tags of the attack: `"t000000",` is 10 bytes, so about 1,000,000 bytes of body.
const TAGS: usize = 100_000;

pub async fn abuse(bench: &mut Bench, main: &Arc<MainTenant>) -> anyhow::Result<String> {
    let attacker = fixtures::small_tenant(
        &bench.setup,
        "bench-abuser".to_owned(),
        bench.args.board_per_stage,
    )
    .await?;
    let body = Arc::new(attack_body());
    let attack = refused_request(&bench.client, &attacker.host, &attacker.token, body.clone());
    let victim = main_request(&bench.client, main, "contact");
    for n in 0..20 {
        victim(u64::MAX - n).await?;
        attack(n).await?;
    }
    let duration = bench.duration();
    let before = bench.server.usage().await?;
    let alone = load::open_loop(&victim, VICTIM_RATE, duration).await;
    let victim_cpu = (bench.server.usage().await? - before).server_cpu;
    let mut report = format!(
        "abuse: createContact with {TAGS} tags ({:.2} MB body); another tenant's contact at {VICTIM_RATE:.0}/s alone: p50 {:.2} ms, p99 {:.2} ms",
        body.len() as f64 / 1e6,
        alone.ms(0.50),
        alone.ms(0.99),
    );
    check(bench, "contact alone", &alone);
    // One client sending one request after another, then two: on this machine's two cores
    // (shared with this program) two are as many as the CPU can run at once.
    for attackers in [1, 2] {
        let before = bench.server.usage().await?;
        let (during, refusals) = tokio::join!(
            load::open_loop(&victim, VICTIM_RATE, duration),
            load::saturate(&attack, attackers, duration)
        );
        let server_cpu = (bench.server.usage().await? - before).server_cpu;
        check(bench, "contact during the attack", &during);
        check(bench, "refusal", &refusals);
        report.push_str(&format!(
            "\n  {attackers} attacking client(s): {} refused ({:.0}/s, {:.2} ms of server CPU each), in p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; the other tenant's contact meanwhile: p50 {:.2} ms, p99 {:.2} ms",
            refusals.ok,
            refusals.per_second(),
            1000.0 * (server_cpu - victim_cpu).max(0.0) / refusals.ok.max(1) as f64,
            refusals.ms(0.50),
            refusals.ms(0.99),
            max_ms(&refusals),
            during.ms(0.50),
            during.ms(0.99),
        ));
    }
    Ok(report)
}

fn check(bench: &mut Bench, what: &str, phase: &Phase) {
    if let Some(error) = &phase.first_error {
        eprintln!("abuse ({what}): first error: {error}");
        bench.failures.push(format!("abuse: {what}"));
    }
}

fn max_ms(phase: &Phase) -> f64 {
    phase.latency.max() as f64 / 1000.0
}

fn attack_body() -> Vec<u8> {
    let tags: Vec<String> = (0..TAGS).map(|i| format!("t{i:06}")).collect();
    serde_json::to_vec(&json!({
        "query": "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
        "variables": {"i": {"firstName": "Flood", "tags": tags}},
    }))
    .expect("serializing the attack")
}

/// A request that succeeds when the server refuses it as `BAD_USER_INPUT`.
fn refused_request(client: &Arc<Client>, host: &str, token: &str, body: Arc<Vec<u8>>) -> Request {
    let (client, host, token) = (client.clone(), host.to_owned(), token.to_owned());
    Arc::new(move |_| {
        let (client, host, token, body) =
            (client.clone(), host.clone(), token.clone(), body.clone());
        Box::pin(async move {
            let answer: Value = client
                .http
                .post(&client.url)
                .header("Host", host)
                .header("Content-Type", "application/json")
                .bearer_auth(token)
                .body(body.as_ref().clone())
                .timeout(Duration::from_secs(30))
                .send()
                .await?
                .json()
                .await?;
            match answer["errors"][0]["extensions"]["code"].as_str() {
                Some("BAD_USER_INPUT") => Ok(()),
                _ => bail!("expected BAD_USER_INPUT, got {answer}"),
            }
        })
    })
}
