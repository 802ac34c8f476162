//! Opportunities audited and reverted; who may do what; another tenant that reaches nothing.

use super::*;

#[tokio::test]
async fn opportunity_updates_are_audited_and_reverted() {
    let (app, t) = setup().await;
    let (_, stages) = default_pipeline(&app, &t).await;
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Audit me", "value": {"amount": "100", "currency": "EUR"}}),
    )
    .await;
    gql(&app, &t, "mutation($id: ID!) { updateOpportunity(id: $id, input: {title: \"Renamed\", value: {amount: \"250\", currency: \"EUR\"}}) { id } }", json!({"id": id})).await.ok();
    gql(
        &app,
        &t,
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
        json!({"id": id, "s": stage(&stages, "Proposal")}),
    )
    .await
    .ok();
    let history = "query($id: ID!) { history(entityId: $id) { totalCount edges { node { id action revertOf actor { id } changes { field before after } } } } }";
    let entries = gql(&app, &t, history, json!({"id": id})).await;
    let nodes: Vec<Value> = entries
        .ok()
        .data("history.edges")
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let actions: Vec<&str> = nodes
        .iter()
        .map(|n| n["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(actions, vec!["CREATE", "UPDATE", "UPDATE"]);
    let update = &nodes[1];
    let fields: Vec<&str> = update["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["field"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(fields, vec!["title", "valueAmount"]);
    assert_eq!(update["changes"][0]["before"], "Audit me");
    assert!(update["actor"]["id"].is_string());

    let revert = gql(
        &app,
        &t,
        "mutation($e: ID!) { revert(auditEntryId: $e) { action revertOf } }",
        json!({"e": update["id"]}),
    )
    .await;
    assert_eq!(revert.ok().str("revert.action"), "REVERT");
    assert_eq!(revert.data("revert.revertOf"), &update["id"]);
    let reverted = opportunity(&app, &t, &id).await;
    assert_eq!(reverted["title"], "Audit me");
    assert_eq!(reverted["value"]["amount"], "100.00");
    assert_eq!(
        reverted["stage"]["name"], "Proposal",
        "the later move is kept"
    );
    let create_entry = gql(
        &app,
        &t,
        "mutation($e: ID!) { revert(auditEntryId: $e) { action } }",
        json!({"e": nodes[0]["id"]}),
    )
    .await;
    assert_eq!(create_entry.error_code(), "BAD_USER_INPUT");
    let unknown = gql(
        &app,
        &t,
        "mutation($e: ID!) { revert(auditEntryId: $e) { action } }",
        json!({"e": uuid::Uuid::now_v7().to_string()}),
    )
    .await;
    assert_eq!(unknown.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn pipeline_authorization_matrix() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let (_, support) = app.add_user(&t, "SUPPORT").await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    let create = "mutation { createOpportunity(input: {title: \"x\", value: {amount: 1, currency: \"EUR\"}}) { id } }";
    let as_user = |token: &str, query: &str, vars: Value| {
        let token = token.to_owned();
        let query = query.to_owned();
        let app = &app;
        let host = t.host.clone();
        async move { app.gql(&host, Some(&token), &query, vars).await }
    };
    assert_eq!(
        as_user(&viewer, create, json!({})).await.error_code(),
        "FORBIDDEN"
    );
    as_user(&viewer, BOARD, json!({"id": pipeline})).await.ok();
    let by_sales = as_user(&sales, create, json!({}))
        .await
        .ok()
        .str("createOpportunity.id");
    as_user(&support, create, json!({})).await.ok();
    let move_to = "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }";
    assert_eq!(
        as_user(
            &viewer,
            move_to,
            json!({"id": by_sales, "s": stage(&stages, "Qualified")})
        )
        .await
        .error_code(),
        "FORBIDDEN"
    );
    as_user(
        &support,
        move_to,
        json!({"id": by_sales, "s": stage(&stages, "Qualified")}),
    )
    .await
    .ok();
    let delete = "mutation($id: ID!) { deleteOpportunity(id: $id) }";
    assert_eq!(
        as_user(&sales, delete, json!({"id": by_sales}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let pipeline_mutation =
        "mutation { createPipeline(name: \"P\", stages: [{name: \"S\", probability: 5}]) { id } }";
    assert_eq!(
        as_user(&sales, pipeline_mutation, json!({}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    as_user(&manager, pipeline_mutation, json!({})).await.ok();
    as_user(&manager, delete, json!({"id": by_sales}))
        .await
        .ok();
    let anonymous = app.gql(&t.host, None, BOARD, json!({"id": pipeline})).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn another_tenant_sees_and_touches_nothing_of_the_pipeline() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    let (pipeline_a, stages_a) = default_pipeline(&app, &a).await;
    let (_, stages_b) = default_pipeline(&app, &b).await;
    let opp_a = create_opportunity(
        &app,
        &a,
        json!({"title": "Secret deal", "value": {"amount": "9", "currency": "EUR"}}),
    )
    .await;
    let activity = gql(&app, &a, "mutation($o: ID!) { logActivity(input: {kind: CALL, subject: \"Secret call\", opportunityId: $o}) { id } }", json!({"o": opp_a})).await;
    let activity_a = activity.ok().str("logActivity.id");

    let from_b = |query: &'static str, vars: Value| {
        let app = &app;
        let b = &b;
        async move { gql(app, b, query, vars).await }
    };
    for (query, vars) in [
        (
            "query($id: ID!) { pipeline(id: $id) { id } }",
            json!({"id": pipeline_a}),
        ),
        (
            "query($id: ID!) { opportunity(id: $id) { id } }",
            json!({"id": opp_a}),
        ),
        (
            "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
            json!({"id": opp_a, "s": stages_b[1].id}),
        ),
        (
            "mutation($id: ID!) { markWon(id: $id) { id } }",
            json!({"id": opp_a}),
        ),
        (
            "mutation($id: ID!) { deleteOpportunity(id: $id) }",
            json!({"id": opp_a}),
        ),
        (
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            json!({"id": activity_a}),
        ),
        (
            "mutation($id: ID!) { updateStage(id: $id, input: {name: \"Hijacked\"}) { id } }",
            json!({"id": stages_a[0].id}),
        ),
        (
            "query($p: ID!) { pipelineFigures(pipelineId: $p) { count } }",
            json!({"p": pipeline_a}),
        ),
    ] {
        assert_eq!(
            from_b(query, vars).await.error_code(),
            "NOT_FOUND",
            "{query}"
        );
    }
    let stage_of_a = from_b("mutation($s: ID!) { createOpportunity(input: {title: \"x\", stageId: $s, value: {amount: 1, currency: \"EUR\"}}) { id } }", json!({"s": stages_a[1].id})).await;
    assert_eq!(stage_of_a.error_code(), "NOT_FOUND");
    let lists = from_b(
        "{ opportunities(filter: {search: \"Secret\"}) { totalCount } activities { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(lists.ok().data("opportunities.totalCount"), 0);
    assert_eq!(lists.data("activities.totalCount"), 0);
    let history = from_b(
        "query($id: ID!) { history(entityId: $id) { totalCount } }",
        json!({"id": opp_a}),
    )
    .await;
    assert_eq!(history.ok().data("history.totalCount"), 0);

    let untouched = opportunity(&app, &a, &opp_a).await;
    assert_eq!(
        (
            untouched["status"].clone(),
            untouched["stage"]["name"].clone()
        ),
        (json!("OPEN"), json!("Lead"))
    );
    assert_eq!(stages_a[0].name, "Lead");
}
