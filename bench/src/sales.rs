//! Sales workloads: `quote` (a 20-line quote from the catalog created and sent) and `issue`
//! (invoices issued on one series from 8 clients at once, then their numbers checked for
//! gaps).

use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value, json};

use crate::{
    fixtures::{Client, MainTenant},
    load::Request,
};

/// Lines per quote in the `quote` workload.
pub const QUOTE_LINES: usize = 20;

/// A tax rate and 20 products in the main tenant's catalog; the products' ids.
pub async fn catalog(client: &Client, main: &MainTenant) -> anyhow::Result<Vec<String>> {
    let tenant = &main.tenant;
    let post = |query: &'static str, variables: Value| {
        client.post(&tenant.host, Some(&tenant.token), query, variables)
    };
    let rate = post(
        "mutation { createTaxRate(input: {name: \"Bench VAT\", percentage: \"21\"}) { id } }",
        json!({}),
    )
    .await
    .context("creating the bench tax rate")?;
    let rate = rate["data"]["createTaxRate"]["id"].clone();
    let mut products = Vec::with_capacity(QUOTE_LINES);
    for i in 0..QUOTE_LINES {
        let created = post(
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
            json!({"input": {"sku": format!("BENCH-{i}"), "name": format!("Bench product {i}"),
                             "unitPrice": format!("{}.{:02}", 10 + i * 7, i * 3 % 100),
                             "currency": "EUR", "taxRateId": rate}}),
        )
        .await
        .context("creating a bench product")?;
        let id = created["data"]["createProduct"]["id"]
            .as_str()
            .context("a product id")?;
        products.push(id.to_owned());
    }
    Ok(products)
}

const CREATE_QUOTE: &str =
    "mutation($input: CreateQuoteInput!) { createQuote(input: $input) { id } }";
const SEND_QUOTE: &str = "mutation($id: ID!) { sendQuote(id: $id) { publicPath quote { number totals { total { amount } } } } }";
const CREATE_INVOICE: &str =
    "mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }";
const ISSUE_INVOICE: &str = "mutation($id: ID!) { issueInvoice(id: $id) { number } }";

/// One `quote`: createQuote with 20 catalog lines for one of the tenant's contacts, then
/// sendQuote (two HTTP requests).
pub fn quote(client: &Arc<Client>, main: &Arc<MainTenant>, products: Arc<Vec<String>>) -> Request {
    let (client, main) = (client.clone(), main.clone());
    Arc::new(move |n| {
        let (client, main, products) = (client.clone(), main.clone(), products.clone());
        Box::pin(async move {
            let tenant = &main.tenant;
            let contact = &main.contact_ids[crate::pick(n, main.contact_ids.len())];
            let lines: Vec<Value> = products
                .iter()
                .enumerate()
                .map(|(i, id)| json!({"productId": id, "quantity": format!("{}", (n % 5) as usize + i % 5 + 1)}))
                .collect();
            let created = client
                .post(
                    &tenant.host,
                    Some(&tenant.token),
                    CREATE_QUOTE,
                    json!({"input": {"contactId": contact, "currency": "EUR", "lines": lines,
                                     "discount": {"percent": "5"}}}),
                )
                .await?;
            let id = created["data"]["createQuote"]["id"].clone();
            client
                .post(
                    &tenant.host,
                    Some(&tenant.token),
                    SEND_QUOTE,
                    json!({"id": id}),
                )
                .await?;
            Ok(())
        })
    })
}

/// One `issue`: createInvoice (one line) then issueInvoice on the default series (two HTTP
/// requests); every client contends for the series' next number.
pub fn issue(client: &Arc<Client>, main: &Arc<MainTenant>) -> Request {
    let (client, main) = (client.clone(), main.clone());
    Arc::new(move |n| {
        let (client, main) = (client.clone(), main.clone());
        Box::pin(async move {
            let tenant = &main.tenant;
            let contact = &main.contact_ids[crate::pick(n, main.contact_ids.len())];
            let created = client
                .post(
                    &tenant.host,
                    Some(&tenant.token),
                    CREATE_INVOICE,
                    json!({"input": {"contactId": contact, "currency": "EUR",
                                     "lines": [{"description": "Bench service", "quantity": "3", "unitPrice": "49.90"}]}}),
                )
                .await?;
            let id = created["data"]["createInvoice"]["id"].clone();
            client
                .post(
                    &tenant.host,
                    Some(&tenant.token),
                    ISSUE_INVOICE,
                    json!({"id": id}),
                )
                .await?;
            Ok(())
        })
    })
}
