//! CRM contacts and companies: creating, validating, updating, filtering, paginating,
//! role checks, tenant isolation and the audit trail with revert, all through GraphQL.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tests::{Reply, TestApp, TestTenant, spawn_app};

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

fn create_contact_query() -> String {
    format!(
        "mutation($input: CreateContactInput!) {{ createContact(input: $input) {{ {CONTACT} }} }}"
    )
}

fn update_contact_query() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateContactInput!) {{ updateContact(id: $id, input: $input) {{ {CONTACT} }} }}"
    )
}

async fn try_create_contact(app: &TestApp, host: &str, token: &str, input: Value) -> Reply {
    app.gql(
        host,
        Some(token),
        &create_contact_query(),
        json!({ "input": input }),
    )
    .await
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
    app.gql(
        host,
        Some(token),
        "mutation($input: CreateCompanyInput!) { createCompany(input: $input) {
            id name domain industry size address { city country } owner { id } } }",
        json!({ "input": input }),
    )
    .await
    .ok()
    .data("createCompany")
    .clone()
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

#[tokio::test]
async fn a_contact_is_created_with_every_field_and_read_back_normalised() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let company = create_company(&app, &t.host, &sales, json!({ "name": "Acme Corp" })).await;

    let created = create_contact(
        &app,
        &t,
        &sales,
        json!({
            "firstName": "Ann",
            "lastName": "Smith",
            "email": "Ann.Smith@Example.COM",
            "phone": "+1 (415) 555-2671",
            "companyId": id_of(&company),
            "source": "REFERRAL",
            "status": "QUALIFIED",
            "tags": ["VIP", "vip", "West Coast", "Vip"],
            "customFields": { "budget": 5000, "region": "west", "nested": { "a": [1, 2] } },
        }),
    )
    .await;
    let id = id_of(&created);
    let read = read_contact(&app, &t.host, &sales, &id).await;
    for contact in [&created, &read] {
        assert_eq!(contact["id"], json!(id));
        assert_eq!(contact["firstName"], "Ann");
        assert_eq!(contact["lastName"], "Smith");
        assert_eq!(contact["fullName"], "Ann Smith");
        assert_eq!(contact["email"], "ann.smith@example.com");
        assert_eq!(contact["phone"], "+14155552671");
        assert_eq!(contact["source"], "REFERRAL");
        assert_eq!(contact["status"], "QUALIFIED");
        assert_eq!(
            sorted_strings(&contact["tags"]),
            vec!["vip".to_owned(), "west coast".to_owned()],
            "tags lowercased and deduplicated: {contact:#}"
        );
        assert_eq!(
            contact["customFields"],
            json!({ "budget": 5000, "region": "west", "nested": { "a": [1, 2] } })
        );
        assert_eq!(
            contact["owner"]["id"],
            json!(sales_id),
            "owner is the caller"
        );
        assert_eq!(contact["company"]["id"], company["id"]);
        assert_eq!(contact["company"]["name"], "Acme Corp");
        assert!(contact["createdAt"].is_string());
    }

    // Defaults: status NEW, source OTHER, no tags, an empty object of custom fields.
    let minimal = create_contact(&app, &t, &t.owner_token, json!({ "firstName": "Bo" })).await;
    assert_eq!(minimal["status"], "NEW");
    assert_eq!(minimal["source"], "OTHER");
    assert_eq!(minimal["tags"], json!([]));
    assert_eq!(minimal["customFields"], json!({}));
    assert_eq!(minimal["fullName"], "Bo");
    assert!(minimal["lastName"].is_null());
    assert!(minimal["email"].is_null());
    assert!(minimal["phone"].is_null());
    assert!(minimal["company"].is_null());
    let owner_id = my_id(&app, &t.host, &t.owner_token).await;
    assert_eq!(minimal["owner"]["id"], json!(owner_id));

    // An explicit owner other than the caller.
    let assigned = create_contact(
        &app,
        &t,
        &t.owner_token,
        json!({ "firstName": "Cy", "ownerId": sales_id, "phone": "0044 20 7946 0958" }),
    )
    .await;
    assert_eq!(assigned["owner"]["id"], json!(sales_id));
    assert_eq!(assigned["phone"], "+442079460958");

    assert_eq!(contact_count(&app, &t.host, &sales).await, 3);
}

#[tokio::test]
async fn invalid_contact_input_is_refused_and_creates_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let token = t.owner_token.clone();
    create_contact(
        &app,
        &t,
        &token,
        json!({ "firstName": "Dee", "email": "dup@example.com" }),
    )
    .await;
    let before = contact_count(&app, &t.host, &token).await;
    assert_eq!(before, 1);

    let cases = [
        (
            "invalid email",
            json!({ "firstName": "X", "email": "not-an-email" }),
            "email",
        ),
        (
            "phone without country code",
            json!({ "firstName": "X", "phone": "(415) 555-2671" }),
            "phone",
        ),
        (
            "phone that is not a number",
            json!({ "firstName": "X", "phone": "call me" }),
            "phone",
        ),
        ("empty firstName", json!({ "firstName": "" }), "firstName"),
        (
            "blank firstName",
            json!({ "firstName": "   " }),
            "firstName",
        ),
        (
            "customFields a list",
            json!({ "firstName": "X", "customFields": [1, 2] }),
            "customFields",
        ),
        (
            "customFields a string",
            json!({ "firstName": "X", "customFields": "budget=5" }),
            "customFields",
        ),
        (
            "customFields a number",
            json!({ "firstName": "X", "customFields": 5 }),
            "customFields",
        ),
        (
            "duplicate email",
            json!({ "firstName": "X", "email": "dup@example.com" }),
            "email",
        ),
        (
            "duplicate email in another case",
            json!({ "firstName": "X", "email": "DUP@Example.com" }),
            "email",
        ),
        (
            "malformed companyId",
            json!({ "firstName": "X", "companyId": "42" }),
            "companyId",
        ),
        (
            "malformed ownerId",
            json!({ "firstName": "X", "ownerId": "42" }),
            "ownerId",
        ),
    ];
    for (case, input, field) in cases {
        let reply = try_create_contact(&app, &t.host, &token, input).await;
        assert_bad_input(&reply, field, case);
        assert!(
            reply.body["data"].is_null() || reply.body["data"]["createContact"].is_null(),
            "{case}: {:#}",
            reply.body
        );
    }

    let unknown_company = try_create_contact(
        &app,
        &t.host,
        &token,
        json!({ "firstName": "X", "companyId": uuid::Uuid::now_v7().to_string() }),
    )
    .await;
    assert_code(&unknown_company, "NOT_FOUND", "unknown companyId");
    let unknown_owner = try_create_contact(
        &app,
        &t.host,
        &token,
        json!({ "firstName": "X", "ownerId": uuid::Uuid::now_v7().to_string() }),
    )
    .await;
    assert_code(&unknown_owner, "NOT_FOUND", "unknown ownerId");

    assert_eq!(
        contact_count(&app, &t.host, &token).await,
        before,
        "nothing was created by refused input"
    );

    // Malformed and unknown ids on reads, updates and deletes.
    let malformed = get_contact(&app, &t.host, &token, "42").await;
    assert_bad_input(&malformed, "id", "contact(id: \"42\")");
    let unknown = get_contact(&app, &t.host, &token, &uuid::Uuid::now_v7().to_string()).await;
    assert_code(&unknown, "NOT_FOUND", "contact with an unknown id");
    let update_malformed =
        update_contact(&app, &t.host, &token, "42", json!({ "firstName": "Y" })).await;
    assert_bad_input(&update_malformed, "id", "updateContact(id: \"42\")");
    let delete_malformed = delete_contact(&app, &t.host, &token, "42").await;
    assert_bad_input(&delete_malformed, "id", "deleteContact(id: \"42\")");
    let delete_unknown =
        delete_contact(&app, &t.host, &token, &uuid::Uuid::now_v7().to_string()).await;
    assert_code(
        &delete_unknown,
        "NOT_FOUND",
        "deleteContact with an unknown id",
    );
    assert_eq!(contact_count(&app, &t.host, &token).await, before);
}

#[tokio::test]
async fn an_update_changes_only_the_given_fields_and_null_clears() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let token = t.owner_token.clone();
    let company = create_company(&app, &t.host, &token, json!({ "name": "Globex" })).await;
    let original = create_contact(
        &app,
        &t,
        &token,
        json!({
            "firstName": "Ann",
            "lastName": "Smith",
            "email": "ann@example.com",
            "phone": "+14155552671",
            "companyId": id_of(&company),
            "source": "WEBSITE",
            "status": "NEW",
            "tags": ["vip", "west"],
            "customFields": { "budget": 5000 },
        }),
    )
    .await;
    let id = id_of(&original);
    let other = create_contact(
        &app,
        &t,
        &token,
        json!({ "firstName": "Other", "email": "other@example.com" }),
    )
    .await;

    // Only the first name and the status: everything else stays.
    let renamed = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "firstName": "Annie", "status": "CONTACTED" }),
    )
    .await;
    let renamed = renamed.ok().data("updateContact").clone();
    let read = read_contact(&app, &t.host, &token, &id).await;
    for contact in [&renamed, &read] {
        assert_eq!(contact["firstName"], "Annie");
        assert_eq!(contact["fullName"], "Annie Smith");
        assert_eq!(contact["status"], "CONTACTED");
        for field in [
            "lastName",
            "email",
            "phone",
            "source",
            "customFields",
            "company",
            "owner",
            "createdAt",
        ] {
            assert_eq!(contact[field], original[field], "{field} kept");
        }
        assert_eq!(
            sorted_strings(&contact["tags"]),
            sorted_strings(&original["tags"])
        );
    }
    let created_at: DateTime<Utc> = text(&original["createdAt"]).parse().expect("timestamp");
    let updated_at: DateTime<Utc> = text(&read["updatedAt"]).parse().expect("timestamp");
    assert!(updated_at >= created_at);

    // null clears lastName and phone; tags and custom fields are replaced; the email is
    // normalised.
    let cleared = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({
            "lastName": null,
            "phone": null,
            "email": "Annie@Example.COM",
            "tags": ["Gold", "gold", "East"],
            "customFields": { "tier": "gold" },
        }),
    )
    .await;
    cleared.ok();
    let read = read_contact(&app, &t.host, &token, &id).await;
    assert!(read["lastName"].is_null(), "{read:#}");
    assert!(read["phone"].is_null(), "{read:#}");
    assert_eq!(read["fullName"], "Annie");
    assert_eq!(read["email"], "annie@example.com");
    assert_eq!(
        sorted_strings(&read["tags"]),
        vec!["east".to_owned(), "gold".to_owned()]
    );
    assert_eq!(read["customFields"], json!({ "tier": "gold" }));
    assert_eq!(read["status"], "CONTACTED");
    assert_eq!(read["company"]["id"], company["id"]);

    // The contact's own email in another case is not a duplicate.
    let same_email = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "email": "ANNIE@example.com" }),
    )
    .await;
    assert_eq!(
        same_email.ok().data("updateContact.email"),
        "annie@example.com"
    );

    // A phone in another notation is stored as E.164; companyId null unlinks the company;
    // an empty tag list removes every tag.
    update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "phone": "+44 20 7946 0958", "companyId": null, "tags": [] }),
    )
    .await
    .ok();
    let read = read_contact(&app, &t.host, &token, &id).await;
    assert_eq!(read["phone"], "+442079460958");
    assert!(read["company"].is_null(), "{read:#}");
    assert_eq!(read["tags"], json!([]));

    // Refused updates change nothing.
    let before = read.clone();
    for (case, input, field) in [
        ("empty firstName", json!({ "firstName": "" }), "firstName"),
        ("invalid email", json!({ "email": "nope" }), "email"),
        (
            "another contact's email",
            json!({ "email": other["email"].clone() }),
            "email",
        ),
        (
            "phone without country code",
            json!({ "phone": "555 0100" }),
            "phone",
        ),
        (
            "customFields not an object",
            json!({ "customFields": ["a"] }),
            "customFields",
        ),
        (
            "malformed companyId",
            json!({ "companyId": "42" }),
            "companyId",
        ),
    ] {
        let reply = update_contact(&app, &t.host, &token, &id, input).await;
        assert_bad_input(&reply, field, case);
    }
    let unknown_company = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "companyId": uuid::Uuid::now_v7().to_string(), "firstName": "Changed" }),
    )
    .await;
    assert_code(&unknown_company, "NOT_FOUND", "unknown companyId");
    let after = read_contact(&app, &t.host, &token, &id).await;
    assert_eq!(after, before, "refused updates left the contact as it was");
}

#[tokio::test]
async fn filters_return_exactly_the_matching_contacts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let owner = t.owner_token.clone();
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let owner_id = my_id(&app, &t.host, &owner).await;
    let acme = create_company(&app, &t.host, &owner, json!({ "name": "Acme" })).await;
    let acme_id = id_of(&acme);

    let ann = create_contact(
        &app,
        &t,
        &owner,
        json!({
            "firstName": "Ann", "lastName": "Smith", "email": "ann.smith@alpha.example",
            "phone": "+1 415 555 2671", "status": "NEW", "source": "WEBSITE",
            "tags": ["vip", "west"], "companyId": acme_id,
        }),
    )
    .await;
    let bob = create_contact(
        &app,
        &t,
        &owner,
        json!({
            "firstName": "Bob", "lastName": "Smithers", "email": "bob@beta.example",
            "phone": "+44 20 7946 0958", "status": "QUALIFIED", "source": "REFERRAL",
            "tags": ["VIP"], "ownerId": sales_id,
        }),
    )
    .await;
    let carla = create_contact(
        &app,
        &t,
        &sales,
        json!({
            "firstName": "Carla", "lastName": "Jones", "email": "carla@alpha.example",
            "status": "CUSTOMER", "source": "WEBSITE", "tags": ["east"], "companyId": acme_id,
        }),
    )
    .await;
    let dan = create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Dan", "lastName": "Brown", "status": "LOST", "source": "PHONE" }),
    )
    .await;
    let [ann_id, bob_id, carla_id, dan_id] = [&ann, &bob, &carla, &dan].map(id_of);
    let ids = |list: &[&String]| -> Vec<String> { list.iter().map(|s| (*s).clone()).collect() };
    let (o, s) = (owner.as_str(), sales.as_str());

    let cases: Vec<(&str, &str, Value, Vec<String>)> = vec![
        (
            "no filter",
            o,
            json!({}),
            ids(&[&ann_id, &bob_id, &carla_id, &dan_id]),
        ),
        (
            "status NEW",
            o,
            json!({ "status": ["NEW"] }),
            ids(&[&ann_id]),
        ),
        (
            "status QUALIFIED or CUSTOMER",
            o,
            json!({ "status": ["QUALIFIED", "CUSTOMER"] }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "status CONTACTED",
            o,
            json!({ "status": ["CONTACTED"] }),
            vec![],
        ),
        (
            "source WEBSITE",
            o,
            json!({ "source": ["WEBSITE"] }),
            ids(&[&ann_id, &carla_id]),
        ),
        (
            "source REFERRAL or PHONE",
            o,
            json!({ "source": ["REFERRAL", "PHONE"] }),
            ids(&[&bob_id, &dan_id]),
        ),
        (
            "tag vip",
            o,
            json!({ "tag": "vip" }),
            ids(&[&ann_id, &bob_id]),
        ),
        (
            "tag VIP",
            o,
            json!({ "tag": "VIP" }),
            ids(&[&ann_id, &bob_id]),
        ),
        ("tag east", o, json!({ "tag": "east" }), ids(&[&carla_id])),
        ("tag unknown", o, json!({ "tag": "nobody" }), vec![]),
        (
            "mine (owner)",
            o,
            json!({ "mine": true }),
            ids(&[&ann_id, &dan_id]),
        ),
        (
            "mine (sales)",
            s,
            json!({ "mine": true }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "ownerId sales",
            o,
            json!({ "ownerId": sales_id }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "ownerId owner",
            s,
            json!({ "ownerId": owner_id }),
            ids(&[&ann_id, &dan_id]),
        ),
        (
            "companyId",
            o,
            json!({ "companyId": acme_id }),
            ids(&[&ann_id, &carla_id]),
        ),
        (
            "search part of a last name",
            o,
            json!({ "search": "smith" }),
            ids(&[&ann_id, &bob_id]),
        ),
        (
            "search a full name",
            o,
            json!({ "search": "Ann Smith" }),
            ids(&[&ann_id]),
        ),
        (
            "search in another case",
            o,
            json!({ "search": "SMITHE" }),
            ids(&[&bob_id]),
        ),
        (
            "search part of a first name",
            o,
            json!({ "search": "arl" }),
            ids(&[&carla_id]),
        ),
        (
            "search part of an email",
            o,
            json!({ "search": "alpha.exam" }),
            ids(&[&ann_id, &carla_id]),
        ),
        (
            "search phone digits",
            o,
            json!({ "search": "5552671" }),
            ids(&[&ann_id]),
        ),
        (
            "search other phone digits",
            o,
            json!({ "search": "2079460958" }),
            ids(&[&bob_id]),
        ),
        (
            "search nothing matches",
            o,
            json!({ "search": "zzz" }),
            vec![],
        ),
        (
            "search a LIKE wildcard",
            o,
            json!({ "search": "%" }),
            vec![],
        ),
        ("search an underscore", o, json!({ "search": "_" }), vec![]),
        (
            "status and tag",
            o,
            json!({ "status": ["NEW", "QUALIFIED"], "tag": "vip", "search": "bob" }),
            ids(&[&bob_id]),
        ),
        (
            "companyId and mine (sales)",
            s,
            json!({ "companyId": acme_id, "mine": true }),
            ids(&[&carla_id]),
        ),
        (
            "created after Bob was",
            o,
            json!({ "createdAfter": between(&ann["createdAt"], &bob["createdAt"]) }),
            ids(&[&bob_id, &carla_id, &dan_id]),
        ),
        (
            "created range",
            o,
            json!({
                "createdAfter": between(&ann["createdAt"], &bob["createdAt"]),
                "createdBefore": between(&carla["createdAt"], &dan["createdAt"]),
            }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "created before Bob",
            o,
            json!({ "createdBefore": between(&ann["createdAt"], &bob["createdAt"]) }),
            ids(&[&ann_id]),
        ),
        (
            "created in the future",
            o,
            json!({ "createdAfter": "2999-01-01T00:00:00Z" }),
            vec![],
        ),
        (
            "created before the epoch",
            o,
            json!({ "createdBefore": "1970-01-02T00:00:00Z" }),
            vec![],
        ),
    ];
    for (case, token, filter, expected) in cases {
        let found = matching(&app, &t.host, token, filter).await;
        assert_eq!(found, expected, "{case}");
    }

    // Updated range: only Ann changes after everything was created.
    let touched = update_contact(
        &app,
        &t.host,
        &owner,
        &ann_id,
        json!({ "status": "CONTACTED" }),
    )
    .await;
    let touched = touched.ok().data("updateContact").clone();
    let cut = between(&dan["updatedAt"], &touched["updatedAt"]);
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "updatedAfter": cut })).await,
        vec![ann_id.clone()]
    );
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "updatedBefore": cut })).await,
        vec![bob_id.clone(), carla_id.clone(), dan_id.clone()]
    );
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "status": ["NEW"] })).await,
        Vec::<String>::new(),
        "the status filter follows the update"
    );

    // A malformed id in a filter is refused, naming the filter field.
    let reply = app
        .gql(
            &t.host,
            Some(&owner),
            PAGE,
            json!({ "filter": { "companyId": "42" } }),
        )
        .await;
    assert_bad_input(&reply, "companyId", "filter companyId \"42\"");
    let reply = app
        .gql(
            &t.host,
            Some(&owner),
            PAGE,
            json!({ "filter": { "ownerId": "42" } }),
        )
        .await;
    assert_bad_input(&reply, "ownerId", "filter ownerId \"42\"");
}

/// Pages forward through `contacts` with `first: size` until the end.
async fn pages_forward(
    app: &TestApp,
    t: &TestTenant,
    size: i64,
    order_by: Value,
) -> (Vec<Vec<String>>, Vec<Page>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let p = page(
            app,
            &t.host,
            &t.owner_token,
            json!({ "first": size, "after": after, "orderBy": order_by.clone() }),
        )
        .await;
        ids.push(p.ids.clone());
        after = p.cursors.last().cloned();
        let more = p.has_next;
        pages.push(p);
        if !more {
            break;
        }
        assert!(pages.len() < 50, "pagination does not end");
    }
    (ids, pages)
}

/// Pages backward through `contacts` with `last: size` from the end.
async fn pages_backward(
    app: &TestApp,
    t: &TestTenant,
    size: i64,
    order_by: Value,
) -> (Vec<Vec<String>>, Vec<Page>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let p = page(
            app,
            &t.host,
            &t.owner_token,
            json!({ "last": size, "before": before, "orderBy": order_by.clone() }),
        )
        .await;
        ids.push(p.ids.clone());
        before = p.cursors.first().cloned();
        let more = p.has_previous;
        pages.push(p);
        if !more {
            break;
        }
        assert!(pages.len() < 50, "pagination does not end");
    }
    (ids, pages)
}

#[tokio::test]
async fn contacts_page_forwards_and_backwards_in_creation_order() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let mut all = Vec::new();
    for i in 0..7 {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("Page{i}") }),
        )
        .await;
        all.push(id_of(&c));
    }
    let chunk = |range: std::ops::Range<usize>| all[range].to_vec();

    let (forward, pages) = pages_forward(&app, &t, 3, Value::Null).await;
    assert_eq!(forward, vec![chunk(0..3), chunk(3..6), chunk(6..7)]);
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.has_previous, p.has_next))
            .collect::<Vec<_>>(),
        vec![(false, true), (true, true), (true, false)]
    );
    assert!(pages.iter().all(|p| p.total == 7));

    let (backward, pages) = pages_backward(&app, &t, 3, Value::Null).await;
    assert_eq!(backward, vec![chunk(4..7), chunk(1..4), chunk(0..1)]);
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.has_previous, p.has_next))
            .collect::<Vec<_>>(),
        vec![(true, false), (true, true), (false, true)]
    );
    assert!(pages.iter().all(|p| p.total == 7));

    // Explicit CREATED_AT orders, both directions.
    let asc = json!({ "field": "CREATED_AT", "direction": "ASC" });
    let (ids, _) = pages_forward(&app, &t, 3, asc).await;
    assert_eq!(ids.concat(), all);
    let desc = json!({ "field": "CREATED_AT", "direction": "DESC" });
    let (ids, _) = pages_forward(&app, &t, 3, desc.clone()).await;
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(ids.concat(), reversed);
    let (ids, _) = pages_backward(&app, &t, 3, desc).await;
    assert_eq!(ids.into_iter().rev().collect::<Vec<_>>().concat(), reversed);

    // Going back from the middle with `before` and forward again with `after`.
    let third = forward_cursor(&app, &t, 2).await;
    let middle = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 3, "after": third }),
    )
    .await;
    assert_eq!(middle.ids, chunk(3..6));
    let back = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "last": 2, "before": middle.cursors[0].clone() }),
    )
    .await;
    assert_eq!(back.ids, chunk(1..3));
    assert!(back.has_previous && back.has_next);

    // Page size limits.
    let at_max = page(&app, &t.host, &t.owner_token, json!({ "first": 100 })).await;
    assert_eq!(at_max.ids, all);
    for (variables, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "last": 101 }), "last"),
        (json!({ "first": -1 }), "first"),
    ] {
        let reply = app
            .gql(&t.host, Some(&t.owner_token), PAGE, variables.clone())
            .await;
        assert_bad_input(&reply, field, &variables.to_string());
    }
    let nonsense = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            PAGE,
            json!({ "first": 3, "after": "nonsense" }),
        )
        .await;
    assert_bad_input(&nonsense, "after", "a made-up cursor");
}

/// The cursor of the `index`-th contact (from 0) in creation order.
async fn forward_cursor(app: &TestApp, t: &TestTenant, index: usize) -> String {
    let p = page(
        app,
        &t.host,
        &t.owner_token,
        json!({ "first": index as i64 + 1 }),
    )
    .await;
    p.cursors[index].clone()
}

#[tokio::test]
async fn cursors_stay_valid_across_inserts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let mut originals = Vec::new();
    for i in 0..7 {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("Orig{i}") }),
        )
        .await;
        originals.push(id_of(&c));
    }

    // Forwards: page 1, then inserts, then the rest from the cursor.
    let first = page(&app, &t.host, &t.owner_token, json!({ "first": 3 })).await;
    assert_eq!(first.ids, originals[0..3].to_vec());
    let mut inserted = Vec::new();
    for i in 0..2 {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("New{i}") }),
        )
        .await;
        inserted.push(id_of(&c));
    }
    let mut seen = first.ids.clone();
    let mut after = first.cursors.last().cloned();
    loop {
        let p = page(
            &app,
            &t.host,
            &t.owner_token,
            json!({ "first": 3, "after": after }),
        )
        .await;
        assert_eq!(p.total, 9);
        seen.extend(p.ids.iter().cloned());
        after = p.cursors.last().cloned();
        if !p.has_next {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    let expected: Vec<String> = originals.iter().chain(&inserted).cloned().collect();
    assert_eq!(seen, expected, "nothing skipped, new ones at the end");

    // Backwards: the last page, then inserts (at the end, after the cursor), then the rest.
    let last = page(&app, &t.host, &t.owner_token, json!({ "last": 3 })).await;
    let mut seen = last.ids.clone();
    for i in 2..4 {
        create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("New{i}") }),
        )
        .await;
    }
    let mut before = last.cursors.first().cloned();
    loop {
        let p = page(
            &app,
            &t.host,
            &t.owner_token,
            json!({ "last": 3, "before": before }),
        )
        .await;
        let mut batch = p.ids.clone();
        batch.extend(seen);
        seen = batch;
        before = p.cursors.first().cloned();
        if !p.has_previous {
            break;
        }
    }
    assert_eq!(
        seen, expected,
        "the list as it was when paging started, once each"
    );
}

#[tokio::test]
async fn name_order_sorts_ascending_and_descending_and_paginates() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    // Created out of order, with two contacts of the same name.
    let people = [
        ("Dora", "Davis"),
        ("Adam", "Adams"),
        ("Chris", "Clark"),
        ("Gina", "Green"),
        ("Bea", "baker"),
        ("Chris", "Clark"),
        ("Eli", "Evans"),
        ("Abe", "Davis"),
    ];
    let mut created = Vec::new();
    for (first, last) in people {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": first, "lastName": last }),
        )
        .await;
        created.push(id_of(&c));
    }
    // What a list shows of each contact: its "Last, First" name, case-insensitive.
    let name_of = |id: &String| -> String {
        let i = created.iter().position(|c| c == id).expect("a known id");
        format!("{}, {}", people[i].1, people[i].0).to_lowercase()
    };
    let names = |ids: &[String]| -> Vec<String> { ids.iter().map(name_of).collect() };
    let ascending: Vec<String> = [
        "adams, adam",
        "baker, bea",
        "clark, chris",
        "clark, chris",
        "davis, abe",
        "davis, dora",
        "evans, eli",
        "green, gina",
    ]
    .map(str::to_owned)
    .to_vec();
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();

    let asc = json!({ "field": "NAME", "direction": "ASC" });
    let desc = json!({ "field": "NAME", "direction": "DESC" });
    let all_asc = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 100, "orderBy": asc.clone() }),
    )
    .await;
    assert_eq!(names(&all_asc.ids), ascending, "last name, then first name");
    let all_desc = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 100, "orderBy": desc.clone() }),
    )
    .await;
    assert_eq!(names(&all_desc.ids), descending);
    let mut desc_set = all_desc.ids.clone();
    desc_set.sort();
    let mut all_ids = created.clone();
    all_ids.sort();
    assert_eq!(desc_set, all_ids, "every contact once");

    for size in [1, 2, 3] {
        let (ids, _) = pages_forward(&app, &t, size, asc.clone()).await;
        assert_eq!(ids.concat(), all_asc.ids, "NAME ASC forward, size {size}");
        let (ids, _) = pages_backward(&app, &t, size, asc.clone()).await;
        assert_eq!(
            ids.into_iter().rev().collect::<Vec<_>>().concat(),
            all_asc.ids,
            "NAME ASC backward, size {size}"
        );
        let (ids, _) = pages_forward(&app, &t, size, desc.clone()).await;
        assert_eq!(ids.concat(), all_desc.ids, "NAME DESC forward, size {size}");
        let (ids, _) = pages_backward(&app, &t, size, desc.clone()).await;
        assert_eq!(
            ids.into_iter().rev().collect::<Vec<_>>().concat(),
            all_desc.ids,
            "NAME DESC backward, size {size}"
        );
    }

    // Inserts before and after the cursor while paging by name.
    let first = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 3, "orderBy": asc.clone() }),
    )
    .await;
    assert_eq!(first.ids, all_asc.ids[0..3].to_vec());
    let mut after_cursor = Vec::new();
    for (first_name, last_name, later) in [
        ("Aaron", "Aardvark", false),
        ("Cat", "Carter", false),
        ("Dirk", "Dixon", true),
        ("Yuri", "Young", true),
    ] {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": first_name, "lastName": last_name }),
        )
        .await;
        if later {
            after_cursor.push(id_of(&c));
        }
    }
    let mut seen = first.ids.clone();
    let mut after = first.cursors.last().cloned();
    loop {
        let p = page(
            &app,
            &t.host,
            &t.owner_token,
            json!({ "first": 3, "after": after, "orderBy": asc.clone() }),
        )
        .await;
        seen.extend(p.ids.iter().cloned());
        after = p.cursors.last().cloned();
        if !p.has_next {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    for id in &all_asc.ids {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "original {id} seen once"
        );
    }
    for id in &after_cursor {
        assert!(seen.contains(id), "a contact inserted after the cursor");
    }
    let originals_in_order: Vec<String> = seen
        .iter()
        .filter(|s| all_asc.ids.contains(s))
        .cloned()
        .collect();
    assert_eq!(originals_in_order, all_asc.ids);

    // A cursor of one ordering used with another: refused as bad input or a valid page,
    // never an internal error.
    let name_cursor = first.cursors[1].clone();
    let created_cursor = page(&app, &t.host, &t.owner_token, json!({ "first": 2 }))
        .await
        .cursors[1]
        .clone();
    for (case, variables) in [
        (
            "NAME cursor with CREATED_AT",
            json!({ "first": 3, "after": name_cursor,
                    "orderBy": { "field": "CREATED_AT", "direction": "ASC" } }),
        ),
        (
            "NAME cursor with the default order",
            json!({ "last": 3, "before": name_cursor }),
        ),
        (
            "CREATED_AT cursor with NAME",
            json!({ "first": 3, "after": created_cursor, "orderBy": asc.clone() }),
        ),
        (
            "CREATED_AT cursor with UPDATED_AT",
            json!({ "first": 3, "after": created_cursor,
                    "orderBy": { "field": "UPDATED_AT", "direction": "DESC" } }),
        ),
    ] {
        let reply = app
            .gql(&t.host, Some(&t.owner_token), PAGE, variables)
            .await;
        match reply.code() {
            None => {
                let p = page_of(&reply);
                assert!(p.ids.len() <= 3, "{case}");
            }
            Some(code) => assert_eq!(code, "BAD_USER_INPUT", "{case}: {:#}", reply.body),
        }
    }
}

#[tokio::test]
async fn companies_are_created_listed_updated_and_deleted_keeping_their_contacts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let owner = t.owner_token.clone();
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;

    let acme = create_company(
        &app,
        &t.host,
        &sales,
        json!({
            "name": "Acme Corp", "domain": "acme.example", "industry": "Software",
            "size": "MEDIUM", "address": { "city": "Lisbon", "country": "PT" },
        }),
    )
    .await;
    assert_eq!(acme["name"], "Acme Corp");
    assert_eq!(acme["domain"], "acme.example");
    assert_eq!(acme["industry"], "Software");
    assert_eq!(acme["size"], "MEDIUM");
    assert_eq!(
        acme["address"],
        json!({ "city": "Lisbon", "country": "PT" })
    );
    assert_eq!(acme["owner"]["id"], json!(sales_id), "owner is the caller");
    let acme_id = id_of(&acme);
    create_company(&app, &t.host, &owner, json!({ "name": "Beta Industries" })).await;
    let labs = create_company(&app, &t.host, &owner, json!({ "name": "acme Labs" })).await;

    // The list, by name, and searched.
    let list = "query($filter: CompanyFilterInput, $first: Int, $after: String) {
        companies(filter: $filter, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage } edges { cursor node { id name } } } }";
    let names = |reply: &Reply| -> Vec<String> {
        reply
            .ok()
            .data("companies.edges")
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| text(&e["node"]["name"]))
            .collect()
    };
    let all = app.gql(&t.host, Some(&owner), list, json!({})).await;
    assert_eq!(names(&all), ["Acme Corp", "acme Labs", "Beta Industries"]);
    assert_eq!(all.data("companies.totalCount"), &json!(3));
    let searched = app
        .gql(
            &t.host,
            Some(&sales),
            list,
            json!({ "filter": { "search": "ACME" } }),
        )
        .await;
    assert_eq!(names(&searched), ["Acme Corp", "acme Labs"]);
    assert_eq!(searched.data("companies.totalCount"), &json!(2));
    let part = app
        .gql(
            &t.host,
            Some(&owner),
            list,
            json!({ "filter": { "search": "dust" } }),
        )
        .await;
    assert_eq!(names(&part), ["Beta Industries"]);
    let none = app
        .gql(
            &t.host,
            Some(&owner),
            list,
            json!({ "filter": { "search": "zzz" } }),
        )
        .await;
    assert_eq!(names(&none), Vec::<String>::new());
    assert_eq!(none.data("companies.totalCount"), &json!(0));
    let first_page = app
        .gql(&t.host, Some(&owner), list, json!({ "first": 2 }))
        .await;
    assert_eq!(names(&first_page), ["Acme Corp", "acme Labs"]);
    assert_eq!(
        first_page.data("companies.pageInfo.hasNextPage"),
        &json!(true)
    );
    let cursor = first_page.data("companies.edges")[1]["cursor"].clone();
    let second_page = app
        .gql(
            &t.host,
            Some(&owner),
            list,
            json!({ "first": 2, "after": cursor }),
        )
        .await;
    assert_eq!(names(&second_page), ["Beta Industries"]);

    // Contacts and an opportunity of the company.
    let ann = create_contact(
        &app,
        &t,
        &sales,
        json!({ "firstName": "Ann", "companyId": acme_id }),
    )
    .await;
    let bob = create_contact(
        &app,
        &t,
        &sales,
        json!({ "firstName": "Bob", "companyId": acme_id }),
    )
    .await;
    let elsewhere = create_contact(
        &app,
        &t,
        &sales,
        json!({ "firstName": "Cy", "companyId": id_of(&labs) }),
    )
    .await;
    let deal = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id company { id } } }",
            json!({ "input": {
                "title": "Acme renewal", "companyId": acme_id,
                "value": { "amount": "1000.00", "currency": "USD" },
            } }),
        )
        .await;
    let deal_id = deal.ok().str("createOpportunity.id");
    assert_eq!(deal.data("createOpportunity.company.id"), &json!(acme_id));
    let company_query = "query($id: ID!) { company(id: $id) {
        id name domain industry size address { city country } owner { id }
        contacts { id } opportunities { id } } }";
    let read = app
        .gql(
            &t.host,
            Some(&owner),
            company_query,
            json!({ "id": acme_id }),
        )
        .await;
    read.ok();
    assert_eq!(
        read.data("company.contacts"),
        &json!([{ "id": id_of(&ann) }, { "id": id_of(&bob) }])
    );
    assert_eq!(
        read.data("company.opportunities"),
        &json!([{ "id": deal_id }])
    );

    // A partial update: name changed, industry cleared, the rest kept.
    let updated = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($id: ID!, $input: UpdateCompanyInput!) { updateCompany(id: $id, input: $input) { id name } }",
            json!({ "id": acme_id, "input": { "name": "Acme Corporation", "industry": null } }),
        )
        .await;
    assert_eq!(updated.ok().str("updateCompany.name"), "Acme Corporation");
    let read = app
        .gql(
            &t.host,
            Some(&owner),
            company_query,
            json!({ "id": acme_id }),
        )
        .await;
    read.ok();
    assert_eq!(read.str("company.name"), "Acme Corporation");
    assert!(read.body["data"]["company"]["industry"].is_null());
    assert_eq!(read.str("company.domain"), "acme.example");
    assert_eq!(read.str("company.size"), "MEDIUM");
    assert_eq!(read.data("company.address.city"), "Lisbon");
    let contact_company = read_contact(&app, &t.host, &owner, &id_of(&ann)).await;
    assert_eq!(contact_company["company"]["name"], "Acme Corporation");
    let bad_name = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($id: ID!, $input: UpdateCompanyInput!) { updateCompany(id: $id, input: $input) { id } }",
            json!({ "id": acme_id, "input": { "name": "  " } }),
        )
        .await;
    assert_bad_input(&bad_name, "name", "empty company name");
    let bad_create = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($input: CreateCompanyInput!) { createCompany(input: $input) { id } }",
            json!({ "input": { "name": "" } }),
        )
        .await;
    assert_bad_input(&bad_create, "name", "empty company name on create");

    // Deleting needs a manager; the contacts and the opportunity stay, without a company.
    let delete = "mutation($id: ID!) { deleteCompany(id: $id) }";
    let refused = app
        .gql(&t.host, Some(&sales), delete, json!({ "id": acme_id }))
        .await;
    assert_code(&refused, "FORBIDDEN", "sales deleting a company");
    let deleted = app
        .gql(&t.host, Some(&manager), delete, json!({ "id": acme_id }))
        .await;
    assert_eq!(deleted.ok().str("deleteCompany"), acme_id);
    let gone = app
        .gql(
            &t.host,
            Some(&owner),
            company_query,
            json!({ "id": acme_id }),
        )
        .await;
    assert_code(&gone, "NOT_FOUND", "deleted company");
    let again = app
        .gql(&t.host, Some(&manager), delete, json!({ "id": acme_id }))
        .await;
    assert_code(&again, "NOT_FOUND", "deleting a company twice");
    for contact in [&ann, &bob] {
        let read = read_contact(&app, &t.host, &owner, &id_of(contact)).await;
        assert!(read["company"].is_null(), "{read:#}");
        assert_eq!(read["firstName"], contact["firstName"]);
    }
    let still_linked = read_contact(&app, &t.host, &owner, &id_of(&elsewhere)).await;
    assert_eq!(still_linked["company"]["id"], labs["id"]);
    assert_eq!(contact_count(&app, &t.host, &owner).await, 3);
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "companyId": acme_id })).await,
        Vec::<String>::new()
    );
    let deal = app
        .gql(
            &t.host,
            Some(&owner),
            "query($id: ID!) { opportunity(id: $id) { id company { id } } }",
            json!({ "id": deal_id }),
        )
        .await;
    deal.ok();
    assert!(deal.body["data"]["opportunity"]["company"].is_null());
    let all = app.gql(&t.host, Some(&owner), list, json!({})).await;
    assert_eq!(names(&all), ["acme Labs", "Beta Industries"]);
}

#[tokio::test]
async fn roles_decide_who_may_create_update_and_delete() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let owner = t.owner_token.clone();
    let target = create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Target", "lastName": "Person" }),
    )
    .await;
    let target_id = id_of(&target);
    let create_company_query =
        "mutation($input: CreateCompanyInput!) { createCompany(input: $input) { id } }";
    let delete_company_query = "mutation($id: ID!) { deleteCompany(id: $id) }";

    // Anonymous callers are unauthenticated, for reads and writes.
    for (case, query, variables) in [
        ("contacts", "{ contacts { totalCount } }", json!({})),
        (
            "contact",
            "query($id: ID!) { contact(id: $id) { id } }",
            json!({ "id": target_id }),
        ),
        ("companies", "{ companies { totalCount } }", json!({})),
        (
            "createContact",
            "mutation($input: CreateContactInput!) { createContact(input: $input) { id } }",
            json!({ "input": { "firstName": "Anon" } }),
        ),
        (
            "deleteContact",
            "mutation($id: ID!) { deleteContact(id: $id) }",
            json!({ "id": target_id }),
        ),
    ] {
        let reply = app.gql(&t.host, None, query, variables).await;
        assert_code(&reply, "UNAUTHENTICATED", case);
    }

    for role in ["VIEWER", "SUPPORT", "SALES", "MANAGER", "ADMIN"] {
        let (_, token) = app.add_user(&t, role).await;
        let writes = role != "VIEWER";
        let deletes = matches!(role, "MANAGER" | "ADMIN");

        // Everyone signed in reads.
        let count = contact_count(&app, &t.host, &token).await;
        read_contact(&app, &t.host, &token, &target_id).await;
        app.gql(
            &t.host,
            Some(&token),
            "{ companies { totalCount } }",
            json!({}),
        )
        .await
        .ok();

        let created = try_create_contact(
            &app,
            &t.host,
            &token,
            json!({ "firstName": format!("By{role}") }),
        )
        .await;
        let updated = update_contact(
            &app,
            &t.host,
            &token,
            &target_id,
            json!({ "lastName": format!("Edited by {role}") }),
        )
        .await;
        let company = app
            .gql(
                &t.host,
                Some(&token),
                create_company_query,
                json!({ "input": { "name": format!("{role} Co") } }),
            )
            .await;
        if writes {
            created.ok();
            updated.ok();
            company.ok();
            assert_eq!(
                contact_count(&app, &t.host, &owner).await,
                count + 1,
                "{role}"
            );
            let read = read_contact(&app, &t.host, &owner, &target_id).await;
            assert_eq!(read["lastName"], json!(format!("Edited by {role}")));
        } else {
            assert_code(&created, "FORBIDDEN", &format!("{role} createContact"));
            assert_code(&updated, "FORBIDDEN", &format!("{role} updateContact"));
            assert_code(&company, "FORBIDDEN", &format!("{role} createCompany"));
            assert_eq!(contact_count(&app, &t.host, &owner).await, count, "{role}");
            let read = read_contact(&app, &t.host, &owner, &target_id).await;
            assert_eq!(read["lastName"], "Person", "{role} changed nothing");
        }

        // Deleting: a victim contact and company made by the owner for each role.
        let victim = create_contact(
            &app,
            &t,
            &owner,
            json!({ "firstName": format!("Victim of {role}") }),
        )
        .await;
        let victim_company = create_company(
            &app,
            &t.host,
            &owner,
            json!({ "name": format!("Victim Co of {role}") }),
        )
        .await;
        let deleted = delete_contact(&app, &t.host, &token, &id_of(&victim)).await;
        let deleted_company = app
            .gql(
                &t.host,
                Some(&token),
                delete_company_query,
                json!({ "id": id_of(&victim_company) }),
            )
            .await;
        let still_there = get_contact(&app, &t.host, &owner, &id_of(&victim)).await;
        if deletes {
            assert_eq!(deleted.ok().str("deleteContact"), id_of(&victim));
            deleted_company.ok();
            assert_code(&still_there, "NOT_FOUND", &format!("deleted by {role}"));
        } else {
            assert_code(&deleted, "FORBIDDEN", &format!("{role} deleteContact"));
            assert_code(
                &deleted_company,
                "FORBIDDEN",
                &format!("{role} deleteCompany"),
            );
            still_there.ok();
        }
    }

    // The owner deletes too.
    delete_contact(&app, &t.host, &owner, &target_id).await.ok();
    let gone = get_contact(&app, &t.host, &owner, &target_id).await;
    assert_code(&gone, "NOT_FOUND", "deleted by the owner");
    let twice = delete_contact(&app, &t.host, &owner, &target_id).await;
    assert_code(&twice, "NOT_FOUND", "deleted twice");
}

#[tokio::test]
async fn another_tenant_never_sees_or_changes_a_tenants_contacts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    let (a_token, b_token) = (a.owner_token.clone(), b.owner_token.clone());

    let a_company = create_company(&app, &a.host, &a_token, json!({ "name": "Secretco" })).await;
    let a_company_id = id_of(&a_company);
    let secret = create_contact(
        &app,
        &a,
        &a_token,
        json!({
            "firstName": "Zed", "lastName": "Secret", "email": "zed@secret.example",
            "phone": "+14155552671", "tags": ["classified"], "status": "CUSTOMER",
            "source": "REFERRAL", "companyId": a_company_id,
        }),
    )
    .await;
    let secret_id = id_of(&secret);
    update_contact(
        &app,
        &a.host,
        &a_token,
        &secret_id,
        json!({ "status": "QUALIFIED" }),
    )
    .await
    .ok();
    let a_history = history(&app, &a.host, &a_token, &secret_id).await;
    assert_eq!(actions(&a_history), ["CREATE", "UPDATE"]);
    let a_update_entry = text(&a_history[1]["id"]);
    let a_before = read_contact(&app, &a.host, &a_token, &secret_id).await;

    // B has a contact of its own, and may reuse A's email: uniqueness is per tenant.
    let own = create_contact(
        &app,
        &b,
        &b_token,
        json!({ "firstName": "Bea", "email": "zed@secret.example" }),
    )
    .await;
    let own_id = id_of(&own);

    let a_owner_id = my_id(&app, &a.host, &a_token).await;
    let own_only = vec![own_id.clone()];
    for (case, filter, expected) in [
        ("no filter", json!({}), own_only.clone()),
        // B's own contact has the same email, so it matches these searches.
        (
            "search by last name",
            json!({ "search": "secret" }),
            own_only.clone(),
        ),
        (
            "search by first name",
            json!({ "search": "zed" }),
            own_only.clone(),
        ),
        ("search by phone", json!({ "search": "5552671" }), vec![]),
        ("tag", json!({ "tag": "classified" }), vec![]),
        (
            "status",
            json!({ "status": ["QUALIFIED", "CUSTOMER"] }),
            vec![],
        ),
        ("source", json!({ "source": ["REFERRAL"] }), vec![]),
        ("A's company", json!({ "companyId": a_company_id }), vec![]),
        ("A's owner", json!({ "ownerId": a_owner_id }), vec![]),
    ] {
        let found = matching(&app, &b.host, &b_token, filter).await;
        assert_eq!(found, expected, "{case}");
    }
    let companies = app
        .gql(
            &b.host,
            Some(&b_token),
            "query($s: String) { companies(filter: { search: $s }) { totalCount edges { node { id } } } }",
            json!({ "s": "secret" }),
        )
        .await;
    assert_eq!(companies.ok().data("companies.totalCount"), &json!(0));
    let all_companies = app
        .gql(
            &b.host,
            Some(&b_token),
            "{ companies { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(all_companies.ok().data("companies.totalCount"), &json!(0));

    let read = get_contact(&app, &b.host, &b_token, &secret_id).await;
    assert_code(&read, "NOT_FOUND", "B reading A's contact");
    assert!(
        read.body["data"].is_null() || read.body["data"]["contact"].is_null(),
        "{:#}",
        read.body
    );
    let company = app
        .gql(
            &b.host,
            Some(&b_token),
            "query($id: ID!) { company(id: $id) { id name } }",
            json!({ "id": a_company_id }),
        )
        .await;
    assert_code(&company, "NOT_FOUND", "B reading A's company");
    assert!(
        history(&app, &b.host, &b_token, &secret_id)
            .await
            .is_empty(),
        "B sees none of A's history"
    );
    assert!(
        history(&app, &b.host, &b_token, &a_company_id)
            .await
            .is_empty()
    );

    // Writes with A's ids from B are NOT_FOUND and change nothing in A.
    let update = update_contact(
        &app,
        &b.host,
        &b_token,
        &secret_id,
        json!({ "firstName": "Hacked", "email": "hacked@b.example" }),
    )
    .await;
    assert_code(&update, "NOT_FOUND", "B updating A's contact");
    let delete = delete_contact(&app, &b.host, &b_token, &secret_id).await;
    assert_code(&delete, "NOT_FOUND", "B deleting A's contact");
    let update_company = app
        .gql(
            &b.host,
            Some(&b_token),
            "mutation($id: ID!) { updateCompany(id: $id, input: { name: \"Hacked\" }) { id } }",
            json!({ "id": a_company_id }),
        )
        .await;
    assert_code(&update_company, "NOT_FOUND", "B updating A's company");
    let delete_company = app
        .gql(
            &b.host,
            Some(&b_token),
            "mutation($id: ID!) { deleteCompany(id: $id) }",
            json!({ "id": a_company_id }),
        )
        .await;
    assert_code(&delete_company, "NOT_FOUND", "B deleting A's company");
    let link = try_create_contact(
        &app,
        &b.host,
        &b_token,
        json!({ "firstName": "Linker", "companyId": a_company_id }),
    )
    .await;
    assert_code(&link, "NOT_FOUND", "B linking to A's company");
    let relink = update_contact(
        &app,
        &b.host,
        &b_token,
        &own_id,
        json!({ "companyId": a_company_id }),
    )
    .await;
    assert_code(&relink, "NOT_FOUND", "B moving its contact to A's company");
    let revert = app
        .gql(
            &b.host,
            Some(&b_token),
            "mutation($id: ID!) { revert(auditEntryId: $id) { id } }",
            json!({ "id": a_update_entry }),
        )
        .await;
    assert_code(&revert, "NOT_FOUND", "B reverting A's audit entry");

    let a_after = read_contact(&app, &a.host, &a_token, &secret_id).await;
    assert_eq!(a_after, a_before, "A's contact is unchanged");
    assert_eq!(
        actions(&history(&app, &a.host, &a_token, &secret_id).await),
        ["CREATE", "UPDATE"]
    );
    assert_eq!(
        actions(&history(&app, &a.host, &a_token, &a_company_id).await),
        ["CREATE"]
    );
    let a_company_read = app
        .gql(
            &a.host,
            Some(&a_token),
            "query($id: ID!) { company(id: $id) { name contacts { id } } }",
            json!({ "id": a_company_id }),
        )
        .await;
    a_company_read.ok();
    assert_eq!(a_company_read.str("company.name"), "Secretco");
    assert_eq!(
        a_company_read.data("company.contacts"),
        &json!([{ "id": secret_id }])
    );
    assert_eq!(contact_count(&app, &a.host, &a_token).await, 1);
    assert_eq!(contact_count(&app, &b.host, &b_token).await, 1);
}

#[tokio::test]
async fn history_records_changes_and_revert_restores_them() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let owner = t.owner_token.clone();
    let owner_id = my_id(&app, &t.host, &owner).await;
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let created = create_contact(
        &app,
        &t,
        &owner,
        json!({
            "firstName": "Eve", "lastName": "Adams", "email": "eve@example.com",
            "phone": "+14155552671", "tags": ["alpha"], "customFields": { "k": 1 },
        }),
    )
    .await;
    let id = id_of(&created);

    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE"]);
    let create_entry = &entries[0];
    assert_eq!(create_entry["actor"]["id"], json!(owner_id));
    let first_name = change(create_entry, "firstName").expect("firstName recorded on create");
    assert!(first_name["before"].is_null());
    assert_eq!(first_name["after"], "Eve");
    assert_eq!(
        change(create_entry, "email").expect("email recorded")["after"],
        "eve@example.com"
    );

    let updated = update_contact(
        &app,
        &t.host,
        &sales,
        &id,
        json!({
            "lastName": "Baker", "email": "eve.baker@example.com", "status": "QUALIFIED",
            "tags": ["beta"],
        }),
    )
    .await;
    updated.ok();
    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE", "UPDATE"]);
    let update_entry = entries[1].clone();
    assert_eq!(update_entry["actor"]["id"], json!(sales_id));
    let last_name = change(&update_entry, "lastName").expect("lastName change");
    assert_eq!(
        (&last_name["before"], &last_name["after"]),
        (&json!("Adams"), &json!("Baker"))
    );
    let email = change(&update_entry, "email").expect("email change");
    assert_eq!(
        (&email["before"], &email["after"]),
        (&json!("eve@example.com"), &json!("eve.baker@example.com"))
    );
    assert!(change(&update_entry, "status").is_some(), "status change");
    assert!(change(&update_entry, "tags").is_some(), "tags change");
    for unchanged in ["firstName", "phone", "customFields", "source"] {
        assert!(
            change(&update_entry, unchanged).is_none(),
            "{unchanged} did not change: {update_entry:#}"
        );
    }

    // Reverting the update restores the earlier values and is itself recorded.
    let revert = "mutation($id: ID!) { revert(auditEntryId: $id) {
        id action revertOf entityId changes { field before after } actor { id } } }";
    let reverted = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": update_entry["id"] }),
        )
        .await;
    reverted.ok();
    assert_eq!(reverted.str("revert.action"), "REVERT");
    assert_eq!(reverted.data("revert.revertOf"), &update_entry["id"]);
    assert_eq!(reverted.str("revert.entityId"), id);
    let read = read_contact(&app, &t.host, &owner, &id).await;
    assert_eq!(read["lastName"], "Adams");
    assert_eq!(read["email"], "eve@example.com");
    assert_eq!(read["status"], "NEW");
    assert_eq!(read["tags"], json!(["alpha"]));
    assert_eq!(read["firstName"], "Eve");
    assert_eq!(read["phone"], "+14155552671");
    assert_eq!(read["customFields"], json!({ "k": 1 }));
    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE", "UPDATE", "REVERT"]);
    let revert_entry = &entries[2];
    assert_eq!(revert_entry["revertOf"], update_entry["id"]);
    assert_eq!(revert_entry["actor"]["id"], json!(owner_id));
    let last_name = change(revert_entry, "lastName").expect("lastName restored");
    assert_eq!(
        (&last_name["before"], &last_name["after"]),
        (&json!("Baker"), &json!("Adams"))
    );
    // The email freed by the revert can be taken by another contact, and the restored one
    // is still unique.
    create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Other", "email": "eve.baker@example.com" }),
    )
    .await;
    let taken = try_create_contact(
        &app,
        &t.host,
        &owner,
        json!({ "firstName": "Other", "email": "eve@example.com" }),
    )
    .await;
    assert_bad_input(&taken, "email", "the restored email is taken");

    // A create cannot be reverted; nothing changes.
    let refused = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": create_entry["id"] }),
        )
        .await;
    assert_bad_input(&refused, "auditEntryId", "reverting a CREATE");
    let unknown = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_code(&unknown, "NOT_FOUND", "reverting an unknown entry");
    let malformed = app
        .gql(&t.host, Some(&owner), revert, json!({ "id": "42" }))
        .await;
    assert_bad_input(&malformed, "auditEntryId", "reverting a malformed id");
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let by_viewer = app
        .gql(
            &t.host,
            Some(&viewer),
            revert,
            json!({ "id": update_entry["id"] }),
        )
        .await;
    assert_code(&by_viewer, "FORBIDDEN", "a viewer reverting");
    assert_eq!(read_contact(&app, &t.host, &owner, &id).await, read);
    assert_eq!(
        actions(&history(&app, &t.host, &owner, &id).await),
        ["CREATE", "UPDATE", "REVERT"]
    );

    // Deleting is recorded too, and cannot be reverted.
    delete_contact(&app, &t.host, &owner, &id).await.ok();
    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE", "UPDATE", "REVERT", "DELETE"]);
    let delete_entry = &entries[3];
    assert_eq!(
        change(delete_entry, "lastName").expect("lastName on delete")["before"],
        "Adams"
    );
    let refused = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": delete_entry["id"] }),
        )
        .await;
    assert_bad_input(&refused, "auditEntryId", "reverting a DELETE");
    let gone = get_contact(&app, &t.host, &owner, &id).await;
    assert_code(
        &gone,
        "NOT_FOUND",
        "a reverted delete would have restored it",
    );
    // The deleted contact's email is free again.
    create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Eve", "email": "EVE@example.com" }),
    )
    .await;
}
