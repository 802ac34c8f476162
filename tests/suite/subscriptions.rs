//! GraphQL subscriptions over WebSocket: replay then live, auth, isolation, both protocols.

use serde_json::{Value, json};
use tests::{Refusal, TestApp, TestTenant, spawn_app};

const FOLLOW: &str =
    "subscription($after: Int) { events(after: $after) { sequence type entityType payload } }";

async fn create_contact(app: &TestApp, t: &TestTenant, name: &str) {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($n: String!) { createContact(input: {firstName: $n}) { id } }",
        json!({"n": name}),
    )
    .await
    .ok();
}

fn sequence(payload: &Value) -> i64 {
    payload["data"]["events"]["sequence"]
        .as_i64()
        .unwrap_or_else(|| panic!("an event: {payload}"))
}

#[tokio::test]
async fn replay_from_a_cursor_then_live_without_gap_or_duplicate() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    for name in ["One", "Two", "Three"] {
        create_contact(&app, &t, name).await;
    }
    let mut sub = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            FOLLOW,
            json!({"after": 1}),
        )
        .await
        .expect("subscribed");
    assert_eq!(sequence(&sub.next().await), 2);
    let third = sub.next().await;
    assert_eq!(sequence(&third), 3);
    assert_eq!(
        third["data"]["events"]["payload"]["entity"]["firstName"],
        "Three"
    );
    create_contact(&app, &t, "Four").await;
    let live = sub.next().await;
    assert_eq!(sequence(&live), 4);
    assert_eq!(live["data"]["events"]["type"], "contact.created");
}

#[tokio::test]
async fn replay_then_live_while_16_clients_write() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    create_contact(&app, &t, "Before").await;
    const WRITERS: usize = 16;
    const EACH: usize = 5;
    let total = (1 + WRITERS * EACH) as i64;
    let writers = futures::future::join_all((0..WRITERS).map(|w| {
        let app = &app;
        let t = &t;
        async move {
            for i in 0..EACH {
                create_contact(app, t, &format!("W{w}-{i}")).await;
            }
        }
    }));
    let reader = async {
        let mut sub = app
            .subscribe(
                &t.host,
                Some(&t.owner_token),
                "graphql-transport-ws",
                FOLLOW,
                json!({"after": 0}),
            )
            .await
            .expect("subscribed");
        let mut seen = Vec::new();
        while (seen.len() as i64) < total {
            seen.push(sequence(&sub.next().await));
        }
        seen
    };
    let (_, seen) = tokio::join!(writers, reader);
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works_too() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let mut sub = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-ws",
            FOLLOW,
            json!({"after": 0}),
        )
        .await
        .expect("subscribed");
    create_contact(&app, &t, "Legacy").await;
    assert_eq!(sequence(&sub.next().await), 1);
}

#[tokio::test]
async fn no_valid_token_no_subscription() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    for (case, token) in [
        ("no token", None),
        ("garbage", Some("nope")),
        ("another tenant's token", Some(b.owner_token.as_str())),
        ("admin token", Some(admin.as_str())),
    ] {
        let refused = app
            .subscribe(&a.host, token, "graphql-transport-ws", FOLLOW, json!({}))
            .await;
        match refused {
            Err(Refusal::Closed(code)) => assert_eq!(code, 4403, "{case}"),
            Err(other) => panic!("{case}: {other:?}"),
            Ok(_) => panic!("{case}: subscribed"),
        }
    }
    let legacy = app
        .subscribe(&a.host, None, "graphql-ws", FOLLOW, json!({}))
        .await;
    assert!(
        matches!(
            legacy,
            Err(Refusal::ConnectionError(_)) | Err(Refusal::Closed(_))
        ),
        "{legacy:?}",
        legacy = legacy.err()
    );
}

#[tokio::test]
async fn a_subscriber_never_receives_another_tenants_events() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    let mut sub = app
        .subscribe(
            &a.host,
            Some(&a.owner_token),
            "graphql-transport-ws",
            FOLLOW,
            json!({}),
        )
        .await
        .expect("subscribed");
    for i in 0..5 {
        create_contact(&app, &b, &format!("OfB{i}")).await;
    }
    create_contact(&app, &a, "OfA").await;
    let first = sub.next().await;
    assert_eq!(
        first["data"]["events"]["payload"]["entity"]["firstName"],
        "OfA"
    );
    assert_eq!(sequence(&first), 1);
}

/// Two servers on one PostgreSQL database: a change committed through one reaches a
/// subscriber of the other. (On SQLite a deployment is one process, so there is no second
/// instance to test.)
#[tokio::test]
async fn a_change_on_one_instance_reaches_a_subscriber_of_another() {
    if tests::test_database_url().is_none() {
        return;
    }
    let first = spawn_app().await;
    let second = spawn_app().await;
    let admin = first.admin_token().await;
    let t = first.provision(&admin).await;
    let mut sub = second
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            FOLLOW,
            json!({}),
        )
        .await
        .expect("subscribed on the second instance");
    create_contact(&first, &t, "Across").await;
    let event = sub.next().await;
    assert_eq!(
        event["data"]["events"]["payload"]["entity"]["firstName"],
        "Across"
    );
}
