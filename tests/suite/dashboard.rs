//! Live dashboards: figures that match the CRM's, shared computations.

use serde_json::{Value, json};
use tests::spawn_app;

const FIELDS: &str = "openCount openValue { amount currency } weightedValue { amount currency }
    wonCount wonValue { amount currency } winRate activitiesToday overdueTasks coldLeads";

fn figures(snapshot: &Value) -> Value {
    let mut figures = snapshot.clone();
    figures.as_object_mut().map(|o| o.remove("computedAt"));
    figures
}

#[tokio::test]
async fn dashboard_figures_match_the_crm_and_update_live() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let gql = |query: String, vars: Value| {
        let app = &app;
        let t = &t;
        async move { app.gql(&t.host, Some(&t.owner_token), &query, vars).await }
    };
    let pipeline = gql("{ pipelines { id stages { id name } } }".into(), json!({}))
        .await
        .ok()
        .data("pipelines")[0]
        .clone();
    let proposal = pipeline["stages"][2]["id"].clone();
    let mut ids = Vec::new();
    for amount in ["100.00", "300.00", "600.00"] {
        let reply = gql(
            "mutation($s: ID!, $a: Decimal!) { createOpportunity(input: {title: \"D\", stageId: $s, value: {amount: $a, currency: \"EUR\"}}) { id } }".into(),
            json!({"s": proposal, "a": amount}),
        )
        .await;
        ids.push(reply.ok().str("createOpportunity.id"));
    }
    gql(
        "mutation($o: ID!) { markWon(id: $o) { id } }".into(),
        json!({"o": ids[2]}),
    )
    .await
    .ok();
    gql(
        "mutation { createContact(input: {firstName: \"Quiet\", status: CONTACTED}) { id } }"
            .into(),
        json!({}),
    )
    .await
    .ok();

    let query = gql(format!("query($p: ID!) {{ dashboard(pipelineId: $p, range: LAST_30_DAYS) {{ computedAt {FIELDS} }} }}"), json!({"p": pipeline["id"]})).await;
    let now = figures(query.ok().data("dashboard"));
    assert_eq!(now["openCount"], 2);
    assert_eq!(
        now["openValue"],
        json!([{"amount": "400.00", "currency": "EUR"}])
    );
    assert_eq!(
        now["weightedValue"],
        json!([{"amount": "200.00", "currency": "EUR"}]),
        "Proposal is 50%"
    );
    assert_eq!(now["wonCount"], 1);
    assert_eq!(
        now["wonValue"],
        json!([{"amount": "600.00", "currency": "EUR"}])
    );
    assert_eq!(now["winRate"], 1.0);
    assert_eq!(
        now["coldLeads"], 0,
        "created just now, not quiet for 7 days"
    );
    // The same figures through the CRM queries.
    let crm = gql("query($p: ID!) { pipelineFigures(pipelineId: $p) { stage { name } count totalValue { amount } } }".into(), json!({"p": pipeline["id"]})).await;
    let rows = crm
        .ok()
        .data("pipelineFigures")
        .as_array()
        .expect("rows")
        .clone();
    let open: i64 = rows
        .iter()
        .filter(|r| r["stage"]["name"] != "Won" && r["stage"]["name"] != "Lost")
        .filter_map(|r| r["count"].as_i64())
        .sum();
    assert_eq!(now["openCount"], open);

    let subscription = format!(
        "subscription($p: ID!) {{ dashboard(pipelineId: $p, range: LAST_30_DAYS) {{ computedAt {FIELDS} }} }}"
    );
    let mut live = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            &subscription,
            json!({"p": pipeline["id"]}),
        )
        .await
        .expect("subscribed");
    let first = figures(&live.next().await["data"]["dashboard"]);
    assert_eq!(first, now, "the first snapshot is the current one");
    gql(
        "mutation($o: ID!) { markLost(id: $o, reason: \"Timing\") { id } }".into(),
        json!({"o": ids[0]}),
    )
    .await
    .ok();
    let after = figures(&live.next().await["data"]["dashboard"]);
    assert_eq!(after["openCount"], 1);
    assert_eq!(after["winRate"], 0.5);
}

#[tokio::test]
async fn many_viewers_of_one_dashboard_cost_one_computation_per_change() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let pipeline = app.first_pipeline_id(&t).await;
    let subscription = "subscription($p: ID!) { dashboard(pipelineId: $p) { openCount } }";
    let mut viewers = Vec::new();
    for _ in 0..10 {
        let mut viewer = app
            .subscribe(
                &t.host,
                Some(&t.owner_token),
                "graphql-transport-ws",
                subscription,
                json!({"p": pipeline}),
            )
            .await
            .expect("subscribed");
        assert_eq!(viewer.next().await["data"]["dashboard"]["openCount"], 0);
        viewers.push(viewer);
    }
    let before = app
        .app
        .state::<api::dashboard::live::Dashboards>()
        .expect("dashboards registered")
        .computations();
    app.gql(&t.host, Some(&t.owner_token), "mutation { createOpportunity(input: {title: \"New\", value: {amount: 1, currency: \"EUR\"}}) { id } }", json!({}))
        .await
        .ok();
    for viewer in &mut viewers {
        assert_eq!(viewer.next().await["data"]["dashboard"]["openCount"], 1);
    }
    assert_eq!(
        app.app
            .state::<api::dashboard::live::Dashboards>()
            .expect("dashboards registered")
            .computations()
            - before,
        1,
        "one computation for ten viewers"
    );
}
