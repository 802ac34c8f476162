//! Sales reports against answers worked out by hand: revenue by month, how quotes fared,
//! receivables ageing.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use tests::id_sql;

use super::*;

async fn issued_invoice(
    app: &TestApp,
    t: &TestTenant,
    days_ago: i64,
    terms: i32,
    amount: &str,
) -> (String, NaiveDate) {
    let contact = client(app, t).await;
    let id = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($c: ID!, $terms: Int!, $p: Decimal!) { createInvoice(input: {contactId: $c, currency: \"EUR\", paymentTermsDays: $terms, lines: [{description: \"Work\", unitPrice: $p}]}) { id } }",
            json!({"c": contact, "terms": terms, "p": amount}),
        )
        .await
        .ok()
        .str("createInvoice.id");
    let day = Utc::now().date_naive() - Duration::days(days_ago);
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($id: ID!, $d: NaiveDate) { issueInvoice(id: $id, issueDate: $d) { id } }",
        json!({"id": id, "d": day.to_string()}),
    )
    .await
    .ok();
    (id, day)
}

async fn paid(
    app: &TestApp,
    t: &TestTenant,
    invoice: &str,
    amount: &str,
    days_ago: i64,
) -> NaiveDate {
    let day = Utc::now().date_naive() - Duration::days(days_ago);
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id } }",
        json!({"input": {"amount": amount, "currency": "EUR", "method": "BANK_TRANSFER", "receivedOn": day.to_string(),
                         "allocations": [{"invoiceId": invoice, "amount": amount}]}}),
    )
    .await
    .ok();
    day
}

#[tokio::test]
async fn revenue_by_month_and_receivables_ageing_match_the_ledger() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    // Issued oldest first: a series' dates never go back.
    let (a, a_day) = issued_invoice(&app, &t, 100, 0, "100").await;
    let (_, e_day) = issued_invoice(&app, &t, 70, 0, "50").await;
    let (b, b_day) = issued_invoice(&app, &t, 45, 0, "200").await;
    let (_, c_day) = issued_invoice(&app, &t, 10, 30, "300").await;
    let (d, d_day) = issued_invoice(&app, &t, 0, 0, "400").await;
    let b_paid = paid(&app, &t, &b, "50", 40).await;
    let d_paid = paid(&app, &t, &d, "100", 0).await;
    let _ = a;

    // Owed now: C not due (300), D due today (300 of 400), B 45 days late (150 of 200),
    // E 70 days late (50), A 100 days late (100).
    let ageing = app
        .gql(&t.host, Some(&t.owner_token), "{ receivablesAgeing { notDue { amount currency } days0To30 { amount } days31To60 { amount } days61To90 { amount } over90Days { amount } } }", json!({}))
        .await;
    assert_eq!(
        ageing.ok().data("receivablesAgeing"),
        &json!([{"notDue": {"amount": "300.00", "currency": "EUR"}, "days0To30": {"amount": "300.00"},
                 "days31To60": {"amount": "150.00"}, "days61To90": {"amount": "50.00"},
                 "over90Days": {"amount": "100.00"}}])
    );

    // By month: each invoice in its issue date's month, each payment in its receipt's.
    let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (day, amount) in [
        (a_day, 100),
        (e_day, 50),
        (b_day, 200),
        (c_day, 300),
        (d_day, 400),
    ] {
        months.entry(day.format("%Y-%m").to_string()).or_default().0 += amount;
    }
    for (day, amount) in [(b_paid, 50), (d_paid, 100)] {
        months.entry(day.format("%Y-%m").to_string()).or_default().1 += amount;
    }
    let expected: Vec<Value> = months
        .iter()
        .map(|(month, (invoiced, collected))| {
            json!({"month": month,
            "invoiced": {"amount": format!("{invoiced}.00"), "currency": "EUR"},
            "collected": {"amount": format!("{collected}.00")}})
        })
        .collect();
    let today = Utc::now().date_naive();
    let report = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "query($f: NaiveDate!, $t: NaiveDate!) { revenueByMonth(from: $f, to: $t) { month invoiced { amount currency } collected { amount } } }",
            json!({"f": (today - Duration::days(120)).to_string(), "t": today.to_string()}),
        )
        .await;
    assert_eq!(report.ok().data("revenueByMonth"), &json!(expected));
    // A range after everything is empty; a backwards or huge one is refused.
    let later = app
        .gql(&t.host, Some(&t.owner_token), "query($f: NaiveDate!, $t: NaiveDate!) { revenueByMonth(from: $f, to: $t) { month } }",
             json!({"f": (today + Duration::days(1)).to_string(), "t": (today + Duration::days(40)).to_string()}))
        .await;
    assert_eq!(later.ok().data("revenueByMonth"), &json!([]));
    for (from, to) in [
        (today, today - Duration::days(1)),
        (today - Duration::days(4000), today),
    ] {
        let refused = app
            .gql(&t.host, Some(&t.owner_token), "query($f: NaiveDate!, $t: NaiveDate!) { revenueByMonth(from: $f, to: $t) { month } }",
                 json!({"f": from.to_string(), "t": to.to_string()}))
            .await;
        assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    }

    // Another tenant's reports see none of it.
    let other = app.new_tenant().await;
    let theirs = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            "{ receivablesAgeing { notDue { amount } } }",
            json!({}),
        )
        .await;
    assert_eq!(theirs.ok().data("receivablesAgeing"), &json!([]));
}

#[tokio::test]
async fn quote_acceptance_counts_each_quote_once() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let accepted = simple_draft(&app, &t).await;
    let rejected = simple_draft(&app, &t).await;
    let open = simple_draft(&app, &t).await;
    let revised = simple_draft(&app, &t).await;
    for id in [&accepted, &rejected, &open, &revised] {
        send_quote(&app, &t, id).await;
    }
    act(&app, &t, &owner, "ACCEPT", &accepted).await.ok();
    act(&app, &t, &owner, "REJECT", &rejected).await.ok();
    act(&app, &t, &owner, "REVISE", &revised).await.ok();
    // Sent on 10 January; the accepted one accepted two and a half days later.
    for id in [&accepted, &rejected, &open, &revised] {
        app.tenant_sql(
            &t.slug,
            &format!(
                "UPDATE quotes SET sent_at = '2026-01-10T00:00:00+00:00' WHERE id = {}",
                id_sql(id)
            ),
        )
        .await;
    }
    app.tenant_sql(
        &t.slug,
        &format!(
            "UPDATE quotes SET decided_at = '2026-01-12T12:00:00+00:00' WHERE id = {}",
            id_sql(&accepted)
        ),
    )
    .await;

    let query = "query($f: DateTime!, $t: DateTime!) { quoteAcceptance(from: $f, to: $t) { sent accepted rejected acceptanceRate averageDaysToAccept } }";
    let january = app
        .gql(
            &t.host,
            Some(&owner),
            query,
            json!({"f": "2026-01-01T00:00:00Z", "t": "2026-02-01T00:00:00Z"}),
        )
        .await;
    let figures = january.ok().data("quoteAcceptance").clone();
    assert_eq!(figures["sent"], 3, "the superseded revision is not counted");
    assert_eq!(figures["accepted"], 1);
    assert_eq!(figures["rejected"], 1);
    assert!((figures["acceptanceRate"].as_f64().expect("rate") - 1.0 / 3.0).abs() < 1e-9);
    assert!(
        (figures["averageDaysToAccept"].as_f64().expect("days") - 2.5).abs() < 1e-6,
        "{figures}"
    );
    let february = app
        .gql(
            &t.host,
            Some(&owner),
            query,
            json!({"f": "2026-02-01T00:00:00Z", "t": "2026-03-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        february.ok().data("quoteAcceptance"),
        &json!({"sent": 0, "accepted": 0, "rejected": 0, "acceptanceRate": null, "averageDaysToAccept": null})
    );
}
