//! Pipelines, stages, opportunities, activities, the sales figures and the audit trail.

mod access;
mod board;
mod figures;
mod opportunities;

use serde_json::{Value, json};
use tests::{
    Reply, TestApp, TestTenant,
    crm::{create_contact, create_opportunity, create_pipeline},
    days_ago, id_sql, spawn_app,
};

struct Stage {
    id: String,
    name: String,
}

async fn setup() -> (TestApp, TestTenant) {
    let app = spawn_app().await;
    let tenant = app.new_tenant().await;
    (app, tenant)
}

async fn gql(app: &TestApp, t: &TestTenant, query: &str, vars: Value) -> Reply {
    app.gql(&t.host, Some(&t.owner_token), query, vars).await
}

/// The default pipeline and its stages (Lead, Qualified, Proposal, Negotiation, Won, Lost).
async fn default_pipeline(app: &TestApp, t: &TestTenant) -> (String, Vec<Stage>) {
    let reply = gql(
        app,
        t,
        "{ pipelines { id isDefault stages { id name } } }",
        json!({}),
    )
    .await;
    let pipeline = reply.ok().data("pipelines")[0].clone();
    let stages = pipeline["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| Stage {
            id: s["id"].as_str().unwrap_or_default().into(),
            name: s["name"].as_str().unwrap_or_default().into(),
        })
        .collect();
    (pipeline["id"].as_str().unwrap_or_default().into(), stages)
}

fn stage<'a>(stages: &'a [Stage], name: &str) -> &'a str {
    &stages
        .iter()
        .find(|s| s.name == name)
        .expect("stage exists")
        .id
}

async fn opportunity(app: &TestApp, t: &TestTenant, id: &str) -> Value {
    let reply = gql(
        app,
        t,
        "query($id: ID!) { opportunity(id: $id) { id title status position lostReason closedAt
            value { amount currency } weightedValue { amount currency }
            stage { id name } stageHistory { fromStageId toStageId changedBy { id } } } }",
        json!({"id": id}),
    )
    .await;
    reply.ok().data("opportunity").clone()
}

/// The ids of a stage's column, in board order.
async fn column(app: &TestApp, t: &TestTenant, pipeline: &str, stage_id: &str) -> Vec<String> {
    let reply = gql(
        app,
        t,
        "query($id: ID!) { pipeline(id: $id) { stages { id opportunities(first: 100) { nodes { id position } } } } }",
        json!({"id": pipeline}),
    )
    .await;
    let stages = reply
        .ok()
        .data("pipeline.stages")
        .as_array()
        .expect("stages")
        .clone();
    let stage = stages
        .iter()
        .find(|s| s["id"] == stage_id)
        .expect("stage on the board");
    let nodes = stage["opportunities"]["nodes"].as_array().expect("nodes");
    for (i, node) in nodes.iter().enumerate() {
        assert_eq!(
            node["position"],
            json!(i),
            "positions are contiguous: {nodes:?}"
        );
    }
    nodes
        .iter()
        .map(|n| n["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

const BOARD: &str = "query($id: ID!) { pipeline(id: $id) { id name stages { id name probability
    opportunities(first: 20) { totalCount totalValue { amount currency } nodes { id title
        value { amount currency } weightedValue { amount currency }
        contact { id fullName } company { id name } owner { id email }
        latestActivity { id subject createdAt } } } } } }";

/// Fills a pipeline's stages with opportunities through the API, 100 per request, each with
/// a contact, a company and (one in three) an activity.
async fn fill_board(app: &TestApp, t: &TestTenant, stage_ids: &[String], per_stage: usize) {
    let mut contacts = Vec::new();
    let mut companies = Vec::new();
    for i in 0..10 {
        contacts.push(
            create_contact(
                app,
                t,
                json!({"firstName": &format!("Buyer{i}"), "status": "QUALIFIED"}),
            )
            .await,
        );
        let reply = gql(
            app,
            t,
            "mutation($n: String!) { createCompany(input: {name: $n}) { id } }",
            json!({"n": format!("Company {i}")}),
        )
        .await;
        companies.push(reply.ok().str("createCompany.id"));
    }
    let mut pending: Vec<String> = Vec::new();
    let mut n = 0;
    for stage_id in stage_ids {
        for _ in 0..per_stage {
            pending.push(format!(
                "o{n}: createOpportunity(input: {{title: \"Deal {n}\", stageId: \"{stage_id}\", contactId: \"{}\", companyId: \"{}\", value: {{amount: \"{}.50\", currency: \"EUR\"}}}}) {{ id }}",
                contacts[n % contacts.len()],
                companies[n % companies.len()],
                1000 + n
            ));
            n += 1;
            if pending.len() == 100 {
                let reply = gql(
                    app,
                    t,
                    &format!("mutation {{ {} }}", pending.join(" ")),
                    json!({}),
                )
                .await;
                reply.ok();
                log_activities(app, t, &reply).await;
                pending.clear();
            }
        }
    }
    if !pending.is_empty() {
        let reply = gql(
            app,
            t,
            &format!("mutation {{ {} }}", pending.join(" ")),
            json!({}),
        )
        .await;
        reply.ok();
        log_activities(app, t, &reply).await;
    }
}

async fn log_activities(app: &TestApp, t: &TestTenant, created: &Reply) {
    let ids: Vec<String> = created.body["data"]
        .as_object()
        .expect("created")
        .values()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .step_by(3)
        .collect();
    let mutations: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("a{i}: logActivity(input: {{kind: CALL, subject: \"Call {i}\", opportunityId: \"{id}\"}}) {{ id }}"))
        .collect();
    if !mutations.is_empty() {
        gql(
            app,
            t,
            &format!("mutation {{ {} }}", mutations.join(" ")),
            json!({}),
        )
        .await
        .ok();
    }
}

/// Statements the board query runs, not counting its transaction's control
/// (BEGIN, the tenant's search path, COMMIT).
async fn board_statements(app: &TestApp, t: &TestTenant, pipeline: &str) -> (u64, Reply) {
    counted(app, t, BOARD, json!({"id": pipeline})).await
}

/// Statements a query runs (not counting its transaction's BEGIN, search path and COMMIT), and
/// its reply.
async fn counted(app: &TestApp, t: &TestTenant, query: &str, variables: Value) -> (u64, Reply) {
    let before = app.statements();
    let reply = gql(app, t, query, variables).await;
    (app.statements() - before, reply)
}
