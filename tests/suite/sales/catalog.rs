//! The catalog: products, services and bundles; SKUs unique per tenant; searched and
//! paginated; managed by managers; isolated per tenant.

use super::*;

const PRODUCT: &str = "id kind sku name description unit unitPrice { amount currency } \
    taxRate { id name } active components { product { sku } quantity }";

#[tokio::test]
async fn products_and_bundles_are_kept_searched_and_paginated() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let vat = create_tax_rate(&app, &t, "VAT", "21").await;
    let create = format!(
        "mutation($input: CreateProductInput!) {{ createProduct(input: $input) {{ {PRODUCT} }} }}"
    );

    let laptop = app
        .gql(
            &t.host,
            Some(&manager),
            &create,
            json!({"input": {"sku": "LAP-1", "name": "Laptop", "unit": "unit", "unitPrice": "999.990000",
                             "currency": "eur", "taxRateId": vat, "description": "14 inch"}}),
        )
        .await;
    let laptop = laptop.ok().data("createProduct").clone();
    assert_eq!(
        laptop["unitPrice"],
        json!({"amount": "999.99", "currency": "EUR"})
    );
    assert_eq!(laptop["taxRate"]["name"], "VAT");
    assert_eq!(laptop["kind"], "PRODUCT");
    let setup = create_product(
        &app,
        &t,
        json!({"sku": "SET-1", "name": "Setup", "kind": "SERVICE", "unitPrice": "0.125", "currency": "EUR"}),
    )
    .await;
    let bundle = app
        .gql(
            &t.host,
            Some(&manager),
            &create,
            json!({"input": {"sku": "KIT-1", "name": "Starter kit", "kind": "BUNDLE", "unitPrice": "1000",
                             "currency": "EUR", "components": [
                                 {"productId": laptop["id"], "quantity": "1"},
                                 {"productId": setup, "quantity": "4"}]}}),
        )
        .await;
    let bundle = bundle.ok().data("createProduct").clone();
    assert_eq!(
        bundle["components"],
        json!([{"product": {"sku": "LAP-1"}, "quantity": "1"},
               {"product": {"sku": "SET-1"}, "quantity": "4"}])
    );

    // Refusals, each changing nothing.
    for (input, code) in [
        (
            json!({"sku": "lap-1", "name": "Dup", "unitPrice": "1"}),
            "CONFLICT",
        ),
        (
            json!({"sku": "HAS SPACE", "name": "X", "unitPrice": "1"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"sku": "NEG", "name": "X", "unitPrice": "-1"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"sku": "FINE", "name": "X", "unitPrice": "1.1234567"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"sku": "CUR", "name": "X", "unitPrice": "1", "currency": "EURO"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"sku": "CMP", "name": "X", "unitPrice": "1", "components": [{"productId": setup}]}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"sku": "EMPTY", "name": "X", "kind": "BUNDLE", "unitPrice": "1"}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"sku": "NEST", "name": "X", "kind": "BUNDLE", "unitPrice": "1",
                "components": [{"productId": bundle["id"]}]}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"sku": "TWICE", "name": "X", "kind": "BUNDLE", "unitPrice": "1",
                "components": [{"productId": setup}, {"productId": setup}]}),
            "BAD_USER_INPUT",
        ),
    ] {
        let refused = app
            .gql(&t.host, Some(&manager), &create, json!({"input": input}))
            .await;
        assert_eq!(refused.error_code(), code, "{input}");
    }
    let refused = app
        .gql(
            &t.host,
            Some(&sales),
            &create,
            json!({"input": {"sku": "S", "name": "S", "unitPrice": "1"}}),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");

    // Searched by SKU or name, paginated by name.
    let list = "query($filter: ProductFilterInput, $first: Int, $after: String) {
        products(filter: $filter, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { sku } } } }";
    let skus = |reply: &Reply, path: &str| -> Vec<String> {
        reply
            .ok()
            .data(path)
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["sku"].as_str().expect("sku").to_owned())
            .collect()
    };
    let first = app
        .gql(&t.host, Some(&sales), list, json!({"first": 2}))
        .await;
    assert_eq!(skus(&first, "products.edges"), ["LAP-1", "SET-1"]);
    assert_eq!(first.data("products.totalCount"), 3);
    let next = app
        .gql(
            &t.host,
            Some(&sales),
            list,
            json!({"first": 2, "after": first.data("products.pageInfo.endCursor")}),
        )
        .await;
    assert_eq!(skus(&next, "products.edges"), ["KIT-1"]);
    let searched = app
        .gql(
            &t.host,
            Some(&sales),
            list,
            json!({"filter": {"search": "kit"}}),
        )
        .await;
    assert_eq!(skus(&searched, "products.edges"), ["KIT-1"]);
    let by_sku = app
        .gql(
            &t.host,
            Some(&sales),
            list,
            json!({"filter": {"search": "set-", "kind": "SERVICE"}}),
        )
        .await;
    assert_eq!(skus(&by_sku, "products.edges"), ["SET-1"]);

    // A component cannot be deleted while a bundle holds it; the bundle can.
    let delete = "mutation($id: ID!) { deleteProduct(id: $id) }";
    let refused = app
        .gql(&t.host, Some(&manager), delete, json!({"id": setup}))
        .await;
    assert_eq!(refused.error_code(), "CONFLICT");
    let refused = app
        .gql(&t.host, Some(&sales), delete, json!({"id": bundle["id"]}))
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    app.gql(&t.host, Some(&manager), delete, json!({"id": bundle["id"]}))
        .await
        .ok();
    app.gql(&t.host, Some(&manager), delete, json!({"id": setup}))
        .await
        .ok();

    // Updates: fields patched, archived.
    let update = format!(
        "mutation($id: ID!, $input: UpdateProductInput!) {{ updateProduct(id: $id, input: $input) {{ {PRODUCT} }} }}"
    );
    let updated = app
        .gql(&t.host, Some(&manager), &update,
             json!({"id": laptop["id"], "input": {"unitPrice": "899", "description": null, "active": false, "taxRateId": null}}))
        .await;
    let updated = updated.ok().data("updateProduct").clone();
    assert_eq!(updated["unitPrice"]["amount"], "899");
    assert!(updated["description"].is_null() && updated["taxRate"].is_null());
    assert_eq!(updated["active"], false);

    // Another tenant sees none of it.
    let other = app.new_tenant().await;
    let foreign = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            "query($id: ID!) { product(id: $id) { id } }",
            json!({"id": laptop["id"]}),
        )
        .await;
    assert_eq!(foreign.error_code(), "NOT_FOUND");
    let foreign = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            &update,
            json!({"id": laptop["id"], "input": {"name": "Mine"}}),
        )
        .await;
    assert_eq!(foreign.error_code(), "NOT_FOUND");
    let foreign = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            delete,
            json!({"id": laptop["id"]}),
        )
        .await;
    assert_eq!(foreign.error_code(), "NOT_FOUND");
    let listed = app
        .gql(&other.host, Some(&other.owner_token), list, json!({}))
        .await;
    assert_eq!(listed.ok().data("products.totalCount"), 0);
}
