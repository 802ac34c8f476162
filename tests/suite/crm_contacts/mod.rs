//! CRM contacts and companies: creating, validating, updating, filtering, paginating,
//! role checks, tenant isolation and the audit trail with revert, all through GraphQL.

mod access;
mod companies;
mod fields;
mod history;
mod lists;

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tests::{Reply, TestApp, TestTenant, crm, spawn_app};

const CONTACT: &str = "id firstName lastName fullName email phone source status tags customFields \
     company { id name } owner { id } createdAt updatedAt";

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String,
        $filter: ContactFilterInput, $orderBy: ContactOrder) {
    contacts(first: $first, after: $after, last: $last, before: $before, filter: $filter,
             orderBy: $orderBy) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage }
        edges { cursor node { id firstName lastName } }
    } }";

const HISTORY: &str = "query($id: ID!) { history(entityId: $id) {
    totalCount
    edges { node { id action revertOf changes { field before after } actor { id } } } } }";

fn update_contact_query() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateContactInput!) {{ updateContact(id: $id, input: $input) {{ {CONTACT} }} }}"
    )
}

/// `createContact` selecting every field this suite checks.
async fn try_create_contact(app: &TestApp, host: &str, token: &str, input: Value) -> Reply {
    crm::try_create_contact(app, host, token, input, CONTACT).await
}

/// Creates a contact that must be accepted; returns it.
async fn create_contact(app: &TestApp, t: &TestTenant, token: &str, input: Value) -> Value {
    try_create_contact(app, &t.host, token, input)
        .await
        .ok()
        .data("createContact")
        .clone()
}

async fn update_contact(app: &TestApp, host: &str, token: &str, id: &str, input: Value) -> Reply {
    app.gql(
        host,
        Some(token),
        &update_contact_query(),
        json!({ "id": id, "input": input }),
    )
    .await
}

async fn delete_contact(app: &TestApp, host: &str, token: &str, id: &str) -> Reply {
    app.gql(
        host,
        Some(token),
        "mutation($id: ID!) { deleteContact(id: $id) }",
        json!({ "id": id }),
    )
    .await
}

async fn get_contact(app: &TestApp, host: &str, token: &str, id: &str) -> Reply {
    app.gql(
        host,
        Some(token),
        &format!("query($id: ID!) {{ contact(id: $id) {{ {CONTACT} }} }}"),
        json!({ "id": id }),
    )
    .await
}

/// A contact that must exist, read back by id.
async fn read_contact(app: &TestApp, host: &str, token: &str, id: &str) -> Value {
    get_contact(app, host, token, id)
        .await
        .ok()
        .data("contact")
        .clone()
}

async fn contact_count(app: &TestApp, host: &str, token: &str) -> i64 {
    app.gql(host, Some(token), "{ contacts { totalCount } }", json!({}))
        .await
        .ok()
        .data("contacts.totalCount")
        .as_i64()
        .expect("totalCount is a number")
}

async fn my_id(app: &TestApp, host: &str, token: &str) -> String {
    app.gql(host, Some(token), "{ me { id } }", json!({}))
        .await
        .ok()
        .str("me.id")
}

async fn create_company(app: &TestApp, host: &str, token: &str, input: Value) -> Value {
    crm::create_company(
        app,
        host,
        token,
        input,
        "id name domain industry size address { city country } owner { id }",
    )
    .await
}

fn id_of(node: &Value) -> String {
    node["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {node:#}"))
        .to_owned()
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value:#} is not a string"))
        .to_owned()
}

fn sorted_strings(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("{value:#} is not a list"))
        .iter()
        .map(text)
        .collect();
    items.sort();
    items
}

fn assert_bad_input(reply: &Reply, field: &str, case: &str) {
    assert_eq!(
        reply.error_code(),
        "BAD_USER_INPUT",
        "{case}: {:#}",
        reply.body
    );
    assert_eq!(
        reply.body["errors"][0]["extensions"]["field"], field,
        "{case}: {:#}",
        reply.body
    );
}

fn assert_code(reply: &Reply, code: &str, case: &str) {
    assert_eq!(reply.code(), Some(code), "{case}: {:#}", reply.body);
}

/// One page of `contacts`.
#[derive(Debug)]
struct Page {
    ids: Vec<String>,
    cursors: Vec<String>,
    has_next: bool,
    has_previous: bool,
    total: i64,
}

fn page_of(reply: &Reply) -> Page {
    reply.ok();
    let edges = reply.data("contacts.edges").as_array().expect("edges");
    Page {
        ids: edges.iter().map(|e| id_of(&e["node"])).collect(),
        cursors: edges.iter().map(|e| text(&e["cursor"])).collect(),
        has_next: reply.data("contacts.pageInfo.hasNextPage") == &json!(true),
        has_previous: reply.data("contacts.pageInfo.hasPreviousPage") == &json!(true),
        total: reply
            .data("contacts.totalCount")
            .as_i64()
            .expect("totalCount"),
    }
}

async fn page(app: &TestApp, host: &str, token: &str, variables: Value) -> Page {
    let reply = app.gql(host, Some(token), PAGE, variables).await;
    page_of(&reply)
}

/// The ids of the contacts matching `filter`, in creation order; checks `totalCount` agrees.
async fn matching(app: &TestApp, host: &str, token: &str, filter: Value) -> Vec<String> {
    let found = page(
        app,
        host,
        token,
        json!({ "first": 100, "filter": filter.clone() }),
    )
    .await;
    assert_eq!(
        found.total,
        found.ids.len() as i64,
        "totalCount of {filter}"
    );
    assert!(!found.has_next, "one page holds all for {filter}");
    found.ids
}

/// A time between two timestamps returned by the API (which must be in order).
fn between(earlier: &Value, later: &Value) -> String {
    let earlier: DateTime<Utc> = text(earlier).parse().expect("RFC 3339 timestamp");
    let later: DateTime<Utc> = text(later).parse().expect("RFC 3339 timestamp");
    assert!(earlier < later, "{earlier} is not before {later}");
    (earlier + (later - earlier) / 2).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Normalises an audit field name so `lastName` and `last_name` compare equal.
fn field_key(name: &str) -> String {
    name.replace('_', "").to_lowercase()
}

fn change<'a>(entry: &'a Value, field: &str) -> Option<&'a Value> {
    entry["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| field_key(c["field"].as_str().unwrap_or_default()) == field_key(field))
}

async fn history(app: &TestApp, host: &str, token: &str, entity_id: &str) -> Vec<Value> {
    let reply = app
        .gql(host, Some(token), HISTORY, json!({ "id": entity_id }))
        .await;
    reply.ok();
    let entries: Vec<Value> = reply
        .data("history.edges")
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(
        reply.data("history.totalCount").as_i64(),
        Some(entries.len() as i64)
    );
    entries
}

fn actions(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| text(&e["action"])).collect()
}
