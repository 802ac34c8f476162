use serde_json::json;
use tests::{TestApp, TestTenant, spawn_app_with};

/// A server with small, known limits, a tenant, and its host already resolved (so that the
/// statement counter measures only what a request itself runs).
async fn limited() -> (TestApp, TestTenant) {
    let app = spawn_app_with(|c| {
        c.limits.max_depth = 4;
        c.limits.max_complexity = 12;
        c.limits.max_aliases = 100;
        c.limits.max_batch = 10;
        c.limits.max_body_bytes = 64 * 1024;
    })
    .await;
    let t = app.new_tenant().await;
    app.gql(&t.host, Some(&t.owner_token), "{ me { id } }", json!({}))
        .await
        .ok();
    (app, t)
}

async fn refused_without_sql(app: &TestApp, t: &TestTenant, query: &str, code: &str) {
    let before = app.statements();
    let reply = app
        .gql(&t.host, Some(&t.owner_token), query, json!({}))
        .await;
    assert_eq!(reply.error_code(), code, "{query}: {:#}", reply.body);
    assert!(reply.body["data"].is_null(), "{query}: data returned");
    assert_eq!(app.statements(), before, "{query}: SQL ran");
}

#[tokio::test]
async fn depth_limit() {
    let (app, t) = limited().await;
    // Depth 4 (users > edges > node > email): at the limit.
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "{ users(first: 1) { edges { node { email } } } }",
        json!({}),
    )
    .await
    .ok();
    // Depth 5: one over.
    refused_without_sql(
        &app,
        &t,
        "{ users { edges { node { email } } } __schema { types { fields { type { name } } } } }",
        "QUERY_TOO_COMPLEX",
    )
    .await;
}

#[tokio::test]
async fn complexity_limit() {
    let (app, t) = limited().await;
    // Twelve fields: at the limit.
    let at_limit =
        "{ me { id email name role status createdAt lastLoginAt } again: me { id email name } }";
    app.gql(&t.host, Some(&t.owner_token), at_limit, json!({}))
        .await
        .ok();
    let over = "{ me { id email name role status createdAt lastLoginAt } again: me { id email name role } }";
    refused_without_sql(&app, &t, over, "QUERY_TOO_COMPLEX").await;
    // A list counts its items as many times as it may hold: 2 + 5 x 2 points.
    let listed = "{ users(first: 5) { nodes { id email } } }";
    refused_without_sql(&app, &t, listed, "QUERY_TOO_COMPLEX").await;
}

#[tokio::test]
async fn alias_limit() {
    let (app, t) = limited().await;
    let with_aliases = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    app.gql(&t.host, Some(&t.owner_token), &with_aliases(100), json!({}))
        .await
        .ok();
    refused_without_sql(&app, &t, &with_aliases(101), "QUERY_TOO_COMPLEX").await;
}

#[tokio::test]
async fn batch_limit() {
    let (app, t) = limited().await;
    let batch = |n: usize| {
        json!(
            (0..n)
                .map(|_| json!({"query": "{ me { email } }"}))
                .collect::<Vec<_>>()
        )
    };
    let ten = app
        .post_json(&t.host, Some(&t.owner_token), &batch(10))
        .await;
    assert_eq!(
        ten.body.as_array().map(Vec::len),
        Some(10),
        "{:#}",
        ten.body
    );
    assert!(
        ten.body
            .as_array()
            .into_iter()
            .flatten()
            .all(|r| r["data"]["me"]["email"] == t.owner_email.as_str())
    );
    let before = app.statements();
    let fifty = app
        .post_json(&t.host, Some(&t.owner_token), &batch(50))
        .await;
    assert_eq!(fifty.error_code(), "QUERY_TOO_COMPLEX");
    assert_eq!(app.statements(), before);
}

#[tokio::test]
async fn body_size_limit() {
    let (app, t) = limited().await;
    let padding = " ".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"query": "{{ me {{ email }} }}{padding}"}}"#);
    let before = app.statements();
    let reply = app
        .post_raw(&t.host, Some(&t.owner_token), body.into_bytes())
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.error_code(), "PAYLOAD_TOO_LARGE");
    assert_eq!(app.statements(), before);
}

#[tokio::test]
async fn mutations_are_refused_over_get_and_queries_allowed() {
    let (app, t) = limited().await;
    let before = app.statements();
    let reply = app
        .get(&t.host, "query=mutation%20%7B%20logout%20%7D")
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.error_code(), "METHOD_NOT_ALLOWED");
    assert_eq!(app.statements(), before);
    let query = app.get(&t.host, "query=%7B%20__typename%20%7D").await;
    assert_eq!(query.ok().data("__typename"), "Query");
}

#[tokio::test]
async fn malformed_requests_get_codes() {
    let (app, t) = limited().await;
    let parse = app.gql(&t.host, None, "{ me { ", json!({})).await;
    assert_eq!(parse.error_code(), "GRAPHQL_PARSE_FAILED");
    let unknown = app.gql(&t.host, None, "{ nope }", json!({})).await;
    assert_eq!(unknown.error_code(), "GRAPHQL_VALIDATION_FAILED");
    let not_json = app.post_raw(&t.host, None, b"hello".to_vec()).await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.error_code(), "GRAPHQL_PARSE_FAILED");
}

#[tokio::test]
async fn production_hides_introspection_from_anonymous_callers() {
    let app = spawn_app_with(|c| c.environment = api::config::Environment::Production).await;
    let t = app.new_tenant().await;
    let introspection = "{ __schema { queryType { name } } }";
    let anonymous = app.gql(&t.host, None, introspection, json!({})).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    assert!(anonymous.body["data"].is_null());
    // Hidden inside a fragment it is still not answered.
    let fragment = app
        .gql(
            &t.host,
            None,
            "{ ...on Query { __schema { queryType { name } } } }",
            json!({}),
        )
        .await;
    assert!(
        fragment.body["data"]["__schema"].is_null(),
        "{:#}",
        fragment.body
    );
    let signed_in = app
        .gql(&t.host, Some(&t.owner_token), introspection, json!({}))
        .await;
    assert_eq!(signed_in.ok().str("__schema.queryType.name"), "Query");
    // No "did you mean" hints in production.
    let typo = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ pipelinez { name } }",
            json!({}),
        )
        .await;
    assert_eq!(typo.error_code(), "GRAPHQL_VALIDATION_FAILED");
    let message = typo.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(!message.contains("Did you mean"), "{message}");
    // No GraphiQL page either.
    assert_eq!(app.get(&t.host, "").await.status, 405);
}

#[tokio::test]
async fn development_serves_graphiql_and_suggestions() {
    let (app, t) = limited().await;
    let page = app.get(&t.host, "").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .as_str()
            .is_some_and(|html| html.contains("graphiql"))
    );
    let typo = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ pipelinez { name } }",
            json!({}),
        )
        .await;
    assert!(
        typo.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Did you mean")
    );
}

/// Nested lists multiply: a viewer asking for a contact's opportunities' contacts'
/// opportunities, a hundred at each level, asks for a million nodes.
#[tokio::test]
async fn nested_lists_are_refused_before_they_run_and_the_board_still_fits() {
    let app = tests::spawn_app().await;
    let t = app.new_tenant().await;
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let contact = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation { createContact(input: {firstName: \"Nested\"}) { id } }",
            json!({}),
        )
        .await
        .ok()
        .str("createContact.id");
    let million = "query($id: ID!) { contact(id: $id) { opportunities(first: 100) { contact {
        opportunities(first: 100) { contact { opportunities(first: 100) { id title } } } } } } }";
    app.gql(&t.host, Some(&viewer), "{ me { id } }", json!({}))
        .await
        .ok();
    let before = app.statements();
    let refused = app
        .gql(&t.host, Some(&viewer), million, json!({"id": contact}))
        .await;
    assert_eq!(
        refused.error_code(),
        "QUERY_TOO_COMPLEX",
        "{:#}",
        refused.body
    );
    assert_eq!(app.statements(), before, "refused before any SQL");
    let pipeline = app.first_pipeline_id(&t).await;
    // nexo-bench's board: every stage's first 20 cards with their edges.
    let board = "query($id: ID!) { pipeline(id: $id) { id name stages { id name probability
        opportunities(first: 20) { totalCount totalValue { amount currency } nodes { id title
          value { amount currency } weightedValue { amount currency }
          contact { id fullName email } company { id name } owner { id email }
          latestActivity { id kind subject createdAt } } } } } }";
    app.gql(&t.host, Some(&viewer), board, json!({"id": pipeline}))
        .await
        .ok();
}

#[tokio::test]
async fn a_response_over_the_size_limit_is_refused_unless_it_acknowledges_a_write() {
    let app = spawn_app_with(|c| c.limits.max_response_bytes = 2048).await;
    let t = app.new_tenant().await;
    let note = "n".repeat(3000);
    // The write is committed, so its answer comes whatever its size.
    let created = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($f: JSON!) { createContact(input: {firstName: \"Long\", customFields: $f}) { id customFields } }",
            json!({"f": {"note": note}}),
        )
        .await;
    assert_eq!(
        created.ok().data("createContact.customFields")["note"]
            .as_str()
            .map(str::len),
        Some(3000),
        "acknowledged in full"
    );
    let read = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ contacts { nodes { customFields } } }",
            json!({}),
        )
        .await;
    assert_eq!(read.error_code(), "QUERY_TOO_COMPLEX");
    let small = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ contacts { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(small.ok().data("contacts.totalCount"), 1);
}
