//! Sales: settings, tax rates and number series, the catalog, and quotes through their
//! whole life, with role checks, tenant isolation and bad input, all through GraphQL.

mod catalog;
mod invoices;
mod public_link;
mod quotes;
mod reports;
mod settings;
mod transitions;

use serde_json::{Value, json};
use tests::{
    Reply, TestApp, TestTenant, crm,
    sales::{QUOTE, create_product, create_quote, create_tax_rate, send_quote},
    spawn_app,
};

/// A quote action through its mutation, as `token`'s user, selecting [`QUOTE`] where the
/// mutation returns the quote.
async fn act(app: &TestApp, t: &TestTenant, token: &str, action: &str, id: &str) -> Reply {
    let (query, variables) = match action {
        "EDIT" => (
            format!(
                "mutation($id: ID!) {{ updateQuote(id: $id, input: {{notes: \"edited\"}}) {{ {QUOTE} }} }}"
            ),
            json!({"id": id}),
        ),
        "DELETE" => (
            "mutation($id: ID!) { deleteQuote(id: $id) }".to_owned(),
            json!({"id": id}),
        ),
        "SEND" => (
            format!(
                "mutation($id: ID!) {{ sendQuote(id: $id) {{ publicPath quote {{ {QUOTE} }} }} }}"
            ),
            json!({"id": id}),
        ),
        "REVISE" => (
            format!("mutation($id: ID!) {{ reviseQuote(id: $id) {{ {QUOTE} }} }}"),
            json!({"id": id}),
        ),
        "ACCEPT" => (
            format!(
                "mutation($id: ID!) {{ acceptQuote(id: $id, input: {{name: \"Ana Client\"}}) {{ {QUOTE} }} }}"
            ),
            json!({"id": id}),
        ),
        "REJECT" => (
            format!(
                "mutation($id: ID!) {{ rejectQuote(id: $id, input: {{reason: \"too dear\"}}) {{ {QUOTE} }} }}"
            ),
            json!({"id": id}),
        ),
        "CANCEL" => (
            format!("mutation($id: ID!) {{ cancelQuote(id: $id) {{ {QUOTE} }} }}"),
            json!({"id": id}),
        ),
        other => panic!("no action {other}"),
    };
    app.gql(&t.host, Some(token), &query, variables).await
}

/// The quote as the API reads it now.
async fn read_quote(app: &TestApp, t: &TestTenant, id: &str) -> Value {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        &format!("query($id: ID!) {{ quote(id: $id) {{ {QUOTE} updatedAt }} }}"),
        json!({"id": id}),
    )
    .await
    .ok()
    .data("quote")
    .clone()
}

/// A contact to quote for; its id.
async fn client(app: &TestApp, t: &TestTenant) -> String {
    let email = format!("ana.{}@client.example", uuid::Uuid::new_v4().simple());
    crm::create_contact(
        app,
        t,
        json!({"firstName": "Ana", "lastName": "Client", "email": email}),
    )
    .await
}

/// A draft of one free-text line for a new contact; its id.
async fn simple_draft(app: &TestApp, t: &TestTenant) -> String {
    let contact = client(app, t).await;
    let quote = create_quote(
        app,
        t,
        &t.owner_token,
        json!({"contactId": contact, "currency": "EUR",
               "lines": [{"description": "Consulting", "quantity": "2", "unitPrice": "150.00"}]}),
    )
    .await;
    quote["id"].as_str().expect("id").to_owned()
}

fn amount(value: &Value) -> &str {
    value["amount"]
        .as_str()
        .expect("an amount as a decimal string")
}
