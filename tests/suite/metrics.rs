use serde_json::json;
use tests::{spawn_app, spawn_app_with};

async fn get_metrics(app: &tests::TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("http://127.0.0.1:{}/metrics", app.port));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("metrics request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("metrics body"))
}

fn value(body: &str, name: &str) -> u64 {
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[tokio::test]
async fn metrics_count_the_statements_the_server_runs() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (status, before) = get_metrics(&app, None).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(value(&before, "nexo_live_subscriptions"), 0);
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "{ contacts(first: 5) { totalCount } }",
        json!({}),
    )
    .await
    .ok();
    let (_, after) = get_metrics(&app, None).await;
    let ran =
        value(&after, "nexo_sql_statements_total") - value(&before, "nexo_sql_statements_total");
    assert!(ran >= 1, "a read of contacts ran statements: {after}");
    assert_eq!(
        value(&after, "nexo_sql_statements_total"),
        app.statements(),
        "the figure is the store's own counter"
    );
}

#[tokio::test]
async fn metrics_ask_for_their_token_when_one_is_set() {
    let app = spawn_app_with(|c| c.metrics_token = Some("scrape-secret".into())).await;
    assert_eq!(get_metrics(&app, None).await.0, 401);
    assert_eq!(get_metrics(&app, Some("wrong")).await.0, 401);
    let (status, body) = get_metrics(&app, Some("scrape-secret")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("# TYPE nexo_sql_statements_total counter"),
        "{body}"
    );
    // A vertical's own figure, registered by the dashboards, after the platform's.
    assert!(
        body.contains(
            "# TYPE nexo_dashboard_computations_total counter\nnexo_dashboard_computations_total 0"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn production_without_a_metrics_token_has_no_metrics() {
    let app = spawn_app_with(|c| c.environment = api::config::Environment::Production).await;
    assert_eq!(get_metrics(&app, None).await.0, 404);
}
