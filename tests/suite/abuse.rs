//! What a hostile user or outsider tries against the limits: oversized inputs, concurrent
//! and spread-out password guessing, forged client addresses, WebSocket operations that
//! would get around the limits of HTTP.

use serde_json::json;
use tests::{PASSWORD, TestApp, TestTenant, spawn_app, spawn_app_with};

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";

async fn login_from(
    app: &TestApp,
    host: &str,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
) -> tests::Reply {
    let body = json!({"query": LOGIN, "variables": {"e": email, "p": password}});
    app.post_forwarded(host, forwarded_for, &body).await
}

#[tokio::test]
async fn a_megabyte_of_tags_is_refused_before_any_work_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let tags: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
    let reply = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($t: [String!]!) { createContact(input: {firstName: \"Tagged\", tags: $t}) { id } }",
            json!({"t": tags}),
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT", "{:#}", reply.body);
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "$t");
    // Within the input list limit, the tag limit refuses it.
    let many: Vec<String> = (0..500).map(|i| format!("t{i}")).collect();
    let reply = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($t: [String!]!) { createContact(input: {firstName: \"Tagged\", tags: $t}) { id } }",
            json!({"t": many}),
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT", "{:#}", reply.body);
    let count = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ contacts { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(count.ok().data("contacts.totalCount"), 0);
    // Repeats within the limit are merged, not refused.
    let repeated: Vec<&str> = std::iter::repeat_n("vip", 30).collect();
    let merged = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($t: [String!]!) { createContact(input: {firstName: \"Tagged\", tags: $t}) { tags } }",
            json!({"t": repeated}),
        )
        .await;
    assert_eq!(merged.ok().data("createContact.tags"), &json!(["vip"]));
}

#[tokio::test]
async fn a_pipeline_of_endless_stages_is_refused() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    // Over the input list limit, then within it but over the stage limit.
    for count in [5_000, 500] {
        let stages: Vec<_> = (0..count)
            .map(|i| json!({"name": format!("S{i}"), "probability": 10}))
            .collect();
        let reply = app
            .gql(
                &t.host,
                Some(&t.owner_token),
                "mutation($s: [StageInput!]!) { createPipeline(name: \"Long\", stages: $s) { id } }",
                json!({"s": stages}),
            )
            .await;
        assert_eq!(reply.error_code(), "BAD_USER_INPUT", "{count} stages");
    }
    let pipelines = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ pipelines { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        pipelines.ok().data("pipelines").as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn lists_over_the_input_limit_are_refused_wherever_they_are_written() {
    let app = spawn_app_with(|config| config.limits.max_input_list = 5).await;
    let t = app.new_tenant().await;
    let create = "mutation($i: CreateContactInput!) { createContact(input: $i) { id tags } }";
    let at_limit = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            create,
            json!({"i": {"firstName": "Five", "tags": ["a", "b", "c", "d", "e"]}}),
        )
        .await;
    assert_eq!(
        at_limit.ok().data("createContact.tags"),
        &json!(["a", "b", "c", "d", "e"])
    );
    let six = json!(["a", "b", "c", "d", "e", "f"]);
    let refusals = [
        (
            "a variable",
            json!({"query": create, "variables": {"i": {"firstName": "Six", "tags": six}}}),
            "$i.tags",
        ),
        (
            "an object of too many keys",
            json!({"query": create, "variables": {"i": {"firstName": "Six",
                "customFields": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}}}}),
            "$i.customFields",
        ),
        (
            "the query text",
            json!({"query": "mutation { createContact(input: {firstName: \"Six\", tags: [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]}) { id } }"}),
            "createContact.input.tags",
        ),
        (
            "the second operation of a batch",
            json!([
                {"query": create, "variables": {"i": {"firstName": "First"}}},
                {"query": create, "variables": {"i": {"firstName": "Six", "tags": six}}},
            ]),
            "$i.tags",
        ),
    ];
    for (place, body, field) in refusals {
        let reply = app.post_json(&t.host, Some(&t.owner_token), &body).await;
        assert_eq!(
            reply.error_code(),
            "BAD_USER_INPUT",
            "{place}: {:#}",
            reply.body
        );
        assert_eq!(
            reply.body["errors"][0]["extensions"]["field"], field,
            "{place}: {:#}",
            reply.body
        );
    }
    // Only the contact within the limit exists: the batch's first operation did not run.
    let contacts = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ contacts { nodes { firstName } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        contacts.ok().data("contacts.nodes"),
        &json!([{"firstName": "Five"}])
    );
    // Over WebSocket too.
    let mut sub = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            "subscription($t: [String!]) { events(types: $t) { sequence } }",
            json!({"t": six}),
        )
        .await
        .expect("connected");
    let refused = sub.next_message().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    assert_eq!(app.app.subscriptions.open(), 0);
}

#[tokio::test]
async fn concurrent_guesses_are_counted_before_they_are_checked() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let passwords: Vec<String> = (0..199).map(|i| format!("guess {i}")).collect();
    let guesses = passwords
        .iter()
        .map(|password| login_from(&app, &t.host, None, &t.owner_email, password));
    let replies = futures::future::join_all(guesses).await;
    let checked = replies
        .iter()
        .filter(|r| r.code() == Some("UNAUTHENTICATED"))
        .count();
    let limited = replies
        .iter()
        .filter(|r| r.code() == Some("RATE_LIMITED"))
        .count();
    assert!(checked <= 10, "{checked} guesses were checked");
    assert_eq!(checked + limited, 199);
    let right = login_from(&app, &t.host, None, &t.owner_email, PASSWORD).await;
    assert_eq!(right.error_code(), "RATE_LIMITED");
}

async fn fail_from_one_address(
    app: &TestApp,
    t: &TestTenant,
    forwarded_for: impl Fn(usize) -> String,
) {
    for i in 0..50 {
        let email = format!("nobody{i}@{}.example", t.slug);
        let reply = login_from(app, &t.host, Some(&forwarded_for(i)), &email, "wrong").await;
        assert_eq!(reply.error_code(), "UNAUTHENTICATED", "attempt {i}");
    }
}

#[tokio::test]
async fn one_tenants_failures_leave_another_tenants_sign_in_alone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    fail_from_one_address(&app, &a, |_| "203.0.113.9".into()).await;
    let locked = login_from(&app, &a.host, None, &a.owner_email, PASSWORD).await;
    assert_eq!(
        locked.error_code(),
        "RATE_LIMITED",
        "the address is locked on A"
    );
    login_from(&app, &b.host, None, &b.owner_email, PASSWORD)
        .await
        .ok();
}

#[tokio::test]
async fn a_rotated_forwarded_for_does_not_reset_the_limit() {
    let app = spawn_app_with(|c| c.trusted_proxies = api::config::TrustedProxies::Hops(1)).await;
    let t = app.new_tenant().await;
    // The client writes any leftmost entry it likes; the proxy appends what it saw.
    fail_from_one_address(&app, &t, |i| {
        format!("10.0.{}.{}, 198.51.100.7", i / 250, i % 250)
    })
    .await;
    let locked = login_from(
        &app,
        &t.host,
        Some("192.0.2.200, 198.51.100.7"),
        &t.owner_email,
        PASSWORD,
    )
    .await;
    assert_eq!(locked.error_code(), "RATE_LIMITED");
    // Another client behind the same proxy is not locked out.
    login_from(
        &app,
        &t.host,
        Some("198.51.100.8"),
        &t.owner_email,
        PASSWORD,
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_websocket_operation_is_held_to_the_alias_limit() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let aliases: String = (0..500).map(|i| format!("a{i}: sequence ")).collect();
    let query = format!("subscription {{ events {{ {aliases} }} }}");
    let mut sub = app
        .subscribe(
            &t.host,
            Some(&t.owner_token),
            "graphql-transport-ws",
            &query,
            json!({}),
        )
        .await
        .expect("connected");
    let refused = sub.next_message().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{refused}"
    );
    assert_eq!(app.app.subscriptions.open(), 0);
}
