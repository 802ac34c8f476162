//! A quote's public link: read without changing anything, decided once, refused the same
//! way for every token that opens nothing, rate-limited, its token kept only as a hash, and
//! accepting winning the opportunity in the same transaction.

use reqwest::{Method, header::HeaderMap};
use tests::{days_ago, id_sql, test_database_url};

use super::*;

/// A sent quote for a new contact's opportunity: (quote id, opportunity id, token).
async fn sent_quote(app: &TestApp, t: &TestTenant) -> (String, String, String) {
    let contact = client(app, t).await;
    let deal = crm::create_opportunity(
        app,
        t,
        json!({"title": "Deal", "contactId": contact, "value": {"amount": 1, "currency": "EUR"}}),
    )
    .await;
    let quote = create_quote(
        app,
        t,
        &t.owner_token,
        json!({"contactId": contact, "opportunityId": deal, "currency": "EUR", "terms": "Net 30",
               "lines": [{"description": "Work <b>bold</b>", "quantity": "3", "unitPrice": "100"}]}),
    )
    .await;
    let id = quote["id"].as_str().expect("id").to_owned();
    let (_, path) = send_quote(app, t, &id).await;
    let token = path.strip_prefix("/q/").expect("/q/ path").to_owned();
    (id, deal, token)
}

fn assert_private(headers: &HeaderMap) {
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-robots-tag"], "noindex");
}

async fn call(
    app: &TestApp,
    host: &str,
    method: Method,
    path: &str,
    json_body: Option<Value>,
) -> (u16, HeaderMap, String) {
    let mut request = app.request(method, host, path);
    request = match json_body {
        Some(body) => request.json(&body),
        None => request.header("Accept", "application/json"),
    };
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn parsed(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

async fn event_count(app: &TestApp, t: &TestTenant) -> usize {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "{ events { nodes { type } } }",
        json!({}),
    )
    .await
    .ok()
    .data("events.nodes")
    .as_array()
    .map_or(0, Vec::len)
}

#[tokio::test]
async fn reading_the_link_changes_nothing_and_accepting_twice_answers_the_first_result() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (id, deal, token) = sent_quote(&app, &t).await;
    let before = read_quote(&app, &t, &id).await;
    let events = event_count(&app, &t).await;
    let path = format!("/q/{token}");

    for i in 0..20 {
        let method = if i % 2 == 0 {
            Method::GET
        } else {
            Method::HEAD
        };
        let (status, headers, body) = if i % 4 < 2 {
            call(&app, &t.host, method.clone(), &path, None).await
        } else {
            let response = app
                .request(method.clone(), &t.host, &path)
                .send()
                .await
                .expect("sent");
            let (status, headers) = (response.status().as_u16(), response.headers().clone());
            (status, headers, response.text().await.expect("body"))
        };
        assert_eq!(status, 200, "{method} {i}");
        assert_private(&headers);
        if method == Method::GET && i % 4 < 2 {
            let view = parsed(&body);
            assert_eq!(view["status"], "sent");
            assert_eq!(view["totals"]["total"], "300.00");
            assert_eq!(view["actions"], json!(["accept", "reject"]));
        } else if method == Method::GET {
            assert!(
                body.contains("Work &lt;b&gt;bold&lt;/b&gt;"),
                "escaped: {body}"
            );
            assert!(body.contains(&format!("/q/{token}/accept")));
        }
    }
    assert_eq!(
        read_quote(&app, &t, &id).await,
        before,
        "reading changed the quote"
    );
    assert_eq!(event_count(&app, &t).await, events, "reading wrote events");

    let accept = format!("/q/{token}/accept");
    let (status, headers, body) = call(
        &app,
        &t.host,
        Method::POST,
        &accept,
        Some(json!({"name": "Ana Client"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_private(&headers);
    let first = parsed(&body);
    assert_eq!(first["status"], "accepted");
    assert_eq!(first["decision"]["name"], "Ana Client");
    assert_eq!(first["actions"], json!([]));
    let (status, _, body) = call(
        &app,
        &t.host,
        Method::POST,
        &accept,
        Some(json!({"name": "Someone Else"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        parsed(&body),
        first,
        "the second accept answers the first result"
    );
    let (status, _, body) = call(
        &app,
        &t.host,
        Method::POST,
        &format!("/q/{token}/reject"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        parsed(&body)["error"]["code"],
        "INVALID_TRANSITION",
        "decided: read-only"
    );

    // The deal is won at the quote's total; one of each event; the client is no user.
    let quote = read_quote(&app, &t, &id).await;
    assert_eq!(quote["status"], "ACCEPTED");
    assert_eq!(quote["decision"]["viaLink"], true);
    assert_eq!(quote["opportunity"]["id"], deal);
    assert_eq!(quote["opportunity"]["status"], "WON");
    assert_eq!(quote["opportunity"]["value"]["amount"], "300.00");
    let decided = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ events(types: [\"quote.accepted\", \"opportunity.won\"]) { nodes { type } } }",
            json!({}),
        )
        .await;
    let kinds: Vec<&str> = decided
        .ok()
        .data("events.nodes")
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(kinds, ["quote.accepted", "opportunity.won"]);
    let history = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "query($id: ID!) { history(entityId: $id) { edges { node { action actor { id } } } } }",
            json!({"id": id}),
        )
        .await;
    let last = history
        .ok()
        .data("history.edges")
        .as_array()
        .expect("edges")
        .last()
        .cloned()
        .expect("entries");
    assert!(
        last["node"]["actor"].is_null(),
        "the client is recorded as no user: {last}"
    );
}

#[tokio::test]
async fn a_browser_form_decides_and_gets_a_page() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (id, _, token) = sent_quote(&app, &t).await;
    let response = app
        .request(Method::POST, &t.host, &format!("/q/{token}/reject"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("reason=Too+expensive")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("text")
            .starts_with("text/html")
    );
    assert_private(response.headers());
    let page = response.text().await.expect("page");
    assert!(page.contains("This quote is rejected."), "{page}");
    let quote = read_quote(&app, &t, &id).await;
    assert_eq!(quote["status"], "REJECTED");
    assert_eq!(quote["decision"]["reason"], "Too expensive");

    // A form without a name is refused and changes nothing.
    let (_, _, other) = sent_quote(&app, &t).await;
    let response = app
        .request(Method::POST, &t.host, &format!("/q/{other}/accept"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=+")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn accepting_after_the_valid_until_day_is_expired() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (id, _, token) = sent_quote(&app, &t).await;
    app.tenant_sql(
        &t.slug,
        &format!(
            "UPDATE quotes SET expires_at = '{}' WHERE id = {}",
            days_ago(1),
            id_sql(&id)
        ),
    )
    .await;
    let before = read_quote(&app, &t, &id).await;
    let (status, headers, body) = call(
        &app,
        &t.host,
        Method::POST,
        &format!("/q/{token}/accept"),
        Some(json!({"name": "Late Client"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_private(&headers);
    assert_eq!(parsed(&body)["error"]["code"], "EXPIRED");
    assert_eq!(read_quote(&app, &t, &id).await, before);
    let (_, _, body) = call(&app, &t.host, Method::GET, &format!("/q/{token}"), None).await;
    assert_eq!(parsed(&body)["status"], "expired");
}

#[tokio::test]
async fn every_token_that_opens_nothing_gets_the_same_404() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let (_, _, token) = sent_quote(&app, &t).await;
    let (cancelled, _, cancelled_token) = sent_quote(&app, &t).await;
    act(&app, &t, &t.owner_token, "CANCEL", &cancelled)
        .await
        .ok();

    let mut bodies = Vec::new();
    for (host, path) in [
        (&other.host, format!("/q/{token}")),
        (&other.host, format!("/q/{token}/accept")),
        (&t.host, format!("/q/{cancelled_token}")),
        (&t.host, format!("/q/{cancelled_token}/accept")),
        (&t.host, format!("/q/{}", "A".repeat(43))),
        (&t.host, "/q/short".to_owned()),
        (&t.host, format!("/q/{}", "%27%20OR%201=1".repeat(4))),
    ] {
        let body = if path.ends_with("/accept") {
            Some(json!({"name": "Mallory"}))
        } else {
            None
        };
        let (status, headers, text) = call(
            &app,
            host,
            if body.is_some() {
                Method::POST
            } else {
                Method::GET
            },
            &path,
            body,
        )
        .await;
        assert_eq!(status, 404, "{host} {path}");
        assert_private(&headers);
        bodies.push(text);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "one answer for all: {bodies:?}");

    // The token is kept only as its hash: nowhere in the tenant's stored quotes, lines,
    // audit trail or events.
    let dump = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ events { nodes { payload } } quotes { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(!dump.body.to_string().contains(&token));
    if test_database_url().is_none() {
        // Every byte the tenant's SQLite database holds, its write-ahead log included.
        let file = app
            .data_dir()
            .join("tenants")
            .join(format!("{}.db", t.slug));
        let mut bytes = std::fs::read(&file).expect("the tenant's database file");
        bytes.extend(std::fs::read(file.with_extension("db-wal")).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("Net 30"),
            "the file holds the tenant's quotes"
        );
        assert!(
            !text.contains(&token),
            "the plaintext token is in the database file"
        );
    } else {
        // Fails (and the fixture panics) if any row of these tables holds the token.
        let tables = [
            "quotes",
            "document_lines",
            "audit_entries",
            "events",
            "jobs",
        ];
        let checks: Vec<String> = tables
            .iter()
            .map(|table| format!("SELECT 1 FROM {table} x WHERE x::text LIKE '%{token}%'"))
            .collect();
        app.tenant_sql(
            &t.slug,
            &format!(
                "DO $$ BEGIN IF EXISTS ({}) THEN RAISE EXCEPTION 'the plaintext token is stored'; END IF; END $$;",
                checks.join(" UNION ALL ")
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn a_client_address_is_held_to_its_rate_on_a_tenants_links() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, _, token) = sent_quote(&app, &t).await;
    let mut limited = None;
    for _ in 0..40 {
        let (status, headers, _) =
            call(&app, &t.host, Method::GET, &format!("/q/{token}"), None).await;
        if status == 429 {
            limited = Some(headers);
            break;
        }
        assert_eq!(status, 200);
    }
    let headers = limited.expect("refused before 40 requests a minute");
    assert!(headers.contains_key("retry-after"));
    assert_private(&headers);
}

#[tokio::test]
async fn accepting_and_winning_the_deal_commit_together_or_not_at_all() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (id, deal, token) = sent_quote(&app, &t).await;
    // The deal's update fails inside the accepting transaction, as a crash there would end it.
    let trigger = if test_database_url().is_some() {
        "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER refuse_update BEFORE UPDATE ON opportunities FOR EACH ROW EXECUTE FUNCTION refuse_update();"
    } else {
        "CREATE TRIGGER refuse_update BEFORE UPDATE ON opportunities BEGIN SELECT RAISE(ABORT, 'refused'); END;"
    };
    app.tenant_sql(&t.slug, trigger).await;
    let events = event_count(&app, &t).await;
    let before = read_quote(&app, &t, &id).await;
    let (status, _, body) = call(
        &app,
        &t.host,
        Method::POST,
        &format!("/q/{token}/accept"),
        Some(json!({"name": "Ana Client"})),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(parsed(&body)["error"]["code"], "INTERNAL");
    assert_eq!(
        read_quote(&app, &t, &id).await,
        before,
        "the quote stayed sent"
    );
    assert_eq!(event_count(&app, &t).await, events, "no event landed");
    let deal = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "query($id: ID!) { opportunity(id: $id) { status } }",
            json!({"id": deal}),
        )
        .await;
    assert_eq!(deal.ok().data("opportunity.status"), "OPEN");
}

#[tokio::test]
async fn a_sent_quote_is_recorded_expired_by_its_job_when_its_day_ends() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (id, _, token) = sent_quote(&app, &t).await;
    let jobs = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ jobs(filter: {kind: \"sales.quote_expiry\"}) { nodes { state dueAt } } }",
            json!({}),
        )
        .await;
    let scheduled = jobs
        .ok()
        .data("jobs.nodes")
        .as_array()
        .expect("nodes")
        .clone();
    assert_eq!(scheduled.len(), 1, "sending scheduled its expiry");
    assert_eq!(
        scheduled[0]["dueAt"],
        read_quote(&app, &t, &id).await["expiresAt"]
    );

    // Its day has ended; a worker that starts now finds the job due.
    app.tenant_sql(
        &t.slug,
        &format!(
            "UPDATE quotes SET expires_at = '{past}' WHERE id = {id};
             UPDATE jobs SET due_at = '{past}' WHERE kind = 'sales.quote_expiry'",
            past = days_ago(1),
            id = id_sql(&id)
        ),
    )
    .await;
    let _worker = app.another_instance_with(|c| c.jobs.workers = 1).await;
    let stored_expired = "{ quotes(filter: {status: [EXPIRED]}) { nodes { id } } }";
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = app
            .gql(&t.host, Some(&t.owner_token), stored_expired, json!({}))
            .await;
        if found
            .ok()
            .data("quotes.nodes")
            .as_array()
            .is_some_and(|n| !n.is_empty())
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the expiry job did not run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let expired = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ events(types: [\"quote.expired\"]) { nodes { entityId actor { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        expired.ok().data("events.nodes"),
        &json!([{"entityId": id, "actor": null}])
    );
    let (_, _, body) = call(&app, &t.host, Method::GET, &format!("/q/{token}"), None).await;
    assert_eq!(parsed(&body)["status"], "expired");
}
