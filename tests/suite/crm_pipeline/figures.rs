//! Activities, cold leads and the conversion and pipeline figures on known data.

use super::*;

#[tokio::test]
async fn activities_touch_contacts_and_filter() {
    let (app, t) = setup().await;
    let contact =
        create_contact(&app, &t, json!({"firstName": "Ada", "status": "CONTACTED"})).await;
    let opp = create_opportunity(&app, &t, json!({"title": "With Ada", "contactId": contact, "value": {"amount": "1", "currency": "EUR"}})).await;
    let log = "mutation($input: LogActivityInput!) { logActivity(input: $input) { id kind completedAt overdue } }";
    let none = gql(
        &app,
        &t,
        log,
        json!({"input": {"kind": "NOTE", "subject": "Floating"}}),
    )
    .await;
    assert_eq!(none.error_code(), "BAD_USER_INPUT");
    let call = gql(
        &app,
        &t,
        log,
        json!({"input": {"kind": "CALL", "subject": "Intro", "opportunityId": opp}}),
    )
    .await;
    assert!(
        call.ok().data("logActivity.completedAt").is_string(),
        "calls are logged as done"
    );
    let touched = gql(
        &app,
        &t,
        "query($id: ID!) { contact(id: $id) { lastActivityAt } }",
        json!({"id": contact}),
    )
    .await;
    assert!(
        touched.ok().data("contact.lastActivityAt").is_string(),
        "the opportunity's contact was touched"
    );

    let overdue = gql(&app, &t, log, json!({"input": {"kind": "TASK", "subject": "Send quote", "contactId": contact, "dueAt": days_ago(1)}})).await;
    assert_eq!(overdue.ok().data("logActivity.overdue"), true);
    let task = overdue.str("logActivity.id");
    let upcoming = gql(&app, &t, log, json!({"input": {"kind": "TASK", "subject": "Follow up", "contactId": contact, "dueAt": days_ago(-3)}})).await;
    let upcoming_id = upcoming.ok().str("logActivity.id");

    let list = "query($f: ActivityFilterInput) { activities(filter: $f) { totalCount edges { node { id } } } }";
    let ids = |reply: &Reply| -> Vec<String> {
        reply
            .data("activities.edges")
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let overdue_list = gql(&app, &t, list, json!({"f": {"overdue": true}})).await;
    assert_eq!(ids(overdue_list.ok()), vec![task.clone()]);
    let tasks = gql(&app, &t, list, json!({"f": {"kind": ["TASK"]}})).await;
    assert_eq!(
        ids(tasks.ok()),
        vec![upcoming_id.clone(), task.clone()],
        "newest first"
    );
    let due_soon = gql(
        &app,
        &t,
        list,
        json!({"f": {"dueAfter": days_ago(0), "dueBefore": days_ago(-7)}}),
    )
    .await;
    assert_eq!(ids(due_soon.ok()), vec![upcoming_id]);
    let by_opportunity = gql(&app, &t, list, json!({"f": {"opportunityId": opp}})).await;
    assert_eq!(by_opportunity.ok().data("activities.totalCount"), 1);

    let done = gql(
        &app,
        &t,
        "mutation($id: ID!) { completeTask(id: $id) { completedAt overdue } }",
        json!({"id": task}),
    )
    .await;
    assert_eq!(done.ok().data("completeTask.overdue"), false);
    let not_task = gql(
        &app,
        &t,
        "mutation($id: ID!) { completeTask(id: $id) { id } }",
        json!({"id": call.str("logActivity.id")}),
    )
    .await;
    assert_eq!(not_task.error_code(), "BAD_USER_INPUT");
    let after = gql(&app, &t, list, json!({"f": {"overdue": true}})).await;
    assert_eq!(after.ok().data("activities.totalCount"), 0);
}

#[tokio::test]
async fn cold_leads_on_known_data() {
    let (app, t) = setup().await;
    let quiet_contacted = create_contact(
        &app,
        &t,
        json!({"firstName": "QuietContacted", "status": "CONTACTED"}),
    )
    .await;
    let recent_qualified = create_contact(
        &app,
        &t,
        json!({"firstName": "RecentQualified", "status": "QUALIFIED"}),
    )
    .await;
    let never_active_old = create_contact(
        &app,
        &t,
        json!({"firstName": "NeverActiveOld", "status": "CONTACTED"}),
    )
    .await;
    let old_new =
        create_contact(&app, &t, json!({"firstName": "OldButNew", "status": "NEW"})).await;
    let old_customer = create_contact(
        &app,
        &t,
        json!({"firstName": "OldCustomer", "status": "CUSTOMER"}),
    )
    .await;
    let fresh = create_contact(
        &app,
        &t,
        json!({"firstName": "FreshQualified", "status": "QUALIFIED"}),
    )
    .await;
    for (id, created, active) in [
        (&quiet_contacted, 40, Some(10)),
        (&recent_qualified, 40, Some(2)),
        (&never_active_old, 8, None),
        (&old_new, 30, None),
        (&old_customer, 30, Some(20)),
    ] {
        let activity = active
            .map(|d| format!("'{}'", days_ago(d)))
            .unwrap_or_else(|| "NULL".into());
        app.tenant_sql(&t.slug, &format!(
            "UPDATE contacts SET created_at = '{}', last_activity_at = {activity} WHERE id = {}",
            days_ago(created),
            id_sql(id)
        )).await;
    }
    let _ = fresh;
    let cold = |days: i64| {
        let app = &app;
        let t = &t;
        async move {
            let reply = gql(app, t, "query($d: Int!) { coldLeads(days: $d) { totalCount edges { node { firstName } } } }", json!({"d": days})).await;
            let mut names: Vec<String> = reply
                .ok()
                .data("coldLeads.edges")
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| {
                    e["node"]["firstName"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(cold(7).await, vec!["NeverActiveOld", "QuietContacted"]);
    assert_eq!(
        cold(1).await,
        vec!["NeverActiveOld", "QuietContacted", "RecentQualified"]
    );
    assert_eq!(cold(30).await, Vec::<String>::new());
    let bad = gql(&app, &t, "{ coldLeads(days: 0) { totalCount } }", json!({})).await;
    assert_eq!(bad.error_code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn conversion_and_pipeline_figures_on_known_data() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let mut ids = Vec::new();
    for (i, amount) in ["100.00", "200.00", "300.00", "400.00", "500.00"]
        .iter()
        .enumerate()
    {
        ids.push(create_opportunity(&app, &t, json!({"title": format!("F{i}"), "stageId": stage(&stages, "Proposal"), "value": {"amount": amount, "currency": "EUR"}})).await);
    }
    for id in &ids[0..3] {
        gql(
            &app,
            &t,
            "mutation($id: ID!) { markWon(id: $id) { id } }",
            json!({"id": id}),
        )
        .await
        .ok();
    }
    gql(
        &app,
        &t,
        "mutation($id: ID!) { markLost(id: $id, reason: \"Price\") { id } }",
        json!({"id": ids[3]}),
    )
    .await
    .ok();
    // One win happened two months ago.
    app.tenant_sql(
        &t.slug,
        &format!(
            "UPDATE opportunities SET closed_at = '{}' WHERE id = {}",
            days_ago(60),
            id_sql(&ids[0])
        ),
    )
    .await;

    let conversion = "query($from: DateTime!, $to: DateTime!, $p: ID) { conversion(from: $from, to: $to, pipelineId: $p) { won lost winRate leads convertedLeads leadConversionRate } }";
    let last_month = gql(
        &app,
        &t,
        conversion,
        json!({"from": days_ago(30), "to": days_ago(-1), "p": pipeline}),
    )
    .await;
    let c = last_month.ok().data("conversion").clone();
    assert_eq!((c["won"].as_i64(), c["lost"].as_i64()), (Some(2), Some(1)));
    assert!((c["winRate"].as_f64().unwrap_or_default() - 2.0 / 3.0).abs() < 1e-9);
    let all_time = gql(
        &app,
        &t,
        conversion,
        json!({"from": days_ago(365), "to": days_ago(-1)}),
    )
    .await;
    assert_eq!(all_time.ok().data("conversion.won"), 3);
    assert!(
        (all_time
            .data("conversion.winRate")
            .as_f64()
            .unwrap_or_default()
            - 0.75)
            .abs()
            < 1e-9
    );

    // Leads: four contacts this month, one of them a customer now; one created long ago.
    for (name, status) in [
        ("L1", "NEW"),
        ("L2", "CONTACTED"),
        ("L3", "CUSTOMER"),
        ("L4", "LOST"),
    ] {
        create_contact(&app, &t, json!({"firstName": name, "status": status})).await;
    }
    let old = create_contact(&app, &t, json!({"firstName": "Old", "status": "CUSTOMER"})).await;
    app.tenant_sql(
        &t.slug,
        &format!(
            "UPDATE contacts SET created_at = '{}' WHERE id = {}",
            days_ago(90),
            id_sql(&old)
        ),
    )
    .await;
    let leads = gql(
        &app,
        &t,
        conversion,
        json!({"from": days_ago(30), "to": days_ago(-1)}),
    )
    .await;
    let c = leads.ok().data("conversion").clone();
    assert_eq!(
        (c["leads"].as_i64(), c["convertedLeads"].as_i64()),
        (Some(4), Some(1))
    );
    assert_eq!(c["leadConversionRate"].as_f64(), Some(0.25));
    let empty = gql(
        &app,
        &t,
        conversion,
        json!({"from": days_ago(800), "to": days_ago(700)}),
    )
    .await;
    assert!(
        empty
            .ok()
            .data("conversion")
            .get("winRate")
            .is_some_and(Value::is_null)
    );
    let backwards = gql(
        &app,
        &t,
        conversion,
        json!({"from": days_ago(1), "to": days_ago(2)}),
    )
    .await;
    assert_eq!(backwards.error_code(), "BAD_USER_INPUT");

    let figures = gql(&app, &t, "query($p: ID!) { pipelineFigures(pipelineId: $p) { stage { name } count totalValue { amount currency } weightedValue { amount } } }", json!({"p": pipeline})).await;
    let rows = figures
        .ok()
        .data("pipelineFigures")
        .as_array()
        .expect("figures")
        .clone();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["stage"]["name"] == name)
            .expect("stage row")
            .clone()
    };
    assert_eq!(row("Proposal")["count"], 1);
    assert_eq!(
        row("Proposal")["totalValue"][0],
        json!({"amount": "500.00", "currency": "EUR"})
    );
    assert_eq!(row("Proposal")["weightedValue"][0]["amount"], "250.00");
    assert_eq!(row("Won")["count"], 3);
    assert_eq!(row("Won")["totalValue"][0]["amount"], "600.00");
    assert_eq!(row("Lost")["count"], 1);
    assert_eq!(row("Lead")["count"], 0);
    assert_eq!(row("Lead")["totalValue"], json!([]));
}
