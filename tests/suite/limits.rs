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
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
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
        "{ users { edges { node { email } } } }",
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
    let at_limit = "{ me { id email name role status createdAt lastLoginAt } pipelines { id name isDefault } }";
    app.gql(&t.host, Some(&t.owner_token), at_limit, json!({}))
        .await
        .ok();
    let over = "{ me { id email name role status createdAt lastLoginAt } pipelines { id name isDefault createdAt } }";
    refused_without_sql(&app, &t, over, "QUERY_TOO_COMPLEX").await;
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
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
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
