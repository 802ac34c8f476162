//! The board: few statements whatever its size, totals, and cards that show their edges whole.

use super::*;

#[tokio::test]
async fn the_board_runs_the_same_few_statements_whatever_its_size() {
    let (app, t) = setup().await;
    let (small, small_stages) = create_pipeline(&app, &t, 3).await;
    fill_board(&app, &t, &small_stages, 2).await;
    let (large, large_stages) = create_pipeline(&app, &t, 12).await;
    fill_board(&app, &t, &large_stages, 200).await;

    let (small_count, small_board) = board_statements(&app, &t, &small).await;
    let (large_count, large_board) = board_statements(&app, &t, &large).await;
    small_board.ok();
    large_board.ok();
    assert_eq!(
        small_count, large_count,
        "statements must not grow with the board"
    );
    // The pipeline with its stages and their columns' totals, then the cards with their edges.
    assert_eq!(large_count, 2, "the board took {large_count} statements");
    eprintln!("board statements: {small_count} (3 stages x 2) and {large_count} (12 stages x 200)");

    let stages = large_board
        .data("pipeline.stages")
        .as_array()
        .expect("stages")
        .clone();
    assert_eq!(stages.len(), 12);
    for stage in &stages {
        let column = &stage["opportunities"];
        assert_eq!(column["totalCount"], json!(200));
        let nodes = column["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), 20, "the first 20 of each stage");
        for node in nodes {
            assert!(node["contact"]["id"].is_string());
            assert!(node["company"]["id"].is_string());
            assert_eq!(node["owner"]["email"], json!(t.owner_email));
        }
        assert!(
            nodes
                .iter()
                .any(|n| n["latestActivity"]["subject"].is_string())
        );
    }
    // Known value of one stage: 200 deals of 1000.50 + n EUR.
    let first = &stages[0]["opportunities"];
    let expected: f64 = (0..200).map(|n| 1000.5 + n as f64).sum();
    let total: f64 = first["totalValue"][0]["amount"]
        .as_str()
        .expect("amount")
        .parse()
        .expect("decimal");
    assert!((total - expected).abs() < 0.001, "{total} != {expected}");
}

#[tokio::test]
async fn a_boards_stages_and_totals_come_in_one_statement_and_match_each_stage_on_its_own() {
    let (app, t) = setup().await;
    let stages = json!([
        {"name": "Open A", "probability": 40},
        {"name": "Open B", "probability": 60},
        {"name": "Signed", "probability": 100, "kind": "WON"},
    ]);
    let created = gql(
        &app,
        &t,
        "mutation($s: [StageInput!]!) { createPipeline(name: \"Totals\", stages: $s) { id stages { id } } }",
        json!({"s": stages}),
    )
    .await;
    let pipeline = created.ok().str("createPipeline.id");
    let stage_ids: Vec<String> = created
        .data("createPipeline.stages")
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["id"].as_str().expect("stage id").to_owned())
        .collect();
    for (stage, amount, currency) in [
        (0, "100.00", "EUR"),
        (0, "50.25", "EUR"),
        (0, "10.00", "USD"),
        (2, "7.00", "GBP"),
    ] {
        gql(
            &app,
            &t,
            "mutation($s: ID!, $a: Decimal!, $c: String!) { createOpportunity(input: {title: \"Deal\", stageId: $s, value: {amount: $a, currency: $c}}) { id } }",
            json!({"s": stage_ids[stage], "a": amount, "c": currency}),
        )
        .await
        .ok();
    }

    let columns = "stages { id name opportunities(first: 5) { totalCount totalValue { amount currency } weightedValue { amount currency } nodes { id } } }";
    let (count, board) = counted(
        &app,
        &t,
        &format!("query($id: ID!) {{ pipeline(id: $id) {{ id {columns} }} }}"),
        json!({"id": pipeline}),
    )
    .await;
    assert_eq!(count, 2, "stages with totals, then cards");
    let board_stages = board.ok().data("pipeline.stages").clone();
    assert_eq!(
        board_stages
            .as_array()
            .expect("stages")
            .iter()
            .map(|s| s["opportunities"]["totalValue"].clone())
            .collect::<Vec<_>>(),
        vec![
            json!([{"amount": "150.25", "currency": "EUR"}, {"amount": "10.00", "currency": "USD"}]),
            json!([]),
            json!([{"amount": "7.00", "currency": "GBP"}]),
        ]
    );
    assert_eq!(board_stages[0]["opportunities"]["totalCount"], json!(3));
    assert_eq!(
        board_stages[0]["opportunities"]["weightedValue"],
        json!([{"amount": "60.10", "currency": "EUR"}, {"amount": "4.00", "currency": "USD"}])
    );
    assert_eq!(board_stages[1]["opportunities"]["totalCount"], json!(0));
    assert_eq!(board_stages[2]["opportunities"]["totalCount"], json!(1));

    // The same stages reached through the pipelines list load their totals one by one.
    let list = gql(
        &app,
        &t,
        &format!("{{ pipelines {{ id {columns} }} }}"),
        json!({}),
    )
    .await;
    let listed = list
        .ok()
        .data("pipelines")
        .as_array()
        .expect("pipelines")
        .iter()
        .find(|p| p["id"] == json!(pipeline))
        .expect("the new pipeline is listed")["stages"]
        .clone();
    assert_eq!(listed, board_stages);

    // Totals without cards, through a fragment: one statement; stages alone: one statement.
    let (count, named) = counted(
        &app,
        &t,
        "query($id: ID!) { pipeline(id: $id) { ...Named } } fragment Named on Pipeline { stages { name opportunities { totalCount } } }",
        json!({"id": pipeline}),
    )
    .await;
    assert_eq!(count, 1);
    assert_eq!(
        named.ok().data("pipeline.stages"),
        &json!([
            {"name": "Open A", "opportunities": {"totalCount": 3}},
            {"name": "Open B", "opportunities": {"totalCount": 0}},
            {"name": "Signed", "opportunities": {"totalCount": 1}},
        ])
    );
    let (count, bare) = counted(
        &app,
        &t,
        "query($id: ID!) { pipeline(id: $id) { name stages { name } } }",
        json!({"id": pipeline}),
    )
    .await;
    assert_eq!(count, 1);
    assert_eq!(bare.ok().str("pipeline.name"), "Totals");

    // An unknown pipeline is NOT_FOUND whatever the selection.
    for selection in ["name", columns] {
        let unknown = gql(
            &app,
            &t,
            &format!("query($id: ID!) {{ pipeline(id: $id) {{ {selection} }} }}"),
            json!({"id": "0190a0b0-0000-7000-8000-000000000000"}),
        )
        .await;
        assert_eq!(unknown.error_code(), "NOT_FOUND");
    }
}

/// The fields of an object type, by introspection, as a selection: leaves by name, objects
/// as `{ __typename }`. A field added to the type later is in it too.
async fn every_field(app: &TestApp, t: &TestTenant, type_name: &str) -> String {
    let reply = gql(
        app,
        t,
        "query($n: String!) { __type(name: $n) { fields { name type { kind ofType { kind ofType { kind ofType { kind } } } } } } }",
        json!({"n": type_name}),
    )
    .await;
    let fields = reply
        .ok()
        .data("__type.fields")
        .as_array()
        .expect("fields")
        .clone();
    assert!(!fields.is_empty(), "{type_name} has fields");
    fields
        .iter()
        .map(|field| {
            let mut ty = &field["type"];
            while matches!(ty["kind"].as_str(), Some("NON_NULL" | "LIST")) {
                ty = &ty["ofType"];
            }
            let name = field["name"].as_str().expect("field name");
            match ty["kind"].as_str() {
                Some("OBJECT" | "INTERFACE" | "UNION") => format!("{name} {{ __typename }}"),
                _ => name.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn board_cards_show_every_field_of_their_edges_as_the_whole_objects_do() {
    // The board loads only the columns its cards' selection reads; every field of the
    // contact, company, owner and latest activity must answer as when loaded whole.
    let (app, t) = setup().await;
    let company = gql(
        &app,
        &t,
        "mutation { createCompany(input: {name: \"Acme\", domain: \"acme.example\", industry: \"Tools\", size: MEDIUM, address: {street: \"1 Main St\", city: \"Madrid\", country: \"ES\"}}) { id } }",
        json!({}),
    )
    .await
    .ok()
    .str("createCompany.id");
    let contact = gql(
        &app,
        &t,
        "mutation($c: ID!) { createContact(input: {firstName: \"Ada\", lastName: \"Lovelace\", email: \"ada@acme.example\", phone: \"+34 910 000 001\", companyId: $c, source: REFERRAL, status: QUALIFIED, tags: [\"vip\"], customFields: {tier: \"gold\"}}) { id } }",
        json!({"c": company}),
    )
    .await
    .ok()
    .str("createContact.id");
    let (pipeline, stages) = create_pipeline(&app, &t, 2).await;
    let opportunity = create_opportunity(
        &app,
        &t,
        json!({"title": "Tools", "stageId": stages[0], "contactId": contact, "companyId": company,
               "value": {"amount": "100.00", "currency": "EUR"}, "expectedCloseDate": "2030-01-31"}),
    )
    .await;
    gql(
        &app,
        &t,
        "mutation($c: ID!, $o: ID!) { logActivity(input: {kind: TASK, subject: \"Send terms\", body: \"Draft attached\", dueAt: \"2026-01-02T03:04:05Z\", contactId: $c, opportunityId: $o}) { id } }",
        json!({"c": contact, "o": opportunity}),
    )
    .await
    .ok();
    app.tenant_sql(&t.slug, "UPDATE activities SET completed_at = due_at")
        .await;
    app.tenant_sql(
        &t.slug,
        "UPDATE users SET name = email, last_login_at = created_at",
    )
    .await;

    let card = format!(
        "contact {{ {} }} company {{ {} }} owner {{ {} }} latestActivity {{ {} }}",
        every_field(&app, &t, "Contact").await,
        every_field(&app, &t, "Company").await,
        every_field(&app, &t, "User").await,
        every_field(&app, &t, "Activity").await,
    );
    let board = gql(
        &app,
        &t,
        &format!("query($id: ID!) {{ pipeline(id: $id) {{ stages {{ opportunities {{ nodes {{ id {card} }} }} }} }} }}"),
        json!({"id": pipeline}),
    )
    .await;
    let whole = gql(
        &app,
        &t,
        &format!("query($id: ID!) {{ opportunity(id: $id) {{ id {card} }} }}"),
        json!({"id": opportunity}),
    )
    .await;
    let on_board = &board.ok().data("pipeline.stages")[0]["opportunities"]["nodes"][0];
    let whole = whole.ok().data("opportunity");
    assert_eq!(
        on_board, whole,
        "the card's edges answer as the whole objects"
    );
    // Every column carries a value, so a column left out would show.
    assert_eq!(whole["contact"]["customFields"], json!({"tier": "gold"}));
    assert_eq!(whole["contact"]["tags"], json!(["vip"]));
    assert_eq!(whole["company"]["address"]["__typename"], "Address");
    assert_eq!(whole["company"]["size"], "MEDIUM");
    assert_eq!(
        whole["latestActivity"]["completedAt"],
        "2026-01-02T03:04:05+00:00"
    );
    assert!(whole["owner"]["name"].is_string() && whole["owner"]["lastLoginAt"].is_string());

    // A card that asks for little gets it right too (and the board's few statements).
    let (count, reply) = board_statements(&app, &t, &pipeline).await;
    assert_eq!(count, 2, "the board took {count} statements");
    let node = &reply.ok().data("pipeline.stages")[0]["opportunities"]["nodes"][0];
    assert_eq!(node["contact"]["fullName"], "Ada Lovelace");
    assert_eq!(node["company"]["name"], "Acme");
    assert_eq!(node["owner"]["email"], whole["owner"]["email"]);
    assert_eq!(node["latestActivity"]["subject"], "Send terms");
}
