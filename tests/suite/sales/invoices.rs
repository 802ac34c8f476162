//! Invoices, credit notes and payments: issued with gapless numbers, final once issued,
//! corrected by credit notes, settled by payments and refunds; finance's work; isolated per
//! tenant.

use tests::test_database_url;

use super::*;

const INVOICE: &str =
    "id number status paymentStatus overdue availableActions currency issueDate dueDate
    totals { subtotal { amount } tax { amount } total { amount currency } }
    credited { amount } paid { amount } balance { amount }
    lines { description quantity net { amount } }
    creditNotes { id number status }
    payments { amount { amount } payment { id method } }
    quote { id }";

async fn gql(app: &TestApp, t: &TestTenant, token: &str, query: &str, variables: Value) -> Reply {
    app.gql(&t.host, Some(token), query, variables).await
}

/// A draft invoice of free-text lines for a new contact, created as `token`'s user.
async fn draft_invoice(app: &TestApp, t: &TestTenant, token: &str, lines: Value) -> Value {
    let contact = client(app, t).await;
    gql(
        app,
        t,
        token,
        &format!("mutation($input: CreateInvoiceInput!) {{ createInvoice(input: $input) {{ {INVOICE} }} }}"),
        json!({"input": {"contactId": contact, "currency": "EUR", "lines": lines}}),
    )
    .await
    .ok()
    .data("createInvoice")
    .clone()
}

async fn issue(app: &TestApp, t: &TestTenant, token: &str, id: &Value) -> Reply {
    gql(
        app,
        t,
        token,
        &format!("mutation($id: ID!) {{ issueInvoice(id: $id) {{ {INVOICE} }} }}"),
        json!({"id": id}),
    )
    .await
}

async fn read_invoice(app: &TestApp, t: &TestTenant, id: &Value) -> Value {
    gql(
        app,
        t,
        &t.owner_token,
        &format!("query($id: ID!) {{ invoice(id: $id) {{ {INVOICE} updatedAt }} }}"),
        json!({"id": id}),
    )
    .await
    .ok()
    .data("invoice")
    .clone()
}

async fn pay(app: &TestApp, t: &TestTenant, token: &str, input: Value) -> Reply {
    gql(
        app,
        t,
        token,
        "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id amount { amount } unallocated { amount } allocations { amount { amount } invoice { id } } } }",
        json!({"input": input}),
    )
    .await
}

async fn credit(app: &TestApp, t: &TestTenant, token: &str, input: Value) -> Reply {
    gql(
        app,
        t,
        token,
        "mutation($input: CreateCreditNoteInput!) { createCreditNote(input: $input) { id status availableActions totals { total { amount } } } }",
        json!({"input": input}),
    )
    .await
}

async fn issue_credit(app: &TestApp, t: &TestTenant, token: &str, id: &Value) -> Reply {
    gql(
        app,
        t,
        token,
        "mutation($id: ID!) { issueCreditNote(id: $id) { id number status availableActions } }",
        json!({"id": id}),
    )
    .await
}

fn payment(amount: &str, allocations: Value) -> Value {
    json!({"amount": amount, "currency": "EUR", "method": "BANK_TRANSFER", "reference": "SEPA-1",
           "receivedOn": "2026-12-01", "allocations": allocations})
}

#[tokio::test]
async fn an_accepted_quote_is_invoiced_issued_paid_credited_and_refunded() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, finance) = app.add_user(&t, "FINANCE").await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let quote = simple_draft(&app, &t).await;
    send_quote(&app, &t, &quote).await;
    act(&app, &t, &sales, "ACCEPT", &quote).await.ok();

    let from_quote = format!(
        "mutation($q: ID!) {{ createInvoiceFromQuote(quoteId: $q, paymentTermsDays: 14) {{ {INVOICE} }} }}"
    );
    let refused = gql(&app, &t, &sales, &from_quote, json!({"q": quote})).await;
    assert_eq!(refused.error_code(), "FORBIDDEN", "sales do not invoice");
    let invoice = gql(&app, &t, &finance, &from_quote, json!({"q": quote})).await;
    let invoice = invoice.ok().data("createInvoiceFromQuote").clone();
    assert_eq!(invoice["status"], "DRAFT");
    assert_eq!(invoice["paymentStatus"], Value::Null);
    assert_eq!(
        invoice["availableActions"],
        json!(["EDIT", "DELETE", "ISSUE"])
    );
    assert_eq!(invoice["quote"]["id"], json!(quote));
    assert_eq!(
        invoice["totals"]["total"],
        json!({"amount": "300.00", "currency": "EUR"})
    );
    let again = gql(&app, &t, &finance, &from_quote, json!({"q": quote})).await;
    assert_eq!(again.error_code(), "CONFLICT", "a quote is invoiced once");

    let issued = issue(&app, &t, &finance, &invoice["id"]).await;
    let issued = issued.ok().data("issueInvoice").clone();
    assert_eq!(issued["number"], "INV-00001");
    assert_eq!(issued["status"], "ISSUED");
    assert_eq!(issued["paymentStatus"], "UNPAID");
    assert_eq!(issued["overdue"], false);
    assert_eq!(
        issued["availableActions"],
        json!(["CREDIT", "RECORD_PAYMENT"])
    );
    let issue_date =
        chrono::NaiveDate::parse_from_str(issued["issueDate"].as_str().expect("date"), "%Y-%m-%d")
            .expect("a date");
    assert_eq!(
        issued["dueDate"],
        json!((issue_date + chrono::Duration::days(14)).to_string())
    );
    // Issued invoices are final.
    let refused = gql(
        &app,
        &t,
        &finance,
        "mutation($id: ID!) { updateInvoice(id: $id, input: {notes: \"x\"}) { id } }",
        json!({"id": invoice["id"]}),
    )
    .await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");
    let refused = gql(
        &app,
        &t,
        &finance,
        "mutation($id: ID!) { deleteInvoice(id: $id) }",
        json!({"id": invoice["id"]}),
    )
    .await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");

    // Paid in two parts, the second with 50.00 over: the client's credit.
    pay(
        &app,
        &t,
        &finance,
        payment(
            "100",
            json!([{"invoiceId": invoice["id"], "amount": "100"}]),
        ),
    )
    .await
    .ok();
    assert_eq!(
        read_invoice(&app, &t, &invoice["id"]).await["paymentStatus"],
        "PARTIAL"
    );
    let over = pay(
        &app,
        &t,
        &finance,
        payment(
            "250",
            json!([{"invoiceId": invoice["id"], "amount": "200"}]),
        ),
    )
    .await;
    assert_eq!(over.ok().data("recordPayment.unallocated.amount"), "50.00");
    let paid = read_invoice(&app, &t, &invoice["id"]).await;
    assert_eq!(paid["paymentStatus"], "PAID");
    assert_eq!(paid["balance"]["amount"], "0.00");
    assert_eq!(paid["payments"].as_array().map(Vec::len), Some(2));

    // A credit note for one line's part: the invoice is then overpaid.
    let note = credit(
        &app,
        &t,
        &finance,
        json!({"invoiceId": invoice["id"], "reason": "one day less",
        "lines": [{"description": "Consulting", "quantity": "0.5", "unitPrice": "150"}]}),
    )
    .await;
    let note = note.ok().data("createCreditNote").clone();
    assert_eq!(note["totals"]["total"]["amount"], "75.00");
    assert_eq!(note["availableActions"], json!(["EDIT", "DELETE", "ISSUE"]));
    let issued_note = issue_credit(&app, &t, &finance, &note["id"]).await;
    assert_eq!(issued_note.ok().data("issueCreditNote.number"), "CN-00001");
    let credited = read_invoice(&app, &t, &invoice["id"]).await;
    assert_eq!(credited["credited"]["amount"], "75.00");
    assert_eq!(credited["paymentStatus"], "OVERPAID");
    assert_eq!(credited["balance"]["amount"], "-75.00");

    // A refund takes the overpayment back.
    let refund = pay(
        &app,
        &t,
        &finance,
        payment(
            "-75",
            json!([{"invoiceId": invoice["id"], "amount": "-75"}]),
        ),
    )
    .await;
    refund.ok();
    assert_eq!(
        read_invoice(&app, &t, &invoice["id"]).await["paymentStatus"],
        "PAID"
    );
    let contact = paid["payments"][0]["payment"]["id"].clone();
    assert!(contact.is_string());
    let events = gql(&app, &t, &t.owner_token, "{ events(types: [\"invoice.issued\", \"invoice.credited\", \"invoice.payment_applied\", \"credit_note.issued\", \"payment.recorded\"]) { nodes { type } } }", json!({})).await;
    let kinds: Vec<&str> = events
        .ok()
        .data("events.nodes")
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    let count = |kind: &str| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count("invoice.issued"), 1);
    assert_eq!(count("payment.recorded"), 3);
    assert_eq!(count("invoice.payment_applied"), 3);
    assert_eq!(count("credit_note.issued"), 1);
    assert_eq!(count("invoice.credited"), 1);
}

#[tokio::test]
async fn payments_and_credits_never_exceed_what_an_invoice_allows() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let lines = json!([{"description": "Work", "quantity": "1", "unitPrice": "100"}]);
    let invoice = draft_invoice(&app, &t, &owner, lines.clone()).await;
    // Not on a draft.
    let refused = pay(
        &app,
        &t,
        &owner,
        payment("10", json!([{"invoiceId": invoice["id"], "amount": "10"}])),
    )
    .await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");
    let refused = credit(&app, &t, &owner, json!({"invoiceId": invoice["id"]})).await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");
    issue(&app, &t, &owner, &invoice["id"]).await.ok();
    let before = read_invoice(&app, &t, &invoice["id"]).await;

    for (input, code) in [
        (payment("0", json!([])), "BAD_USER_INPUT"),
        (
            payment(
                "150",
                json!([{"invoiceId": invoice["id"], "amount": "150"}]),
            ),
            "BAD_USER_INPUT",
        ),
        (
            payment("10", json!([{"invoiceId": invoice["id"], "amount": "20"}])),
            "BAD_USER_INPUT",
        ),
        (
            payment("10", json!([{"invoiceId": invoice["id"], "amount": "-10"}])),
            "BAD_USER_INPUT",
        ),
        (
            payment(
                "-10",
                json!([{"invoiceId": invoice["id"], "amount": "-10"}]),
            ),
            "BAD_USER_INPUT",
        ),
        (payment("10.001", json!([])), "BAD_USER_INPUT"),
        (
            json!({"amount": "10", "currency": "USD", "method": "CASH", "receivedOn": "2026-12-01",
                "allocations": [{"invoiceId": invoice["id"], "amount": "10"}]}),
            "BAD_USER_INPUT",
        ),
        (
            payment(
                "20",
                json!([{"invoiceId": invoice["id"], "amount": "10"}, {"invoiceId": invoice["id"], "amount": "10"}]),
            ),
            "BAD_USER_INPUT",
        ),
        (payment("-5", json!([])), "BAD_USER_INPUT"),
    ] {
        let refused = pay(&app, &t, &owner, input.clone()).await;
        assert_eq!(refused.error_code(), code, "{input}");
    }
    assert_eq!(
        read_invoice(&app, &t, &invoice["id"]).await,
        before,
        "no refusal changed it"
    );
    let payments = gql(&app, &t, &owner, "{ payments { totalCount } }", json!({})).await;
    assert_eq!(payments.ok().data("payments.totalCount"), 0);

    // Two full credits: the second would pass the total.
    let first = credit(&app, &t, &owner, json!({"invoiceId": invoice["id"]}))
        .await
        .ok()
        .data("createCreditNote.id")
        .clone();
    let second = credit(&app, &t, &owner, json!({"invoiceId": invoice["id"]}))
        .await
        .ok()
        .data("createCreditNote.id")
        .clone();
    issue_credit(&app, &t, &owner, &first).await.ok();
    let refused = issue_credit(&app, &t, &owner, &second).await;
    assert_eq!(
        refused.error_code(),
        "CREDIT_EXCEEDS_INVOICE",
        "fully credited: nothing left"
    );
    let refused = credit(&app, &t, &owner, json!({"invoiceId": invoice["id"]})).await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");
    let fully = read_invoice(&app, &t, &invoice["id"]).await;
    assert_eq!(fully["availableActions"], json!(["RECORD_PAYMENT"]));
    assert_eq!(fully["credited"]["amount"], "100.00");
    let refused = issue_credit(&app, &t, &owner, &first).await;
    assert_eq!(
        refused.error_code(),
        "INVALID_TRANSITION",
        "an issued note is final"
    );

    // Partly credited, a larger note is refused by amount.
    let other = draft_invoice(&app, &t, &owner, lines).await;
    issue(&app, &t, &owner, &other["id"]).await.ok();
    let part = credit(
        &app,
        &t,
        &owner,
        json!({"invoiceId": other["id"], "lines": [{"description": "x", "unitPrice": "60"}]}),
    )
    .await
    .ok()
    .data("createCreditNote.id")
    .clone();
    let more = credit(
        &app,
        &t,
        &owner,
        json!({"invoiceId": other["id"], "lines": [{"description": "y", "unitPrice": "60"}]}),
    )
    .await
    .ok()
    .data("createCreditNote.id")
    .clone();
    issue_credit(&app, &t, &owner, &part).await.ok();
    let refused = issue_credit(&app, &t, &owner, &more).await;
    assert_eq!(refused.error_code(), "CREDIT_EXCEEDS_INVOICE");
}

#[tokio::test]
async fn issue_dates_never_go_back_and_an_exhausted_series_says_so() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let lines = json!([{"description": "Work", "unitPrice": "10"}]);
    let first = draft_invoice(&app, &t, &owner, lines.clone()).await;
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today + chrono::Duration::days(2);
    let issue_on = "mutation($id: ID!, $d: NaiveDate) { issueInvoice(id: $id, issueDate: $d) { number issueDate } }";
    let refused = gql(
        &app,
        &t,
        &owner,
        issue_on,
        json!({"id": first["id"], "d": tomorrow.to_string()}),
    )
    .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT", "not in the future");
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    gql(
        &app,
        &t,
        &owner,
        issue_on,
        json!({"id": first["id"], "d": yesterday}),
    )
    .await
    .ok();
    let second = draft_invoice(&app, &t, &owner, lines.clone()).await;
    let earlier = (today - chrono::Duration::days(3)).to_string();
    let refused = gql(
        &app,
        &t,
        &owner,
        issue_on,
        json!({"id": second["id"], "d": earlier}),
    )
    .await;
    assert_eq!(refused.error_code(), "ISSUE_DATE_BEFORE_LAST");
    assert_eq!(
        read_invoice(&app, &t, &second["id"]).await["status"],
        "DRAFT"
    );
    let next = gql(
        &app,
        &t,
        &owner,
        issue_on,
        json!({"id": second["id"], "d": yesterday}),
    )
    .await;
    assert_eq!(
        next.ok().data("issueInvoice.number"),
        "INV-00002",
        "the refusal spent no number"
    );

    // A series with a range of one number.
    gql(&app, &t, &owner, "mutation { createDocumentSeries(input: {kind: INVOICE, name: \"One\", prefix: \"ONE-\", digits: 1, firstNumber: 7, lastNumber: 7, isDefault: true}) { id } }", json!({})).await.ok();
    let third = draft_invoice(&app, &t, &owner, lines.clone()).await;
    assert_eq!(
        issue(&app, &t, &owner, &third["id"])
            .await
            .ok()
            .data("issueInvoice.number"),
        "ONE-7"
    );
    let fourth = draft_invoice(&app, &t, &owner, lines).await;
    let refused = issue(&app, &t, &owner, &fourth["id"]).await;
    assert_eq!(refused.error_code(), "SERIES_EXHAUSTED");
}

#[tokio::test]
async fn every_invoice_and_credit_note_state_allows_exactly_its_actions() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let lines = json!([{"description": "Work", "unitPrice": "10"}]);
    let edit = "mutation($id: ID!) { updateInvoice(id: $id, input: {notes: \"n\"}) { id } }";
    let delete = "mutation($id: ID!) { deleteInvoice(id: $id) }";
    let issue_q = "mutation($id: ID!) { issueInvoice(id: $id) { id } }";
    let credit_q = "mutation($id: ID!) { createCreditNote(input: {invoiceId: $id}) { id } }";
    let pay_q = "mutation($id: ID!) { recordPayment(input: {amount: \"1\", currency: \"EUR\", method: CASH, receivedOn: \"2026-12-01\", allocations: [{invoiceId: $id, amount: \"1\"}]}) { id } }";
    // A fully credited invoice that was paid 1.00 takes a refund.
    let refund_q = "mutation($id: ID!) { recordPayment(input: {amount: \"-1\", currency: \"EUR\", method: CASH, receivedOn: \"2026-12-01\", allocations: [{invoiceId: $id, amount: \"-1\"}]}) { id } }";
    let actions = [
        ("EDIT", edit),
        ("DELETE", delete),
        ("ISSUE", issue_q),
        ("CREDIT", credit_q),
        ("RECORD_PAYMENT", pay_q),
    ];
    for (state, allowed) in [
        ("DRAFT", &["EDIT", "DELETE", "ISSUE"][..]),
        ("ISSUED", &["CREDIT", "RECORD_PAYMENT"]),
        ("CREDITED", &["RECORD_PAYMENT"]),
    ] {
        for (action, query) in actions {
            let invoice = draft_invoice(&app, &t, &owner, lines.clone()).await;
            let id = invoice["id"].clone();
            if state != "DRAFT" {
                issue(&app, &t, &owner, &id).await.ok();
            }
            if state == "CREDITED" {
                gql(&app, &t, &owner, pay_q, json!({"id": id})).await.ok();
                let note = credit(&app, &t, &owner, json!({"invoiceId": id}))
                    .await
                    .ok()
                    .data("createCreditNote.id")
                    .clone();
                issue_credit(&app, &t, &owner, &note).await.ok();
            }
            let before = read_invoice(&app, &t, &id).await;
            assert_eq!(before["availableActions"], json!(allowed), "{state}");
            let query = if state == "CREDITED" && action == "RECORD_PAYMENT" {
                refund_q
            } else {
                query
            };
            let reply = gql(&app, &t, &owner, query, json!({"id": id})).await;
            if allowed.contains(&action) {
                reply.ok();
            } else {
                assert_eq!(
                    reply.error_code(),
                    "INVALID_TRANSITION",
                    "{action} on {state}"
                );
                assert_eq!(
                    read_invoice(&app, &t, &id).await,
                    before,
                    "{action} on {state}"
                );
            }
        }
    }
    // A credit note: a draft is edited, deleted or issued; an issued one is final.
    let note_edit =
        "mutation($id: ID!) { updateCreditNote(id: $id, input: {reason: \"r\"}) { id } }";
    let note_delete = "mutation($id: ID!) { deleteCreditNote(id: $id) }";
    let note_issue = "mutation($id: ID!) { issueCreditNote(id: $id) { id } }";
    for issued in [false, true] {
        for query in [note_edit, note_delete, note_issue] {
            let invoice = draft_invoice(&app, &t, &owner, lines.clone()).await;
            issue(&app, &t, &owner, &invoice["id"]).await.ok();
            let note = credit(&app, &t, &owner, json!({"invoiceId": invoice["id"], "lines": [{"description": "x", "unitPrice": "1"}]})).await.ok().data("createCreditNote.id").clone();
            if issued {
                let done = issue_credit(&app, &t, &owner, &note).await;
                assert_eq!(
                    done.ok().data("issueCreditNote.availableActions"),
                    &json!([])
                );
            }
            let reply = gql(&app, &t, &owner, query, json!({"id": note})).await;
            if issued {
                assert_eq!(reply.error_code(), "INVALID_TRANSITION");
            } else {
                reply.ok();
            }
        }
    }
}

#[tokio::test]
async fn invoices_are_finances_and_isolated_per_tenant() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    let (_, admin) = app.add_user(&t, "ADMIN").await;
    let lines = json!([{"description": "Work", "unitPrice": "10"}]);
    for token in [&viewer, &sales, &manager] {
        let contact = client(&app, &t).await;
        let refused = gql(&app, &t, token, "mutation($c: ID!) { createInvoice(input: {contactId: $c, lines: [{description: \"x\", unitPrice: \"1\"}]}) { id } }", json!({"c": contact})).await;
        assert_eq!(refused.error_code(), "FORBIDDEN");
    }
    let invoice = draft_invoice(&app, &t, &admin, lines).await;
    for token in [&sales, &manager] {
        assert_eq!(
            issue(&app, &t, token, &invoice["id"]).await.error_code(),
            "FORBIDDEN"
        );
    }
    let read = gql(
        &app,
        &t,
        &viewer,
        "query($id: ID!) { invoice(id: $id) { id status } }",
        json!({"id": invoice["id"]}),
    )
    .await;
    assert_eq!(read.ok().data("invoice.status"), "DRAFT");
    issue(&app, &t, &admin, &invoice["id"]).await.ok();

    let other = app.new_tenant().await;
    let foreign = [
        "query($id: ID!) { invoice(id: $id) { id } }",
        "mutation($id: ID!) { issueInvoice(id: $id) { id } }",
        "mutation($id: ID!) { deleteInvoice(id: $id) }",
        "mutation($id: ID!) { createCreditNote(input: {invoiceId: $id}) { id } }",
        "mutation($id: ID!) { recordPayment(input: {amount: \"1\", currency: \"EUR\", method: CASH, receivedOn: \"2026-12-01\", allocations: [{invoiceId: $id, amount: \"1\"}]}) { id } }",
    ];
    for query in foreign {
        let refused = gql(
            &app,
            &other,
            &other.owner_token,
            query,
            json!({"id": invoice["id"]}),
        )
        .await;
        assert_eq!(refused.error_code(), "NOT_FOUND", "{query}");
    }
    let listed = gql(
        &app,
        &other,
        &other.owner_token,
        "{ invoices { totalCount } payments { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(listed.ok().data("invoices.totalCount"), 0);

    // Credit notes, payments, a client's credit, number series and invoicing a quote:
    // finance's, and this tenant's alone.
    let contact = client(&app, &t).await;
    let note = credit(
        &app,
        &t,
        &admin,
        json!({"invoiceId": invoice["id"], "lines": [{"description": "x", "unitPrice": "1"}]}),
    )
    .await
    .ok()
    .data("createCreditNote.id")
    .clone();
    let paid = pay(
        &app,
        &t,
        &admin,
        payment("5", json!([{"invoiceId": invoice["id"], "amount": "5"}])),
    )
    .await
    .ok()
    .data("recordPayment.id")
    .clone();
    for token in [&sales, &manager, &viewer] {
        assert_eq!(
            credit(&app, &t, token, json!({"invoiceId": invoice["id"]}))
                .await
                .error_code(),
            "FORBIDDEN"
        );
        assert_eq!(
            issue_credit(&app, &t, token, &note).await.error_code(),
            "FORBIDDEN"
        );
        assert_eq!(
            pay(&app, &t, token, payment("1", json!([])))
                .await
                .error_code(),
            "FORBIDDEN"
        );
    }
    let series = gql(
        &app,
        &t,
        &admin,
        "{ documentSeries(kind: INVOICE) { id } }",
        json!({}),
    )
    .await
    .ok()
    .data("documentSeries")[0]["id"]
        .clone();
    let quote = simple_draft(&app, &t).await;
    send_quote(&app, &t, &quote).await;
    act(&app, &t, &admin, "ACCEPT", &quote).await.ok();
    for (query, id) in [
        ("query($id: ID!) { creditNote(id: $id) { id } }", &note),
        (
            "mutation($id: ID!) { updateCreditNote(id: $id, input: {reason: \"x\"}) { id } }",
            &note,
        ),
        (
            "mutation($id: ID!) { issueCreditNote(id: $id) { id } }",
            &note,
        ),
        ("mutation($id: ID!) { deleteCreditNote(id: $id) }", &note),
        ("query($id: ID!) { payment(id: $id) { id } }", &paid),
        (
            "query($id: ID!) { customerCredit(contactId: $id, currency: \"EUR\") { amount } }",
            &json!(contact),
        ),
        (
            "mutation($id: ID!) { updateDocumentSeries(id: $id, input: {name: \"Mine\"}) { id } }",
            &series,
        ),
        (
            "mutation($id: ID!) { createInvoiceFromQuote(quoteId: $id) { id } }",
            &json!(quote),
        ),
    ] {
        let refused = gql(&app, &other, &other.owner_token, query, json!({"id": id})).await;
        assert_eq!(refused.error_code(), "NOT_FOUND", "{query}");
    }
    let mine = gql(
        &app,
        &t,
        &viewer,
        "query($c: ID!) { customerCredit(contactId: $c, currency: \"EUR\") { amount currency } }",
        json!({"c": contact}),
    )
    .await;
    assert_eq!(
        mine.ok().data("customerCredit"),
        &json!({"amount": "0.00", "currency": "EUR"})
    );
}

#[tokio::test]
async fn fifty_concurrent_issues_with_ten_rollbacks_number_one_to_forty_without_a_gap() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let mut ids = Vec::new();
    for i in 0..50 {
        let contact = client(&app, &t).await;
        let notes = if i % 5 == 0 { "fail" } else { "ok" };
        let invoice = gql(
            &app,
            &t,
            &owner,
            "mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }",
            json!({"input": {"contactId": contact, "notes": notes, "lines": [{"description": "x", "unitPrice": "1"}]}}),
        )
        .await;
        ids.push(invoice.ok().str("createInvoice.id"));
    }
    // Ten issues fail after taking their number, inside the issuing transaction.
    let trigger = if test_database_url().is_some() {
        "CREATE FUNCTION fail_issue() RETURNS trigger AS $$ BEGIN
           IF NEW.notes = 'fail' AND NEW.status = 'issued' THEN RAISE EXCEPTION 'forced'; END IF;
           RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER fail_issue BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION fail_issue();"
    } else {
        "CREATE TRIGGER fail_issue BEFORE UPDATE ON invoices
         WHEN NEW.notes = 'fail' AND NEW.status = 'issued'
         BEGIN SELECT RAISE(ABORT, 'forced'); END;"
    };
    app.tenant_sql(&t.slug, trigger).await;
    let replies = futures::future::join_all(ids.iter().map(|id| {
        let (app, t, owner) = (&app, &t, &owner);
        async move {
            gql(
                app,
                t,
                owner,
                "mutation($id: ID!) { issueInvoice(id: $id) { number issueDate } }",
                json!({"id": id}),
            )
            .await
        }
    }))
    .await;
    let failed = replies.iter().filter(|r| r.code().is_some()).count();
    assert_eq!(failed, 10, "the forced rollbacks");
    let listed = gql(&app, &t, &owner, "{ invoices(first: 100, filter: {status: [ISSUED]}) { nodes { number sequence: number issueDate } } }", json!({})).await;
    let mut issued: Vec<(u32, String)> = listed
        .ok()
        .data("invoices.nodes")
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let number = n["number"].as_str().expect("number");
            (
                number.trim_start_matches("INV-").parse().expect("a number"),
                n["issueDate"].as_str().expect("date").to_owned(),
            )
        })
        .collect();
    issued.sort();
    let numbers: Vec<u32> = issued.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        (1..=40).collect::<Vec<_>>(),
        "1..40, no gap, no duplicate"
    );
    assert!(
        issued.windows(2).all(|w| w[0].1 <= w[1].1),
        "issue dates never go back"
    );
}

#[tokio::test]
async fn the_dashboard_shows_what_was_quoted_invoiced_collected_and_is_owed() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let pipeline = app.first_pipeline_id(&t).await;
    let figures = "query($p: ID!) { dashboard(pipelineId: $p, range: LAST_30_DAYS) {
        quoted { amount currency } invoiced { amount } collected { amount }
        receivables { amount } overdueReceivables { amount } } }";
    let empty = gql(&app, &t, &owner, figures, json!({"p": pipeline})).await;
    assert_eq!(
        empty.ok().data("dashboard"),
        &json!({"quoted": [], "invoiced": [], "collected": [], "receivables": [], "overdueReceivables": []})
    );

    // A quote sent, revised and sent again counts once.
    let quote = simple_draft(&app, &t).await;
    send_quote(&app, &t, &quote).await;
    let revision = act(&app, &t, &owner, "REVISE", &quote)
        .await
        .ok()
        .str("reviseQuote.id");
    send_quote(&app, &t, &revision).await;
    // An invoice dated 40 days ago, due then, unpaid; another today, partly paid.
    let old = gql(&app, &t, &owner, "mutation($c: ID!) { createInvoice(input: {contactId: $c, currency: \"EUR\", paymentTermsDays: 0, lines: [{description: \"Old\", unitPrice: \"50\"}]}) { id } }", json!({"c": client(&app, &t).await})).await.ok().data("createInvoice.id").clone();
    let long_ago = (chrono::Utc::now().date_naive() - chrono::Duration::days(40)).to_string();
    gql(
        &app,
        &t,
        &owner,
        "mutation($id: ID!, $d: NaiveDate) { issueInvoice(id: $id, issueDate: $d) { id } }",
        json!({"id": old, "d": long_ago}),
    )
    .await
    .ok();
    let new = draft_invoice(
        &app,
        &t,
        &owner,
        json!([{"description": "New", "unitPrice": "100"}]),
    )
    .await;
    issue(&app, &t, &owner, &new["id"]).await.ok();
    pay(
        &app,
        &t,
        &owner,
        payment("40", json!([{"invoiceId": new["id"], "amount": "40"}])),
    )
    .await
    .ok();

    let shown = gql(&app, &t, &owner, figures, json!({"p": pipeline})).await;
    assert_eq!(
        shown.ok().data("dashboard"),
        &json!({"quoted": [{"amount": "300.00", "currency": "EUR"}], "invoiced": [{"amount": "100.00"}],
                "collected": [{"amount": "40.00"}], "receivables": [{"amount": "110.00"}],
                "overdueReceivables": [{"amount": "50.00"}]})
    );
}
