//! The benchmark's raw-SQL baseline routes: off unless configured, never in production,
//! behind the same host and token checks as GraphQL, and answering exactly what GraphQL
//! answers for the board and the contact read.

use api::seed::{BoardLayout, SeedPlan, seed_tenant};
use serde_json::{Value, json};
use tests::{TestApp, spawn_app, spawn_app_with};

const BOARD: &str = "query($id: ID!) { pipeline(id: $id) { id name stages { id name probability
    opportunities(first: 20) { totalCount totalValue { amount currency } nodes { id title
      value { amount currency } weightedValue { amount currency }
      contact { id fullName email } company { id name } owner { id email }
      latestActivity { id kind subject createdAt } } } } } }";
const CONTACT: &str = "query($id: ID!) { contact(id: $id) { id fullName email phone status
    company { id name domain } } }";

async fn baseline(app: &TestApp, path: &str, host: &str, token: &str, id: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/baseline/{path}", app.port))
        .header("Host", host)
        .bearer_auth(token)
        .json(&json!({"id": id}))
        .send()
        .await
        .expect("baseline request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_baseline_answers_what_graphql_answers() {
    let app = spawn_app_with(|c| c.bench_baseline = true).await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let other = app.provision(&admin).await;
    let plan = SeedPlan {
        contacts: 40,
        opportunities: 10,
        activities: 20,
        extra_pipelines: 0,
        board: Some(BoardLayout {
            stages: 5,
            per_stage: 25,
        }),
        seed: 3,
    };
    seed_tenant(&app.app, &t.slug, &plan).await.expect("seeded");
    let ids = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ pipelines { id name } contacts(first: 40) { nodes { id } } }",
            json!({}),
        )
        .await;
    let board = ids
        .data("pipelines")
        .as_array()
        .expect("pipelines")
        .iter()
        .find(|p| p["name"] == "Board")
        .and_then(|p| p["id"].as_str())
        .expect("board")
        .to_owned();
    let graphql = app
        .gql(&t.host, Some(&t.owner_token), BOARD, json!({"id": board}))
        .await;
    let (status, raw) = baseline(&app, "board", &t.host, &t.owner_token, &board).await;
    assert_eq!(status, 200);
    assert_eq!(raw, graphql.body, "the board, raw and through GraphQL");
    // More than `first: 20` in a stage: the baseline stops at 20 too.
    assert_eq!(
        raw["data"]["pipeline"]["stages"][0]["opportunities"]["totalCount"],
        25
    );
    for contact in ids.data("contacts.nodes").as_array().expect("contacts") {
        let id = contact["id"].as_str().expect("id");
        let graphql = app
            .gql(&t.host, Some(&t.owner_token), CONTACT, json!({"id": id}))
            .await;
        let (_, raw) = baseline(&app, "contact", &t.host, &t.owner_token, id).await;
        assert_eq!(raw, graphql.body, "contact {id}");
    }
    // Another tenant neither sees this tenant's data nor gets in with its token.
    let first = ids.data("contacts.nodes")[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, foreign) = baseline(&app, "contact", &other.host, &other.owner_token, &first).await;
    assert_eq!(foreign, json!({"data": {"contact": null}}));
    let (status, _) = baseline(&app, "contact", &other.host, &t.owner_token, &first).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_baseline_is_off_unless_configured_and_never_in_production() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (status, _) = baseline(
        &app,
        "board",
        &t.host,
        &t.owner_token,
        &uuid::Uuid::nil().to_string(),
    )
    .await;
    assert_eq!(status, 404);

    let mut config = api::Config::development(std::env::temp_dir());
    config.environment = api::config::Environment::Production;
    config.jwt_secret = Some("a production signing key of 32 bytes or more".into());
    config.bench_baseline = true;
    assert!(config.validate().is_err());
}
