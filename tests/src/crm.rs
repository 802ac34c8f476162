//! One way for every suite to make CRM data: through the API, as a frontend would.

use serde_json::{Value, json};

use crate::{Reply, TestApp, TestTenant};

/// `createContact` with `input` as `token`'s user, selecting `selection`: accepted or not.
pub async fn try_create_contact(
    app: &TestApp,
    host: &str,
    token: &str,
    input: Value,
    selection: &str,
) -> Reply {
    app.gql(
        host,
        Some(token),
        &format!(
            "mutation($input: CreateContactInput!) {{ createContact(input: $input) {{ {selection} }} }}"
        ),
        json!({ "input": input }),
    )
    .await
}

/// A contact that must be accepted, created by the tenant's owner; its id.
pub async fn create_contact(app: &TestApp, t: &TestTenant, input: Value) -> String {
    try_create_contact(app, &t.host, &t.owner_token, input, "id")
        .await
        .ok()
        .str("createContact.id")
}

/// A company that must be accepted, created as `token`'s user; `createCompany` with
/// `selection`.
pub async fn create_company(
    app: &TestApp,
    host: &str,
    token: &str,
    input: Value,
    selection: &str,
) -> Value {
    app.gql(
        host,
        Some(token),
        &format!(
            "mutation($input: CreateCompanyInput!) {{ createCompany(input: $input) {{ {selection} }} }}"
        ),
        json!({ "input": input }),
    )
    .await
    .ok()
    .data("createCompany")
    .clone()
}

/// An opportunity that must be accepted, created by the tenant's owner; its id.
pub async fn create_opportunity(app: &TestApp, t: &TestTenant, input: Value) -> String {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await
    .ok()
    .str("createOpportunity.id")
}

/// A pipeline of `stages` stages ("Step 0", ... with rising probabilities), created by the
/// tenant's owner; its id and its stages' ids in order.
pub async fn create_pipeline(
    app: &TestApp,
    t: &TestTenant,
    stages: usize,
) -> (String, Vec<String>) {
    let stage_inputs: Vec<Value> = (0..stages)
        .map(|i| json!({"name": format!("Step {i}"), "probability": (i * 100 / stages.max(1)) as i64}))
        .collect();
    let pipeline = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($name: String!, $stages: [StageInput!]!) { createPipeline(name: $name, stages: $stages) { id stages { id } } }",
            json!({"name": format!("{stages} steps"), "stages": stage_inputs}),
        )
        .await
        .ok()
        .data("createPipeline")
        .clone();
    let ids = pipeline["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    (pipeline["id"].as_str().unwrap_or_default().to_owned(), ids)
}
