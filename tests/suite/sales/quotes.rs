//! Quotes: priced by the money engine, sent with a number and a link, revised, accepted
//! (winning their opportunity), with exact amounts on both backends and isolation between
//! tenants.

use super::*;

const EVENTS: &str =
    "query($types: [String!]) { events(types: $types) { nodes { type entityId } } }";

#[tokio::test]
async fn a_quote_is_priced_by_tax_group_with_its_discount_shared_among_lines() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let vat = create_tax_rate(&app, &t, "VAT", "21").await;
    let reduced = create_tax_rate(&app, &t, "Reduced", "10").await;
    let laptop = create_product(
        &app,
        &t,
        json!({"sku": "LAP", "name": "Laptop", "unit": "unit", "unitPrice": "999.99", "currency": "EUR", "taxRateId": vat}),
    )
    .await;
    let contact = client(&app, &t).await;
    let quote = create_quote(
        &app,
        &t,
        &sales,
        json!({"contactId": contact, "currency": "EUR", "terms": "Net 30", "discount": {"amount": "100"},
               "lines": [
                   {"productId": laptop, "quantity": "2"},
                   {"description": "Installation", "quantity": "3", "unitPrice": "33.333",
                    "discount": {"percent": "10"}, "taxRateId": reduced}]}),
    )
    .await;
    assert_eq!(quote["status"], "DRAFT");
    assert_eq!(quote["number"], Value::Null);
    assert_eq!(
        quote["availableActions"],
        json!(["EDIT", "DELETE", "SEND", "CANCEL"])
    );
    let lines = &quote["lines"];
    assert_eq!(lines[0]["sku"], "LAP");
    assert_eq!(
        lines[0]["description"], "Laptop",
        "the product's name is copied"
    );
    assert_eq!(
        lines[0]["unitPrice"],
        json!({"amount": "999.99", "currency": "EUR"})
    );
    assert_eq!(amount(&lines[0]["net"]), "1999.98");
    assert_eq!(amount(&lines[1]["net"]), "90.00", "round(99.999 - 9.9999)");
    assert_eq!(amount(&lines[0]["documentDiscount"]), "95.69");
    assert_eq!(
        amount(&lines[1]["documentDiscount"]),
        "4.31",
        "the larger remainder"
    );
    let totals = &quote["totals"];
    assert_eq!(amount(&totals["subtotal"]), "2089.98");
    assert_eq!(amount(&totals["discount"]), "100.00");
    assert_eq!(amount(&totals["taxExclusive"]), "1989.98");
    assert_eq!(amount(&totals["tax"]), "408.47");
    assert_eq!(
        totals["total"],
        json!({"amount": "2398.45", "currency": "EUR"})
    );
    assert_eq!(
        totals["taxes"],
        json!([
            {"tax": {"name": "VAT", "kind": "STANDARD", "percentage": "21", "taxRateId": vat},
             "base": {"amount": "1904.29"}, "amount": {"amount": "399.90"}},
            {"tax": {"name": "Reduced", "kind": "STANDARD", "percentage": "10", "taxRateId": reduced},
             "base": {"amount": "85.69"}, "amount": {"amount": "8.57"}},
        ])
    );

    // A later change to the catalog leaves the quote as written.
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($id: ID!) { updateProduct(id: $id, input: {name: \"Old laptop\", unitPrice: \"1\"}) { id } }",
        json!({"id": laptop}),
    )
    .await
    .ok();
    let again = read_quote(&app, &t, quote["id"].as_str().expect("id")).await;
    assert_eq!(again["lines"][0]["description"], "Laptop");
    assert_eq!(amount(&again["totals"]["total"]), "2398.45");
}

#[tokio::test]
async fn a_bundle_is_one_line_whose_components_keep_their_tax_rates() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let vat = create_tax_rate(&app, &t, "VAT", "21").await;
    let reduced = create_tax_rate(&app, &t, "Reduced", "10").await;
    let laptop = create_product(&app, &t, json!({"sku": "LAP", "name": "Laptop", "unitPrice": "999.99", "currency": "EUR", "taxRateId": vat})).await;
    let setup = create_product(&app, &t, json!({"sku": "SET", "name": "Setup", "kind": "SERVICE", "unitPrice": "0.125", "currency": "EUR", "taxRateId": reduced})).await;
    let kit = create_product(
        &app,
        &t,
        json!({"sku": "KIT", "name": "Kit", "kind": "BUNDLE", "unitPrice": "1000", "currency": "EUR",
               "components": [{"productId": laptop}, {"productId": setup, "quantity": "4"}]}),
    )
    .await;
    let contact = client(&app, &t).await;
    let quote = create_quote(
        &app,
        &t,
        &t.owner_token,
        json!({"contactId": contact, "currency": "EUR", "lines": [{"productId": kit}]}),
    )
    .await;
    let parts = &quote["lines"][0]["parts"];
    assert_eq!(
        parts,
        &json!([
            {"amount": {"amount": "999.50"}, "tax": {"name": "VAT", "percentage": "21"},
             "componentSku": "LAP", "componentName": "Laptop", "componentQuantity": "1"},
            {"amount": {"amount": "0.50"}, "tax": {"name": "Reduced", "percentage": "10"},
             "componentSku": "SET", "componentName": "Setup", "componentQuantity": "4"},
        ]),
        "1000.00 split 999.99 : 0.50 by largest remainder"
    );
    assert_eq!(
        amount(&quote["totals"]["tax"]),
        "209.95",
        "209.895 -> 209.90, plus 0.05"
    );
    assert_eq!(amount(&quote["totals"]["total"]), "1209.95");

    let refused = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($input: CreateQuoteInput!) { createQuote(input: $input) { id } }",
            json!({"input": {"contactId": contact, "currency": "EUR", "lines": [{"productId": kit, "taxRateId": vat}]}}),
        )
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn amounts_beyond_32_bits_round_trip_exactly_in_every_exponent() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let contact = client(&app, &t).await;
    for (currency, quantity, price, total) in [
        ("JPY", "1000", "9999999", "9999999000"),
        ("EUR", "1000", "12345678.91", "12345678910.00"),
        ("KWD", "5000", "1234567.891", "6172839455.000"),
    ] {
        let quote = create_quote(
            &app,
            &t,
            &t.owner_token,
            json!({"contactId": contact, "currency": currency,
                   "lines": [{"description": "Big", "quantity": quantity, "unitPrice": price}]}),
        )
        .await;
        let read = read_quote(&app, &t, quote["id"].as_str().expect("id")).await;
        assert_eq!(
            read["totals"]["total"],
            json!({"amount": total, "currency": currency})
        );
        assert_eq!(amount(&read["lines"][0]["net"]), total);
    }
    // More decimals than the currency has, or an amount beyond any range, is refused.
    let create = "mutation($input: CreateQuoteInput!) { createQuote(input: $input) { id } }";
    for input in [
        json!({"currency": "JPY", "discount": {"amount": "0.5"}, "lines": [{"description": "x", "unitPrice": "1"}]}),
        json!({"lines": [{"description": "x", "quantity": "1000000000", "unitPrice": "1000000000000"}]}),
        json!({"lines": [{"description": "x", "quantity": "0", "unitPrice": "1"}]}),
        json!({"lines": [{"description": "x", "unitPrice": "1", "discount": {"amount": "2"}}]}),
        json!({"lines": [{"quantity": "1", "unitPrice": "1"}]}),
        json!({"lines": [{"description": "x"}]}),
        json!({"discount": {"percent": "101"}, "lines": [{"description": "x", "unitPrice": "1"}]}),
        json!({"currency": "ABC", "lines": []}),
    ] {
        let refused = app
            .gql(
                &t.host,
                Some(&t.owner_token),
                create,
                json!({"input": input}),
            )
            .await;
        assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{input}");
    }
    // A discount is a percentage or an amount, not both.
    let both = json!({"lines": [{"description": "x", "unitPrice": "1", "discount": {"percent": "1", "amount": "1"}}]});
    let refused = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            create,
            json!({"input": both}),
        )
        .await;
    assert_eq!(refused.error_code(), "GRAPHQL_VALIDATION_FAILED");
    let too_many: Vec<Value> = (0..201)
        .map(|_| json!({"description": "x", "unitPrice": "1"}))
        .collect();
    let refused = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            create,
            json!({"input": {"lines": too_many}}),
        )
        .await;
    assert!(refused.code().is_some(), "201 lines are refused");
    let listed = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ quotes { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.ok().data("quotes.totalCount"),
        3,
        "no refused quote was written"
    );
}

#[tokio::test]
async fn sending_numbers_revising_keeps_the_number_and_accepting_wins_the_deal() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let contact = client(&app, &t).await;
    let deal = crm::create_opportunity(
        &app,
        &t,
        json!({"title": "Big deal", "contactId": contact, "value": {"amount": 10, "currency": "EUR"}}),
    )
    .await;
    let draft = create_quote(
        &app,
        &t,
        &sales,
        json!({"contactId": contact, "opportunityId": deal, "currency": "EUR", "terms": "Pay in 30 days",
               "lines": [{"description": "Work", "quantity": "10", "unitPrice": "120"}]}),
    )
    .await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let (sent, path) = send_quote(&app, &t, &id).await;
    assert_eq!(sent["status"], "SENT");
    assert_eq!(sent["number"], "Q-00001");
    assert!(sent["expiresAt"].is_string() && sent["sentAt"].is_string());
    assert_eq!(
        sent["availableActions"],
        json!(["REVISE", "ACCEPT", "REJECT", "CANCEL"])
    );
    let token = path.strip_prefix("/q/").expect("a /q/ path");
    assert!(token.len() >= 43, "256 bits, base64url");

    // Sent quotes are frozen.
    let refused = act(&app, &t, &sales, "EDIT", &id).await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");

    // A revision: same number, next revision, the old one superseded.
    let revised = act(&app, &t, &sales, "REVISE", &id).await;
    let revision = revised.ok().data("reviseQuote").clone();
    assert_eq!(revision["number"], "Q-00001");
    assert_eq!(revision["revision"], 2);
    assert_eq!(revision["status"], "DRAFT");
    assert_eq!(
        revision["previousRevision"],
        json!({"id": id, "status": "SUPERSEDED"})
    );
    assert_eq!(
        revision["availableActions"],
        json!(["EDIT", "SEND", "CANCEL"])
    );
    let revision_id = revision["id"].as_str().expect("id").to_owned();
    app.gql(
        &t.host,
        Some(&sales),
        &format!("mutation($id: ID!) {{ updateQuote(id: $id, input: {{lines: [{{description: \"Work\", quantity: \"10\", unitPrice: \"110\"}}]}}) {{ {QUOTE} }} }}"),
        json!({"id": revision_id}),
    )
    .await
    .ok();
    let (resent, _) = send_quote(&app, &t, &revision_id).await;
    assert_eq!(resent["number"], "Q-00001", "a revision keeps the number");
    let other = simple_draft(&app, &t).await;
    let (next, _) = send_quote(&app, &t, &other).await;
    assert_eq!(next["number"], "Q-00002");

    // Accepting wins the deal at the quote's total, once.
    let accepted = act(&app, &t, &sales, "ACCEPT", &revision_id).await;
    let accepted = accepted.ok().data("acceptQuote").clone();
    assert_eq!(accepted["status"], "ACCEPTED");
    assert_eq!(accepted["availableActions"], json!([]));
    assert_eq!(accepted["opportunity"]["status"], "WON");
    assert_eq!(
        accepted["opportunity"]["value"],
        json!({"amount": "1100.00", "currency": "EUR"})
    );
    let decision = &accepted["decision"];
    assert_eq!(decision["accepted"], true);
    assert_eq!(decision["name"], "Ana Client");
    assert_eq!(decision["revision"], 2);
    assert_eq!(decision["total"]["amount"], "1100.00");
    assert_eq!(decision["viaLink"], false);
    assert_eq!(
        decision["termsHash"], "9f826f4a12f5cc2092afc318162ff448ae78a26cb187247ca0473b8e045f29c2",
        "SHA-256 of the terms"
    );
    let again = act(&app, &t, &sales, "ACCEPT", &revision_id).await;
    assert_eq!(again.error_code(), "INVALID_TRANSITION");

    let events = app
        .gql(&t.host, Some(&t.owner_token), EVENTS, json!({"types": ["quote.accepted", "opportunity.won", "quote.sent", "quote.superseded"]}))
        .await;
    let kinds: Vec<String> = events
        .ok()
        .data("events.nodes")
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_owned())
        .collect();
    let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!(count("quote.accepted"), 1);
    assert_eq!(count("opportunity.won"), 1);
    assert_eq!(count("quote.sent"), 3);
    assert_eq!(count("quote.superseded"), 1);
}

#[tokio::test]
async fn quotes_are_read_by_viewers_written_by_sales_and_isolated_per_tenant() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let id = simple_draft(&app, &t).await;

    let read = app
        .gql(
            &t.host,
            Some(&viewer),
            "query($id: ID!) { quote(id: $id) { id status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(read.ok().data("quote.status"), "DRAFT");
    for action in [
        "EDIT", "DELETE", "SEND", "REVISE", "ACCEPT", "REJECT", "CANCEL",
    ] {
        let refused = act(&app, &t, &viewer, action, &id).await;
        assert_eq!(refused.error_code(), "FORBIDDEN", "{action}");
    }
    let refused = app
        .gql(
            &t.host,
            Some(&viewer),
            "mutation { createQuote(input: {lines: []}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");

    // Another tenant: every query and mutation finds nothing, and its data is refused here.
    let other = app.new_tenant().await;
    let foreign = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            "query($id: ID!) { quote(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(foreign.error_code(), "NOT_FOUND");
    for action in [
        "EDIT", "DELETE", "SEND", "REVISE", "ACCEPT", "REJECT", "CANCEL",
    ] {
        let refused = act(&app, &other, &other.owner_token, action, &id).await;
        assert_eq!(refused.error_code(), "NOT_FOUND", "{action}");
    }
    let listed = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            "{ quotes { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(listed.ok().data("quotes.totalCount"), 0);
    let their_product = create_product(
        &app,
        &other,
        json!({"sku": "X", "name": "X", "unitPrice": "1"}),
    )
    .await;
    let their_contact = client(&app, &other).await;
    for input in [
        json!({"lines": [{"productId": their_product}]}),
        json!({"contactId": their_contact, "lines": []}),
    ] {
        let refused = app
            .gql(
                &t.host,
                Some(&t.owner_token),
                "mutation($input: CreateQuoteInput!) { createQuote(input: $input) { id } }",
                json!({"input": input}),
            )
            .await;
        assert_eq!(refused.error_code(), "NOT_FOUND", "{input}");
    }
    let after = read_quote(&app, &t, &id).await;
    assert_eq!(after["status"], "DRAFT");
    assert_eq!(after["notes"], Value::Null, "nothing changed");
}
