//! GraphQL subscriptions over WebSocket: replay then live, auth, isolation, both protocols.

use serde_json::{Value, json};
use tests::{Refusal, crm::create_contact, spawn_app};

const FOLLOW: &str =
    "subscription($after: Int) { events(after: $after) { sequence type entityType payload } }";

fn sequence(payload: &Value) -> i64 {
    payload["data"]["events"]["sequence"]
        .as_i64()
        .unwrap_or_else(|| panic!("an event: {payload}"))
}

#[tokio::test]
async fn replay_from_a_cursor_then_live_without_gap_or_duplicate() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    for name in ["One", "Two", "Three"] {
        create_contact(&app, &t, json!({"firstName": name})).await;
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
    create_contact(&app, &t, json!({"firstName": "Four"})).await;
    let live = sub.next().await;
    assert_eq!(sequence(&live), 4);
    assert_eq!(live["data"]["events"]["type"], "contact.created");
}

#[tokio::test]
async fn replay_then_live_while_16_clients_write() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    create_contact(&app, &t, json!({"firstName": "Before"})).await;
    const WRITERS: usize = 16;
    const EACH: usize = 5;
    let total = (1 + WRITERS * EACH) as i64;
    let writers = futures::future::join_all((0..WRITERS).map(|w| {
        let app = &app;
        let t = &t;
        async move {
            for i in 0..EACH {
                create_contact(app, t, json!({"firstName": format!("W{w}-{i}")})).await;
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
    let t = app.new_tenant().await;
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
    create_contact(&app, &t, json!({"firstName": "Legacy"})).await;
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
            json!({"after": 0}),
        )
        .await
        .expect("subscribed");
    for i in 0..5 {
        create_contact(&app, &b, json!({"firstName": format!("OfB{i}")})).await;
    }
    create_contact(&app, &a, json!({"firstName": "OfA"})).await;
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
    let t = first.new_tenant().await;
    create_contact(&first, &t, json!({"firstName": "Before"})).await;
    let mut sub = second
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            FOLLOW,
            json!({"after": 0}),
        )
        .await
        .expect("subscribed on the second instance");
    // The replayed event proves the subscription is live before the next change.
    assert_eq!(sequence(&sub.next().await), 1);
    create_contact(&first, &t, json!({"firstName": "Across"})).await;
    let event = sub.next().await;
    assert_eq!(
        event["data"]["events"]["payload"]["entity"]["firstName"],
        "Across"
    );
}

/// A user deactivated through one instance loses the subscriptions held on another.
#[tokio::test]
async fn a_deactivation_on_one_instance_ends_subscriptions_on_another() {
    if tests::test_database_url().is_none() {
        return;
    }
    let first = spawn_app().await;
    let second = spawn_app().await;
    let t = first.new_tenant().await;
    let (user_id, token) = first.add_user(&t, "SALES").await;
    let mut sub = second
        .subscribe(
            &t.host,
            Some(&token),
            "graphql-transport-ws",
            FOLLOW,
            json!({"after": 0}),
        )
        .await
        .expect("subscribed on the second instance");
    create_contact(&first, &t, json!({"firstName": "Seen"})).await;
    assert_eq!(
        sub.next().await["data"]["events"]["payload"]["entity"]["firstName"],
        "Seen"
    );
    let deactivated = first
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($u: ID!) { deactivateUser(userId: $u) { status } }",
            json!({"u": user_id}),
        )
        .await;
    assert_eq!(deactivated.ok().str("deactivateUser.status"), "DEACTIVATED");
    // The deactivation's own event may arrive first; then the subscription completes.
    let mut message = sub.next_message().await;
    if message["type"] == "next" {
        assert_eq!(
            message["payload"]["data"]["events"]["type"],
            "user.deactivated"
        );
        message = sub.next_message().await;
    }
    assert_eq!(message["type"], "complete", "{message}");
}

const BOARD: &str = "subscription($p: ID!, $after: Int) { pipelineBoard(pipelineId: $p, after: $after) { sequence type opportunityId
    opportunity { title stage { name } contact { firstName } owner { email } weightedValue { amount } } } }";

#[tokio::test]
async fn pipeline_board_streams_its_opportunities_as_they_change() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let gql = |query: &'static str, vars: Value| {
        let app = &app;
        let t = &t;
        async move { app.gql(&t.host, Some(&t.owner_token), query, vars).await }
    };
    let pipelines = gql("{ pipelines { id stages { id name } } }", json!({})).await;
    let pipeline = pipelines.ok().data("pipelines")[0].clone();
    let qualified = pipeline["stages"][1]["id"].clone();
    let other = gql("mutation { createPipeline(name: \"Other\", stages: [{name: \"Only\", probability: 50}]) { id stages { id } } }", json!({})).await;
    let other_stage = other.ok().data("createPipeline.stages")[0]["id"].clone();
    let mut board = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            BOARD,
            // From the start of the log: every change is seen, whenever the server starts
            // following.
            json!({"p": pipeline["id"], "after": 0}),
        )
        .await
        .expect("subscribed");
    let contact = gql(
        "mutation { createContact(input: {firstName: \"Grace\"}) { id } }",
        json!({}),
    )
    .await
    .ok()
    .str("createContact.id");
    gql("mutation($s: ID!) { createOpportunity(input: {title: \"Elsewhere\", stageId: $s, value: {amount: 1, currency: \"EUR\"}}) { id } }", json!({"s": other_stage})).await.ok();
    let id = gql("mutation($c: ID!) { createOpportunity(input: {title: \"On the board\", contactId: $c, value: {amount: \"200\", currency: \"EUR\"}}) { id } }", json!({"c": contact}))
        .await
        .ok()
        .str("createOpportunity.id");
    let created = board.next().await["data"]["pipelineBoard"].clone();
    assert_eq!(
        created["type"], "opportunity.created",
        "the other pipeline's deal is not on this board"
    );
    assert_eq!(created["opportunity"]["title"], "On the board");
    assert_eq!(created["opportunity"]["contact"]["firstName"], "Grace");
    assert_eq!(
        created["opportunity"]["owner"]["email"],
        json!(t.owner_email)
    );
    assert_eq!(created["opportunity"]["stage"]["name"], "Lead");
    gql(
        "mutation($o: ID!, $s: ID!) { moveOpportunity(id: $o, stageId: $s) { id } }",
        json!({"o": id, "s": qualified}),
    )
    .await
    .ok();
    let moved = board.next().await["data"]["pipelineBoard"].clone();
    assert_eq!(moved["type"], "opportunity.stage_changed");
    assert_eq!(moved["opportunity"]["stage"]["name"], "Qualified");
    assert_eq!(moved["opportunity"]["weightedValue"]["amount"], "50.00");
    gql(
        "mutation($o: ID!) { deleteOpportunity(id: $o) }",
        json!({"o": id}),
    )
    .await
    .ok();
    let deleted = board.next().await["data"]["pipelineBoard"].clone();
    assert_eq!(deleted["type"], "opportunity.deleted");
    assert!(deleted["opportunity"].is_null());
    assert_eq!(deleted["opportunityId"], json!(id));
}

#[tokio::test]
async fn board_subscribers_share_one_load_per_change() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let pipeline = app.first_pipeline_id(&t).await;
    let create = "mutation { createOpportunity(input: {title: \"Shared\", value: {amount: 1, currency: \"EUR\"}}) { id } }";
    let mut statements = Vec::new();
    for subscribers in [1usize, 20] {
        let head = app
            .gql(
                &t.host,
                Some(&t.owner_token),
                "{ events(first: 1000) { lastSequence } }",
                json!({}),
            )
            .await
            .ok()
            .data("events.lastSequence")
            .clone();
        let mut boards = Vec::new();
        for _ in 0..subscribers {
            boards.push(
                app.subscribe(
                    &t.host,
                    Some(&t.owner_token),
                    "graphql-transport-ws",
                    BOARD,
                    json!({"p": pipeline, "after": head}),
                )
                .await
                .expect("subscribed"),
            );
        }
        // A first change brings every subscriber up to date (their own start-up reads done).
        app.gql(&t.host, Some(&t.owner_token), create, json!({}))
            .await
            .ok();
        for board in &mut boards {
            board.next().await;
        }
        let before = app.statements();
        app.gql(&t.host, Some(&t.owner_token), create, json!({}))
            .await
            .ok();
        for board in &mut boards {
            assert_eq!(
                board.next().await["data"]["pipelineBoard"]["type"],
                "opportunity.created"
            );
        }
        statements.push(app.statements() - before);
    }
    // Twenty subscribers each loading the opportunity and its edges would add 100 statements;
    // shared, the count stays (give or take the feed's once-a-second look at the log).
    assert!(
        statements[1] <= statements[0] + 2,
        "statements per change: {statements:?}"
    );
}

#[tokio::test]
async fn a_tenant_holds_at_most_its_configured_subscriptions() {
    let app = tests::spawn_app_with(|c| c.limits.max_subscriptions_per_tenant = 2).await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let other = app.provision(&admin).await;
    let mut held = Vec::new();
    for _ in 0..2 {
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
        create_contact(&app, &t, json!({"firstName": "Proof"})).await;
        sub.next().await;
        held.push(sub);
    }
    let mut third = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            FOLLOW,
            json!({}),
        )
        .await
        .expect("connected");
    let refused = third.next_message().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{refused}"
    );
    // Another tenant is not affected, and a slot frees when a subscriber leaves.
    let mut elsewhere = app
        .subscribe(
            &other.host,
            Some(&other.owner_token),
            "graphql-transport-ws",
            FOLLOW,
            json!({"after": 0}),
        )
        .await
        .expect("subscribed");
    create_contact(&app, &other, json!({"firstName": "Free"})).await;
    elsewhere.next().await;
    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut sub = app
            .subscribe(
                &t.host,
                Some(&t.owner_token),
                "graphql-transport-ws",
                FOLLOW,
                json!({"after": 0}),
            )
            .await
            .expect("connected");
        let first = sub.next_message().await;
        if first["payload"]["data"]["events"].is_object() {
            again = Some(sub);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(again.is_some(), "the freed slot is usable again");
}

#[tokio::test]
async fn a_deactivated_users_subscriptions_end() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (user_id, token) = app.add_user(&t, "SALES").await;
    let mut sub = app
        .subscribe(
            &t.host,
            Some(&token),
            "graphql-transport-ws",
            FOLLOW,
            json!({"after": 0}),
        )
        .await
        .expect("subscribed");
    create_contact(&app, &t, json!({"firstName": "Seen"})).await;
    sub.next().await;
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($u: ID!) { deactivateUser(userId: $u) { status } }",
        json!({"u": user_id}),
    )
    .await
    .ok();
    let ended = sub.next_message().await;
    assert_eq!(ended["type"], "complete", "{ended}");
}

/// Polls `condition` (the server's own registries) until it holds, for at most 10 s.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

const DASHBOARD: &str = "subscription($p: ID!, $r: DashboardRange = LAST_30_DAYS) { dashboard(pipelineId: $p, range: $r) { openCount } }";

#[tokio::test]
async fn identical_live_subscriptions_share_one_execution() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let pipeline = app.first_pipeline_id(&t).await;
    let shared = || app.app.shared_subscriptions.len();
    let subscribe = |query: &'static str, variables: Value| {
        let (app, t) = (&app, &t);
        async move {
            app.subscribe(
                &t.host,
                Some(&t.owner_token),
                "graphql-transport-ws",
                query,
                variables,
            )
            .await
            .expect("subscribed")
        }
    };
    let open_count = |payload: Value| payload["data"]["dashboard"]["openCount"].clone();

    let mut first = subscribe(DASHBOARD, json!({"p": pipeline})).await;
    let snapshot = first.next().await;
    assert_eq!(open_count(snapshot.clone()), 0, "{snapshot}");
    // A later viewer joins the same execution and gets its latest snapshot at once.
    let mut second = subscribe(DASHBOARD, json!({"p": pipeline})).await;
    assert_eq!(open_count(second.next().await), 0);
    assert_eq!(shared(), 1, "one execution for two identical dashboards");
    let mut week = subscribe(DASHBOARD, json!({"p": pipeline, "r": "LAST_7_DAYS"})).await;
    assert_eq!(open_count(week.next().await), 0);
    assert_eq!(shared(), 2, "other arguments, another execution");

    // Two live boards share; one with a cursor replays its own history and runs alone.
    let mut boards = vec![
        subscribe(BOARD, json!({"p": pipeline})).await,
        subscribe(BOARD, json!({"p": pipeline})).await,
    ];
    let mut resuming = subscribe(BOARD, json!({"p": pipeline, "after": 0})).await;
    eventually("six subscriptions held", || {
        app.app.subscriptions.open() == 6
    })
    .await;
    assert_eq!(
        shared(),
        3,
        "the boards without a cursor share one execution"
    );
    eventually("the tenant's feed followed", || app.app.feeds.len() == 1).await;

    let create = "mutation { createOpportunity(input: {title: \"Shared\", value: {amount: 10, currency: \"EUR\"}}) { id } }";
    app.gql(&t.host, Some(&t.owner_token), create, json!({}))
        .await
        .ok();
    for board in boards.iter_mut().chain([&mut resuming]) {
        let change = board.next().await["data"]["pipelineBoard"].clone();
        assert_eq!(change["type"], "opportunity.created", "{change}");
        assert_eq!(change["opportunity"]["title"], "Shared");
    }
    for viewer in [&mut first, &mut second, &mut week] {
        assert_eq!(open_count(viewer.next().await), 1);
    }

    // The first viewer leaving does not stop the others' execution.
    drop(first);
    eventually("the first viewer's slot freed", || {
        app.app.subscriptions.open() == 5
    })
    .await;
    app.gql(&t.host, Some(&t.owner_token), create, json!({}))
        .await
        .ok();
    assert_eq!(open_count(second.next().await), 2);
    assert_eq!(open_count(week.next().await), 2);
    assert_eq!(shared(), 3);

    // Once every subscriber left, nothing runs.
    drop((second, week, boards, resuming));
    eventually("every execution stopped", || shared() == 0).await;
    eventually("every slot freed", || app.app.subscriptions.open() == 0).await;
}

#[tokio::test]
async fn a_deactivation_ends_only_that_users_share_of_an_execution() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let pipeline = app.first_pipeline_id(&t).await;
    let (leaving_id, leaving_token) = app.add_user(&t, "SALES").await;
    let (_, staying_token) = app.add_user(&t, "SALES").await;
    let mut viewers = Vec::new();
    for token in [&leaving_token, &staying_token] {
        let mut viewer = app
            .subscribe(
                &t.host,
                Some(token),
                "graphql-transport-ws",
                DASHBOARD,
                json!({"p": pipeline}),
            )
            .await
            .expect("subscribed");
        viewer.next().await;
        viewers.push(viewer);
    }
    assert_eq!(
        app.app.shared_subscriptions.len(),
        1,
        "same role, same execution"
    );
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($u: ID!) { deactivateUser(userId: $u) { status } }",
        json!({"u": leaving_id}),
    )
    .await
    .ok();
    let ended = viewers[0].next_message().await;
    assert_eq!(ended["type"], "complete", "{ended}");
    app.gql(&t.host, Some(&t.owner_token), "mutation { createOpportunity(input: {title: \"Still watched\", value: {amount: 10, currency: \"EUR\"}}) { id } }", json!({}))
        .await
        .ok();
    // The deactivation itself may bring a snapshot first; the new deal's follows.
    for _ in 0..3 {
        if viewers[1].next().await["data"]["dashboard"]["openCount"] == 1 {
            return;
        }
    }
    panic!("the other user's dashboard stopped updating");
}

#[tokio::test]
async fn a_bad_subscription_gets_an_error_with_a_code() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let other = app.provision(&admin).await;
    let foreign = app.first_pipeline_id(&other).await;
    let cases = [
        (DASHBOARD, json!({"p": foreign}), "NOT_FOUND"),
        (
            DASHBOARD,
            json!({"p": foreign, "r": "FOREVER"}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "subscription { events { noSuchField } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (FOLLOW, json!({"after": -1}), "BAD_USER_INPUT"),
    ];
    for (query, variables, code) in cases {
        let mut sub = app
            .subscribe(
                &t.host,
                Some(&t.owner_token),
                "graphql-transport-ws",
                query,
                variables.clone(),
            )
            .await
            .expect("connected");
        let refused = sub.next_message().await;
        assert_eq!(
            refused["payload"]["errors"][0]["extensions"]["code"], code,
            "{query} {variables}: {refused}"
        );
        assert_eq!(sub.next_message().await["type"], "complete");
    }
    assert_eq!(app.app.subscriptions.open(), 0, "refusals hold no slot");
}

#[tokio::test]
async fn queries_and_mutations_over_the_websocket_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let mut socket = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            "{ me { id } }",
            json!({}),
        )
        .await
        .expect("connected");
    assert_eq!(socket.refusal_code().await, "METHOD_NOT_ALLOWED", "a query");
    socket
        .start(
            "2",
            "mutation { createContact(input: {firstName: \"Over the socket\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        socket.refusal_code().await,
        "METHOD_NOT_ALLOWED",
        "a mutation"
    );
    let contacts = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ contacts { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(contacts.ok().data("contacts.totalCount"), 0);

    let done = socket.next_message().await;
    assert_eq!(
        (&done["id"], &done["type"]),
        (&json!("2"), &json!("complete"))
    );

    // The connection still carries subscriptions.
    socket.start("3", FOLLOW, json!({"after": 0})).await;
    create_contact(&app, &t, json!({"firstName": "Over HTTP"})).await;
    let event = socket.next().await;
    assert_eq!(
        event["data"]["events"]["type"], "contact.created",
        "{event}"
    );
}
