//! The event log: every committed CRM change has its events, numbered gaplessly in commit
//! order; nothing rolled back is ever published.

use serde_json::{Value, json};
use tests::{TestApp, TestTenant, spawn_app};

const EVENTS: &str =
    "query($after: Int!, $types: [String!]) { events(after: $after, first: 1000, types: $types) {
    lastSequence hasMore nodes { sequence type entityType entityId actor { email } payload } } }";

async fn events_after(
    app: &TestApp,
    t: &TestTenant,
    after: i64,
    types: Option<Vec<&str>>,
) -> (Vec<Value>, i64) {
    let reply = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            EVENTS,
            json!({"after": after, "types": types}),
        )
        .await;
    reply.ok();
    let nodes = reply
        .data("events.nodes")
        .as_array()
        .expect("nodes")
        .clone();
    (
        nodes,
        reply
            .data("events.lastSequence")
            .as_i64()
            .expect("lastSequence"),
    )
}

fn types(nodes: &[Value]) -> Vec<&str> {
    nodes
        .iter()
        .map(|n| n["type"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn crm_changes_publish_their_events_in_order() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let contact = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation { createContact(input: {firstName: \"Eve\"}) { id } }",
            json!({}),
        )
        .await
        .ok()
        .str("createContact.id");
    let pipelines = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ pipelines { stages { id name } } }",
            json!({}),
        )
        .await;
    let stages = pipelines.ok().data("pipelines")[0]["stages"]
        .as_array()
        .expect("stages")
        .clone();
    let proposal = stages
        .iter()
        .find(|s| s["name"] == "Proposal")
        .expect("Proposal")["id"]
        .clone();
    let opportunity = app
        .gql(&t.host, Some(&t.owner_token),
            "mutation($c: ID!) { createOpportunity(input: {title: \"Evented\", contactId: $c, value: {amount: \"10\", currency: \"EUR\"}}) { id } }",
            json!({"c": contact}))
        .await
        .ok()
        .str("createOpportunity.id");
    for query in [
        "mutation($o: ID!, $s: ID!) { moveOpportunity(id: $o, stageId: $s) { id } }",
        "mutation($o: ID!) { updateOpportunity(id: $o, input: {title: \"Evented deal\"}) { id } }",
        "mutation($o: ID!) { markWon(id: $o) { id } }",
        "mutation($o: ID!) { logActivity(input: {kind: CALL, subject: \"Thanks\", opportunityId: $o}) { id } }",
    ] {
        app.gql(
            &t.host,
            Some(&t.owner_token),
            query,
            json!({"o": opportunity, "s": proposal}),
        )
        .await
        .ok();
    }
    let (nodes, last) = events_after(&app, &t, 0, None).await;
    assert_eq!(
        types(&nodes),
        vec![
            "contact.created",
            "opportunity.created",
            "opportunity.stage_changed",
            "opportunity.updated",
            "opportunity.stage_changed",
            "opportunity.won",
            "activity.logged",
        ]
    );
    let sequences: Vec<i64> = nodes
        .iter()
        .filter_map(|n| n["sequence"].as_i64())
        .collect();
    assert_eq!(sequences, (1..=7).collect::<Vec<_>>());
    assert_eq!(last, 7);
    let renamed = &nodes[3];
    assert_eq!(renamed["entityId"], json!(opportunity));
    assert_eq!(renamed["actor"]["email"], json!(t.owner_email));
    assert_eq!(
        renamed["payload"]["changes"]["title"],
        json!({"before": "Evented", "after": "Evented deal"})
    );
    assert_eq!(renamed["payload"]["entity"]["title"], "Evented deal");
    assert_eq!(nodes[5]["payload"]["entity"]["status"], "won");

    let (only_won, _) = events_after(&app, &t, 0, Some(vec!["opportunity.won"])).await;
    assert_eq!(types(&only_won), vec!["opportunity.won"]);
    let (after_five, _) = events_after(&app, &t, 5, None).await;
    assert_eq!(
        types(&after_five),
        vec!["opportunity.won", "activity.logged"]
    );
    let bad = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ events(after: -1) { lastSequence } }",
            json!({}),
        )
        .await;
    assert_eq!(bad.error_code(), "BAD_USER_INPUT");
    let too_many = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ events(first: 1001) { lastSequence } }",
            json!({}),
        )
        .await;
    assert_eq!(too_many.body["errors"][0]["extensions"]["field"], "first");
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_event_and_no_gap() {
    use api::{
        auth::{Principal, Role},
        crm::contacts::{NewContact, create},
        crm::types::{ContactSource, ContactStatus},
        tenancy::TxMode,
    };
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let me = app
        .gql(&t.host, Some(&t.owner_token), "{ me { id } }", json!({}))
        .await
        .ok()
        .str("me.id");
    let principal = Principal {
        user_id: uuid::Uuid::parse_str(&me).expect("id"),
        tenant_id: uuid::Uuid::nil(),
        role: Role::Owner,
    };
    let new = |name: &str| NewContact {
        first_name: name.into(),
        last_name: None,
        email: None,
        phone: None,
        company_id: None,
        owner_id: None,
        source: ContactSource::Other,
        status: ContactStatus::New,
        tags: Vec::new(),
        custom_fields: Default::default(),
    };
    let tenant = app.tenant(&t.slug).await;
    // A change whose transaction rolls back, after its event was written in it.
    let tx = app
        .app
        .store
        .begin_tenant(&tenant, TxMode::Write)
        .await
        .expect("tx");
    create(&tx, &principal, new("Ghost"))
        .await
        .expect("created in the transaction");
    tx.rollback().await.expect("rolled back");
    // A committed one through the API.
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation { createContact(input: {firstName: \"Real\"}) { id } }",
        json!({}),
    )
    .await
    .ok();
    let (nodes, last) = events_after(&app, &t, 0, None).await;
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert_eq!(nodes[0]["payload"]["entity"]["firstName"], "Real");
    assert_eq!(
        (nodes[0]["sequence"].as_i64(), last),
        (Some(1), 1),
        "no number was spent on the rolled-back change"
    );
    // A mutation refused before writing publishes nothing either.
    let refused = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation { createContact(input: {firstName: \"\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert_eq!(events_after(&app, &t, 1, None).await.0.len(), 0);
}

#[tokio::test]
async fn a_reader_following_the_numbers_sees_every_event_of_16_concurrent_writers_once() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    const WRITERS: usize = 16;
    const EACH: usize = 8;
    let writers = futures::future::join_all((0..WRITERS).map(|w| {
        let app = &app;
        let t = &t;
        async move {
            for i in 0..EACH {
                app.gql(
                    &t.host,
                    Some(&t.owner_token),
                    "mutation($n: String!) { createContact(input: {firstName: $n}) { id } }",
                    json!({"n": format!("W{w}-{i}")}),
                )
                .await
                .ok();
            }
        }
    }));
    let reader = async {
        let mut seen: Vec<i64> = Vec::new();
        let mut after = 0;
        while seen.len() < WRITERS * EACH {
            let (nodes, last) = events_after(&app, &t, after, None).await;
            for node in &nodes {
                seen.push(node["sequence"].as_i64().expect("sequence"));
            }
            after = last;
            tokio::task::yield_now().await;
        }
        seen
    };
    let (_, seen) = tokio::join!(writers, reader);
    assert_eq!(
        seen,
        (1..=(WRITERS * EACH) as i64).collect::<Vec<_>>(),
        "no gap, no duplicate, in order"
    );
    let (all, _) = events_after(&app, &t, 0, Some(vec!["contact.created"])).await;
    assert_eq!(all.len(), WRITERS * EACH);
}

#[tokio::test]
async fn a_tenant_reads_only_its_own_events() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    app.gql(
        &a.host,
        Some(&a.owner_token),
        "mutation { createContact(input: {firstName: \"OnlyA\"}) { id } }",
        json!({}),
    )
    .await
    .ok();
    let (of_b, last_b) = events_after(&app, &b, 0, None).await;
    assert!(of_b.is_empty());
    assert_eq!(last_b, 0);
    let (of_a, _) = events_after(&app, &a, 0, None).await;
    assert_eq!(of_a.len(), 1);
    let anonymous = app.gql(&a.host, None, EVENTS, json!({"after": 0})).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}
