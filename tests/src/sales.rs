//! One way for every suite to make sales data: through the API, as a frontend would.

use serde_json::{Value, json};

use crate::{TestApp, TestTenant};

/// What the suites read of a quote.
pub const QUOTE: &str = "id number revision status availableActions currency pricesIncludeTax \
    validUntil expiresAt sentAt decidedAt notes terms
    contact { id } company { id } opportunity { id status value { amount currency } }
    discount { percent amount }
    totals { subtotal { amount currency } discount { amount } taxExclusive { amount }
             tax { amount } total { amount currency }
             taxes { tax { name kind percentage taxRateId } base { amount } amount { amount } } }
    lines { id position sku description unit quantity unitPrice { amount currency }
            discount { percent amount } net { amount } documentDiscount { amount }
            parts { amount { amount } tax { name percentage } componentSku componentName
                    componentQuantity } }
    decision { accepted name reason termsHash revision total { amount } viaLink }
    previousRevision { id status }";

/// A tax rate that must be accepted, created by the tenant's owner; its id.
pub async fn create_tax_rate(
    app: &TestApp,
    t: &TestTenant,
    name: &str,
    percentage: &str,
) -> String {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($input: CreateTaxRateInput!) { createTaxRate(input: $input) { id } }",
        json!({"input": {"name": name, "percentage": percentage}}),
    )
    .await
    .ok()
    .str("createTaxRate.id")
}

/// A product that must be accepted, created by the tenant's owner; its id.
pub async fn create_product(app: &TestApp, t: &TestTenant, input: Value) -> String {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await
    .ok()
    .str("createProduct.id")
}

/// A draft quote that must be accepted, created as `token`'s user; `createQuote` with
/// [`QUOTE`].
pub async fn create_quote(app: &TestApp, t: &TestTenant, token: &str, input: Value) -> Value {
    app.gql(
        &t.host,
        Some(token),
        &format!(
            "mutation($input: CreateQuoteInput!) {{ createQuote(input: $input) {{ {QUOTE} }} }}"
        ),
        json!({ "input": input }),
    )
    .await
    .ok()
    .data("createQuote")
    .clone()
}

/// Sends a quote, which must be accepted; the sent quote and its public path.
pub async fn send_quote(app: &TestApp, t: &TestTenant, id: &str) -> (Value, String) {
    let reply = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            &format!(
                "mutation($id: ID!) {{ sendQuote(id: $id) {{ publicPath quote {{ {QUOTE} }} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    reply.ok();
    (
        reply.data("sendQuote.quote").clone(),
        reply.str("sendQuote.publicPath"),
    )
}
