//! Opportunities through their stages: lifecycle, positions, concurrent moves, bad input, managing stages.

use super::*;

#[tokio::test]
async fn opportunity_lifecycle_moves_and_history() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Big deal", "value": {"amount": "1000.00", "currency": "usd"}}),
    )
    .await;
    let created = opportunity(&app, &t, &id).await;
    assert_eq!(
        created["stage"]["name"], "Lead",
        "the default pipeline's first open stage"
    );
    assert_eq!(created["status"], "OPEN");
    assert_eq!(
        created["value"],
        json!({"amount": "1000.00", "currency": "USD"})
    );
    assert_eq!(created["weightedValue"]["amount"], "100.00", "10% in Lead");

    let moved = gql(&app, &t, "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { stage { name } weightedValue { amount } } }",
        json!({"id": id, "s": stage(&stages, "Proposal")})).await;
    assert_eq!(
        moved.ok().data("moveOpportunity.weightedValue.amount"),
        "500.00"
    );

    let won = gql(
        &app,
        &t,
        "mutation($id: ID!) { markWon(id: $id) { status closedAt stage { name } } }",
        json!({"id": id}),
    )
    .await;
    won.ok();
    assert_eq!(won.str("markWon.status"), "WON");
    assert_eq!(won.str("markWon.stage.name"), "Won");

    // Back to an open stage: open again, no longer closed.
    gql(
        &app,
        &t,
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
        json!({"id": id, "s": stage(&stages, "Negotiation")}),
    )
    .await
    .ok();
    let reopened = opportunity(&app, &t, &id).await;
    assert_eq!(reopened["status"], "OPEN");
    assert!(reopened["closedAt"].is_null());

    let lost = gql(&app, &t, "mutation($id: ID!) { markLost(id: $id, reason: \"Budget cut\") { status lostReason stage { name } } }", json!({"id": id})).await;
    assert_eq!(lost.ok().str("markLost.lostReason"), "Budget cut");
    assert_eq!(lost.str("markLost.stage.name"), "Lost");

    let history = opportunity(&app, &t, &id).await["stageHistory"].clone();
    let path: Vec<(Value, Value)> = history
        .as_array()
        .expect("history")
        .iter()
        .map(|h| (h["fromStageId"].clone(), h["toStageId"].clone()))
        .collect();
    let s = |name: &str| json!(stage(&stages, name));
    assert_eq!(
        path,
        vec![
            (Value::Null, s("Lead")),
            (s("Lead"), s("Proposal")),
            (s("Proposal"), s("Won")),
            (s("Won"), s("Negotiation")),
            (s("Negotiation"), s("Lost")),
        ]
    );
    assert!(
        history
            .as_array()
            .expect("history")
            .iter()
            .all(|h| h["changedBy"]["id"].is_string())
    );
    let _ = pipeline;
}

#[tokio::test]
async fn positions_within_a_stage_stay_contiguous() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let lead = stage(&stages, "Lead");
    let qualified = stage(&stages, "Qualified");
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(create_opportunity(&app, &t, json!({"title": format!("D{i}"), "stageId": lead, "value": {"amount": 10, "currency": "EUR"}})).await);
    }
    assert_eq!(column(&app, &t, &pipeline, lead).await, ids);
    let move_to = "mutation($id: ID!, $s: ID!, $p: Int) { moveOpportunity(id: $id, stageId: $s, position: $p) { position } }";
    gql(&app, &t, move_to, json!({"id": ids[3], "s": lead, "p": 0}))
        .await
        .ok();
    assert_eq!(
        column(&app, &t, &pipeline, lead).await,
        vec![
            ids[3].clone(),
            ids[0].clone(),
            ids[1].clone(),
            ids[2].clone()
        ]
    );
    gql(
        &app,
        &t,
        move_to,
        json!({"id": ids[0], "s": qualified, "p": 5}),
    )
    .await
    .ok();
    assert_eq!(
        column(&app, &t, &pipeline, lead).await,
        vec![ids[3].clone(), ids[1].clone(), ids[2].clone()]
    );
    assert_eq!(
        column(&app, &t, &pipeline, qualified).await,
        vec![ids[0].clone()]
    );
    gql(
        &app,
        &t,
        "mutation($id: ID!) { deleteOpportunity(id: $id) }",
        json!({"id": ids[1]}),
    )
    .await
    .ok();
    assert_eq!(
        column(&app, &t, &pipeline, lead).await,
        vec![ids[3].clone(), ids[2].clone()]
    );
}

#[tokio::test]
async fn two_users_moving_one_opportunity_at_once_both_land_in_history() {
    let (app, t) = setup().await;
    let (_, stages) = default_pipeline(&app, &t).await;
    let (_, other) = app.add_user(&t, "SALES").await;
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Contested", "value": {"amount": 5, "currency": "EUR"}}),
    )
    .await;
    let move_to =
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { stage { name } } }";
    let (first, second) = tokio::join!(
        app.gql(
            &t.host,
            Some(&t.owner_token),
            move_to,
            json!({"id": id, "s": stage(&stages, "Qualified")})
        ),
        app.gql(
            &t.host,
            Some(&other),
            move_to,
            json!({"id": id, "s": stage(&stages, "Proposal")})
        ),
    );
    first.ok();
    second.ok();
    let after = opportunity(&app, &t, &id).await;
    let history = after["stageHistory"].as_array().expect("history").clone();
    assert_eq!(history.len(), 3, "created + both moves: {history:?}");
    let targets: Vec<&Value> = history[1..].iter().map(|h| &h["toStageId"]).collect();
    assert!(targets.contains(&&json!(stage(&stages, "Qualified"))));
    assert!(targets.contains(&&json!(stage(&stages, "Proposal"))));
    // The second move starts where the first ended: the history is a chain.
    assert_eq!(history[2]["fromStageId"], history[1]["toStageId"]);
    assert_eq!(after["stage"]["id"], history[2]["toStageId"]);
}

#[tokio::test]
async fn bad_opportunity_input_is_refused_and_changes_nothing() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let (other_pipeline, other_stages) = create_pipeline(&app, &t, 2).await;
    let count = "{ opportunities { totalCount } }";
    let before = gql(&app, &t, count, json!({}))
        .await
        .ok()
        .data("opportunities.totalCount")
        .clone();
    let create =
        "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }";
    let cases = [
        (
            json!({"title": "x", "value": {"amount": "-1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("value.amount"),
        ),
        (
            json!({"title": "x", "value": {"amount": "1", "currency": "EURO"}}),
            "BAD_USER_INPUT",
            Some("value.currency"),
        ),
        (
            json!({"title": "x", "value": {"amount": "1.234", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("value.amount"),
        ),
        (
            json!({"title": " ", "value": {"amount": "1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("title"),
        ),
        (
            json!({"title": "x", "pipelineId": pipeline, "stageId": other_stages[0], "value": {"amount": "1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("stageId"),
        ),
        (
            json!({"title": "x", "stageId": uuid::Uuid::now_v7().to_string(), "value": {"amount": "1", "currency": "EUR"}}),
            "NOT_FOUND",
            None,
        ),
        (
            json!({"title": "x", "contactId": uuid::Uuid::now_v7().to_string(), "value": {"amount": "1", "currency": "EUR"}}),
            "NOT_FOUND",
            None,
        ),
        (
            json!({"title": "x", "contactId": "not-an-id", "value": {"amount": "1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("contactId"),
        ),
    ];
    for (input, code, field) in cases {
        let reply = gql(&app, &t, create, json!({"input": input})).await;
        assert_eq!(reply.error_code(), code, "{input}: {:#}", reply.body);
        if let Some(field) = field {
            assert_eq!(
                reply.body["errors"][0]["extensions"]["field"], field,
                "{input}"
            );
        }
    }
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "ok", "value": {"amount": "1", "currency": "EUR"}}),
    )
    .await;
    let wrong_pipeline = gql(
        &app,
        &t,
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
        json!({"id": id, "s": other_stages[1]}),
    )
    .await;
    assert_eq!(wrong_pipeline.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        wrong_pipeline.body["errors"][0]["extensions"]["field"],
        "stageId"
    );
    let negative = gql(&app, &t, "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s, position: -1) { id } }",
        json!({"id": id, "s": stage(&stages, "Lead")})).await;
    assert_eq!(negative.error_code(), "BAD_USER_INPUT");
    let probability = gql(&app, &t, "mutation($p: ID!) { addStage(pipelineId: $p, input: {name: \"Odd\", probability: 101}) { id } }", json!({"p": pipeline})).await;
    assert_eq!(probability.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        probability.body["errors"][0]["extensions"]["field"],
        "input.probability"
    );
    let page = gql(
        &app,
        &t,
        "{ opportunities(first: 101) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(page.body["errors"][0]["extensions"]["field"], "first");
    let after = gql(&app, &t, count, json!({}))
        .await
        .ok()
        .data("opportunities.totalCount")
        .as_i64();
    assert_eq!(
        after,
        before.as_i64().map(|n| n + 1),
        "only the valid opportunity was created"
    );
    let untouched = opportunity(&app, &t, &id).await;
    assert_eq!(untouched["stage"]["name"], "Lead");
    let _ = other_pipeline;
}

#[tokio::test]
async fn stages_are_managed_and_a_full_stage_is_deleted_only_by_moving_its_deals() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let lead = stage(&stages, "Lead").to_owned();
    let qualified = stage(&stages, "Qualified").to_owned();
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Held", "stageId": lead, "value": {"amount": "1", "currency": "EUR"}}),
    )
    .await;
    let delete = "mutation($id: ID!, $to: ID) { deleteStage(id: $id, moveOpportunitiesTo: $to) }";
    let refused = gql(&app, &t, delete, json!({"id": lead, "to": null})).await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        refused.body["errors"][0]["extensions"]["field"],
        "moveOpportunitiesTo"
    );
    let (_, foreign) = create_pipeline(&app, &t, 1).await;
    let foreign_target = gql(&app, &t, delete, json!({"id": lead, "to": foreign[0]})).await;
    assert_eq!(foreign_target.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        opportunity(&app, &t, &id).await["stage"]["id"],
        json!(lead),
        "nothing moved"
    );

    gql(&app, &t, delete, json!({"id": lead, "to": qualified}))
        .await
        .ok();
    let moved = opportunity(&app, &t, &id).await;
    assert_eq!(moved["stage"]["id"], json!(qualified));
    assert_eq!(moved["stageHistory"].as_array().map(Vec::len), Some(2));

    let reorder = "mutation($p: ID!, $ids: [ID!]!) { reorderStages(pipelineId: $p, stageIds: $ids) { name position } }";
    let (_, now) = default_pipeline(&app, &t).await;
    let mut order: Vec<String> = now.iter().map(|s| s.id.clone()).collect();
    order.reverse();
    let reordered = gql(&app, &t, reorder, json!({"p": pipeline, "ids": order})).await;
    assert_eq!(reordered.ok().data("reorderStages")[0]["name"], "Lost");
    let missing_one = gql(
        &app,
        &t,
        reorder,
        json!({"p": pipeline, "ids": &order[1..]}),
    )
    .await;
    assert_eq!(missing_one.error_code(), "BAD_USER_INPUT");

    let added = gql(&app, &t, "mutation($p: ID!) { addStage(pipelineId: $p, input: {name: \"Demo\", probability: 40}, position: 1) { position } }", json!({"p": pipeline})).await;
    assert_eq!(added.ok().data("addStage.position"), 1);
    let renamed = gql(&app, &t, "mutation($id: ID!) { updateStage(id: $id, input: {name: \"Qualified lead\", probability: 30}) { name probability } }", json!({"id": qualified})).await;
    assert_eq!(renamed.ok().data("updateStage.probability"), 30);
    let full = gql(
        &app,
        &t,
        "mutation($id: ID!) { deletePipeline(id: $id) }",
        json!({"id": pipeline}),
    )
    .await;
    assert_eq!(
        full.error_code(),
        "CONFLICT",
        "a pipeline holding deals is not deleted"
    );
}
