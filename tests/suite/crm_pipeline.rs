//! Pipelines, stages, opportunities, activities, the sales figures and the audit trail.

use serde_json::{Value, json};
use tests::{Reply, TestApp, TestTenant, days_ago, id_sql, spawn_app};

struct Stage {
    id: String,
    name: String,
}

async fn setup() -> (TestApp, TestTenant) {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let tenant = app.provision(&admin).await;
    (app, tenant)
}

async fn gql(app: &TestApp, t: &TestTenant, query: &str, vars: Value) -> Reply {
    app.gql(&t.host, Some(&t.owner_token), query, vars).await
}

/// The default pipeline and its stages (Lead, Qualified, Proposal, Negotiation, Won, Lost).
async fn default_pipeline(app: &TestApp, t: &TestTenant) -> (String, Vec<Stage>) {
    let reply = gql(
        app,
        t,
        "{ pipelines { id isDefault stages { id name } } }",
        json!({}),
    )
    .await;
    let pipeline = reply.ok().data("pipelines")[0].clone();
    let stages = pipeline["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| Stage {
            id: s["id"].as_str().unwrap_or_default().into(),
            name: s["name"].as_str().unwrap_or_default().into(),
        })
        .collect();
    (pipeline["id"].as_str().unwrap_or_default().into(), stages)
}

fn stage<'a>(stages: &'a [Stage], name: &str) -> &'a str {
    &stages
        .iter()
        .find(|s| s.name == name)
        .expect("stage exists")
        .id
}

async fn create_opportunity(app: &TestApp, t: &TestTenant, input: Value) -> String {
    let reply = gql(
        app,
        t,
        "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }",
        json!({"input": input}),
    )
    .await;
    reply.ok().str("createOpportunity.id")
}

async fn create_contact(app: &TestApp, t: &TestTenant, first_name: &str, status: &str) -> String {
    let reply = gql(
        app,
        t,
        "mutation($input: CreateContactInput!) { createContact(input: $input) { id } }",
        json!({"input": {"firstName": first_name, "status": status}}),
    )
    .await;
    reply.ok().str("createContact.id")
}

async fn opportunity(app: &TestApp, t: &TestTenant, id: &str) -> Value {
    let reply = gql(
        app,
        t,
        "query($id: ID!) { opportunity(id: $id) { id title status position lostReason closedAt
            value { amount currency } weightedValue { amount currency }
            stage { id name } stageHistory { fromStageId toStageId changedBy { id } } } }",
        json!({"id": id}),
    )
    .await;
    reply.ok().data("opportunity").clone()
}

/// The ids of a stage's column, in board order.
async fn column(app: &TestApp, t: &TestTenant, pipeline: &str, stage_id: &str) -> Vec<String> {
    let reply = gql(
        app,
        t,
        "query($id: ID!) { pipeline(id: $id) { stages { id opportunities(first: 100) { nodes { id position } } } } }",
        json!({"id": pipeline}),
    )
    .await;
    let stages = reply
        .ok()
        .data("pipeline.stages")
        .as_array()
        .expect("stages")
        .clone();
    let stage = stages
        .iter()
        .find(|s| s["id"] == stage_id)
        .expect("stage on the board");
    let nodes = stage["opportunities"]["nodes"].as_array().expect("nodes");
    for (i, node) in nodes.iter().enumerate() {
        assert_eq!(
            node["position"],
            json!(i),
            "positions are contiguous: {nodes:?}"
        );
    }
    nodes
        .iter()
        .map(|n| n["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

const BOARD: &str = "query($id: ID!) { pipeline(id: $id) { id name stages { id name probability
    opportunities(first: 20) { totalCount totalValue { amount currency } nodes { id title
        value { amount currency } weightedValue { amount currency }
        contact { id fullName } company { id name } owner { id email }
        latestActivity { id subject createdAt } } } } } }";

/// Fills a pipeline's stages with opportunities through the API, 100 per request, each with
/// a contact, a company and (one in three) an activity.
async fn fill_board(app: &TestApp, t: &TestTenant, stage_ids: &[String], per_stage: usize) {
    let mut contacts = Vec::new();
    let mut companies = Vec::new();
    for i in 0..10 {
        contacts.push(create_contact(app, t, &format!("Buyer{i}"), "QUALIFIED").await);
        let reply = gql(
            app,
            t,
            "mutation($n: String!) { createCompany(input: {name: $n}) { id } }",
            json!({"n": format!("Company {i}")}),
        )
        .await;
        companies.push(reply.ok().str("createCompany.id"));
    }
    let mut pending: Vec<String> = Vec::new();
    let mut n = 0;
    for stage_id in stage_ids {
        for _ in 0..per_stage {
            pending.push(format!(
                "o{n}: createOpportunity(input: {{title: \"Deal {n}\", stageId: \"{stage_id}\", contactId: \"{}\", companyId: \"{}\", value: {{amount: \"{}.50\", currency: \"EUR\"}}}}) {{ id }}",
                contacts[n % contacts.len()],
                companies[n % companies.len()],
                1000 + n
            ));
            n += 1;
            if pending.len() == 100 {
                let reply = gql(
                    app,
                    t,
                    &format!("mutation {{ {} }}", pending.join(" ")),
                    json!({}),
                )
                .await;
                reply.ok();
                log_activities(app, t, &reply).await;
                pending.clear();
            }
        }
    }
    if !pending.is_empty() {
        let reply = gql(
            app,
            t,
            &format!("mutation {{ {} }}", pending.join(" ")),
            json!({}),
        )
        .await;
        reply.ok();
        log_activities(app, t, &reply).await;
    }
}

async fn log_activities(app: &TestApp, t: &TestTenant, created: &Reply) {
    let ids: Vec<String> = created.body["data"]
        .as_object()
        .expect("created")
        .values()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .step_by(3)
        .collect();
    let mutations: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("a{i}: logActivity(input: {{kind: CALL, subject: \"Call {i}\", opportunityId: \"{id}\"}}) {{ id }}"))
        .collect();
    if !mutations.is_empty() {
        gql(
            app,
            t,
            &format!("mutation {{ {} }}", mutations.join(" ")),
            json!({}),
        )
        .await
        .ok();
    }
}

async fn create_pipeline(app: &TestApp, t: &TestTenant, stages: usize) -> (String, Vec<String>) {
    let stage_inputs: Vec<Value> = (0..stages)
        .map(|i| json!({"name": format!("Step {i}"), "probability": (i * 100 / stages.max(1)) as i64}))
        .collect();
    let reply = gql(
        app,
        t,
        "mutation($name: String!, $stages: [StageInput!]!) { createPipeline(name: $name, stages: $stages) { id stages { id } } }",
        json!({"name": format!("{stages} steps"), "stages": stage_inputs}),
    )
    .await;
    let pipeline = reply.ok().data("createPipeline").clone();
    let ids = pipeline["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    (pipeline["id"].as_str().unwrap_or_default().to_owned(), ids)
}

/// Statements the board query runs, not counting its transaction's BEGIN, SET LOCAL and COMMIT.
async fn board_statements(app: &TestApp, t: &TestTenant, pipeline: &str) -> (u64, Reply) {
    counted(app, t, BOARD, json!({"id": pipeline})).await
}

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

/// Statements a query runs (not counting its transaction's BEGIN, SET LOCAL and COMMIT), and
/// its reply.
async fn counted(app: &TestApp, t: &TestTenant, query: &str, variables: Value) -> (u64, Reply) {
    let before = app.statements();
    let reply = gql(app, t, query, variables).await;
    (app.statements() - before, reply)
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

#[tokio::test]
async fn opportunity_lifecycle_moves_and_history() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Big deal", "value": {"amount": "1000.00", "currency": "usd"}}),
    )
    .await;
    let created = opportunity(&app, &t, &id).await;
    assert_eq!(
        created["stage"]["name"], "Lead",
        "the default pipeline's first open stage"
    );
    assert_eq!(created["status"], "OPEN");
    assert_eq!(
        created["value"],
        json!({"amount": "1000.00", "currency": "USD"})
    );
    assert_eq!(created["weightedValue"]["amount"], "100.00", "10% in Lead");

    let moved = gql(&app, &t, "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { stage { name } weightedValue { amount } } }",
        json!({"id": id, "s": stage(&stages, "Proposal")})).await;
    assert_eq!(
        moved.ok().data("moveOpportunity.weightedValue.amount"),
        "500.00"
    );

    let won = gql(
        &app,
        &t,
        "mutation($id: ID!) { markWon(id: $id) { status closedAt stage { name } } }",
        json!({"id": id}),
    )
    .await;
    won.ok();
    assert_eq!(won.str("markWon.status"), "WON");
    assert_eq!(won.str("markWon.stage.name"), "Won");

    // Back to an open stage: open again, no longer closed.
    gql(
        &app,
        &t,
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
        json!({"id": id, "s": stage(&stages, "Negotiation")}),
    )
    .await
    .ok();
    let reopened = opportunity(&app, &t, &id).await;
    assert_eq!(reopened["status"], "OPEN");
    assert!(reopened["closedAt"].is_null());

    let lost = gql(&app, &t, "mutation($id: ID!) { markLost(id: $id, reason: \"Budget cut\") { status lostReason stage { name } } }", json!({"id": id})).await;
    assert_eq!(lost.ok().str("markLost.lostReason"), "Budget cut");
    assert_eq!(lost.str("markLost.stage.name"), "Lost");

    let history = opportunity(&app, &t, &id).await["stageHistory"].clone();
    let path: Vec<(Value, Value)> = history
        .as_array()
        .expect("history")
        .iter()
        .map(|h| (h["fromStageId"].clone(), h["toStageId"].clone()))
        .collect();
    let s = |name: &str| json!(stage(&stages, name));
    assert_eq!(
        path,
        vec![
            (Value::Null, s("Lead")),
            (s("Lead"), s("Proposal")),
            (s("Proposal"), s("Won")),
            (s("Won"), s("Negotiation")),
            (s("Negotiation"), s("Lost")),
        ]
    );
    assert!(
        history
            .as_array()
            .expect("history")
            .iter()
            .all(|h| h["changedBy"]["id"].is_string())
    );
    let _ = pipeline;
}

#[tokio::test]
async fn positions_within_a_stage_stay_contiguous() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let lead = stage(&stages, "Lead");
    let qualified = stage(&stages, "Qualified");
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(create_opportunity(&app, &t, json!({"title": format!("D{i}"), "stageId": lead, "value": {"amount": 10, "currency": "EUR"}})).await);
    }
    assert_eq!(column(&app, &t, &pipeline, lead).await, ids);
    let move_to = "mutation($id: ID!, $s: ID!, $p: Int) { moveOpportunity(id: $id, stageId: $s, position: $p) { position } }";
    gql(&app, &t, move_to, json!({"id": ids[3], "s": lead, "p": 0}))
        .await
        .ok();
    assert_eq!(
        column(&app, &t, &pipeline, lead).await,
        vec![
            ids[3].clone(),
            ids[0].clone(),
            ids[1].clone(),
            ids[2].clone()
        ]
    );
    gql(
        &app,
        &t,
        move_to,
        json!({"id": ids[0], "s": qualified, "p": 5}),
    )
    .await
    .ok();
    assert_eq!(
        column(&app, &t, &pipeline, lead).await,
        vec![ids[3].clone(), ids[1].clone(), ids[2].clone()]
    );
    assert_eq!(
        column(&app, &t, &pipeline, qualified).await,
        vec![ids[0].clone()]
    );
    gql(
        &app,
        &t,
        "mutation($id: ID!) { deleteOpportunity(id: $id) }",
        json!({"id": ids[1]}),
    )
    .await
    .ok();
    assert_eq!(
        column(&app, &t, &pipeline, lead).await,
        vec![ids[3].clone(), ids[2].clone()]
    );
}

#[tokio::test]
async fn two_users_moving_one_opportunity_at_once_both_land_in_history() {
    let (app, t) = setup().await;
    let (_, stages) = default_pipeline(&app, &t).await;
    let (_, other) = app.add_user(&t, "SALES").await;
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Contested", "value": {"amount": 5, "currency": "EUR"}}),
    )
    .await;
    let move_to =
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { stage { name } } }";
    let (first, second) = tokio::join!(
        app.gql(
            &t.host,
            Some(&t.owner_token),
            move_to,
            json!({"id": id, "s": stage(&stages, "Qualified")})
        ),
        app.gql(
            &t.host,
            Some(&other),
            move_to,
            json!({"id": id, "s": stage(&stages, "Proposal")})
        ),
    );
    first.ok();
    second.ok();
    let after = opportunity(&app, &t, &id).await;
    let history = after["stageHistory"].as_array().expect("history").clone();
    assert_eq!(history.len(), 3, "created + both moves: {history:?}");
    let targets: Vec<&Value> = history[1..].iter().map(|h| &h["toStageId"]).collect();
    assert!(targets.contains(&&json!(stage(&stages, "Qualified"))));
    assert!(targets.contains(&&json!(stage(&stages, "Proposal"))));
    // The second move starts where the first ended: the history is a chain.
    assert_eq!(history[2]["fromStageId"], history[1]["toStageId"]);
    assert_eq!(after["stage"]["id"], history[2]["toStageId"]);
}

#[tokio::test]
async fn bad_opportunity_input_is_refused_and_changes_nothing() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let (other_pipeline, other_stages) = create_pipeline(&app, &t, 2).await;
    let count = "{ opportunities { totalCount } }";
    let before = gql(&app, &t, count, json!({}))
        .await
        .ok()
        .data("opportunities.totalCount")
        .clone();
    let create =
        "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }";
    let cases = [
        (
            json!({"title": "x", "value": {"amount": "-1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("value.amount"),
        ),
        (
            json!({"title": "x", "value": {"amount": "1", "currency": "EURO"}}),
            "BAD_USER_INPUT",
            Some("value.currency"),
        ),
        (
            json!({"title": "x", "value": {"amount": "1.234", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("value.amount"),
        ),
        (
            json!({"title": " ", "value": {"amount": "1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("title"),
        ),
        (
            json!({"title": "x", "pipelineId": pipeline, "stageId": other_stages[0], "value": {"amount": "1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("stageId"),
        ),
        (
            json!({"title": "x", "stageId": uuid::Uuid::now_v7().to_string(), "value": {"amount": "1", "currency": "EUR"}}),
            "NOT_FOUND",
            None,
        ),
        (
            json!({"title": "x", "contactId": uuid::Uuid::now_v7().to_string(), "value": {"amount": "1", "currency": "EUR"}}),
            "NOT_FOUND",
            None,
        ),
        (
            json!({"title": "x", "contactId": "not-an-id", "value": {"amount": "1", "currency": "EUR"}}),
            "BAD_USER_INPUT",
            Some("contactId"),
        ),
    ];
    for (input, code, field) in cases {
        let reply = gql(&app, &t, create, json!({"input": input})).await;
        assert_eq!(reply.error_code(), code, "{input}: {:#}", reply.body);
        if let Some(field) = field {
            assert_eq!(
                reply.body["errors"][0]["extensions"]["field"], field,
                "{input}"
            );
        }
    }
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "ok", "value": {"amount": "1", "currency": "EUR"}}),
    )
    .await;
    let wrong_pipeline = gql(
        &app,
        &t,
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
        json!({"id": id, "s": other_stages[1]}),
    )
    .await;
    assert_eq!(wrong_pipeline.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        wrong_pipeline.body["errors"][0]["extensions"]["field"],
        "stageId"
    );
    let negative = gql(&app, &t, "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s, position: -1) { id } }",
        json!({"id": id, "s": stage(&stages, "Lead")})).await;
    assert_eq!(negative.error_code(), "BAD_USER_INPUT");
    let probability = gql(&app, &t, "mutation($p: ID!) { addStage(pipelineId: $p, input: {name: \"Odd\", probability: 101}) { id } }", json!({"p": pipeline})).await;
    assert_eq!(probability.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        probability.body["errors"][0]["extensions"]["field"],
        "input.probability"
    );
    let page = gql(
        &app,
        &t,
        "{ opportunities(first: 101) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(page.body["errors"][0]["extensions"]["field"], "first");
    let after = gql(&app, &t, count, json!({}))
        .await
        .ok()
        .data("opportunities.totalCount")
        .as_i64();
    assert_eq!(
        after,
        before.as_i64().map(|n| n + 1),
        "only the valid opportunity was created"
    );
    let untouched = opportunity(&app, &t, &id).await;
    assert_eq!(untouched["stage"]["name"], "Lead");
    let _ = other_pipeline;
}

#[tokio::test]
async fn stages_are_managed_and_a_full_stage_is_deleted_only_by_moving_its_deals() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let lead = stage(&stages, "Lead").to_owned();
    let qualified = stage(&stages, "Qualified").to_owned();
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Held", "stageId": lead, "value": {"amount": "1", "currency": "EUR"}}),
    )
    .await;
    let delete = "mutation($id: ID!, $to: ID) { deleteStage(id: $id, moveOpportunitiesTo: $to) }";
    let refused = gql(&app, &t, delete, json!({"id": lead, "to": null})).await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        refused.body["errors"][0]["extensions"]["field"],
        "moveOpportunitiesTo"
    );
    let (_, foreign) = create_pipeline(&app, &t, 1).await;
    let foreign_target = gql(&app, &t, delete, json!({"id": lead, "to": foreign[0]})).await;
    assert_eq!(foreign_target.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        opportunity(&app, &t, &id).await["stage"]["id"],
        json!(lead),
        "nothing moved"
    );

    gql(&app, &t, delete, json!({"id": lead, "to": qualified}))
        .await
        .ok();
    let moved = opportunity(&app, &t, &id).await;
    assert_eq!(moved["stage"]["id"], json!(qualified));
    assert_eq!(moved["stageHistory"].as_array().map(Vec::len), Some(2));

    let reorder = "mutation($p: ID!, $ids: [ID!]!) { reorderStages(pipelineId: $p, stageIds: $ids) { name position } }";
    let (_, now) = default_pipeline(&app, &t).await;
    let mut order: Vec<String> = now.iter().map(|s| s.id.clone()).collect();
    order.reverse();
    let reordered = gql(&app, &t, reorder, json!({"p": pipeline, "ids": order})).await;
    assert_eq!(reordered.ok().data("reorderStages")[0]["name"], "Lost");
    let missing_one = gql(
        &app,
        &t,
        reorder,
        json!({"p": pipeline, "ids": &order[1..]}),
    )
    .await;
    assert_eq!(missing_one.error_code(), "BAD_USER_INPUT");

    let added = gql(&app, &t, "mutation($p: ID!) { addStage(pipelineId: $p, input: {name: \"Demo\", probability: 40}, position: 1) { position } }", json!({"p": pipeline})).await;
    assert_eq!(added.ok().data("addStage.position"), 1);
    let renamed = gql(&app, &t, "mutation($id: ID!) { updateStage(id: $id, input: {name: \"Qualified lead\", probability: 30}) { name probability } }", json!({"id": qualified})).await;
    assert_eq!(renamed.ok().data("updateStage.probability"), 30);
    let full = gql(
        &app,
        &t,
        "mutation($id: ID!) { deletePipeline(id: $id) }",
        json!({"id": pipeline}),
    )
    .await;
    assert_eq!(
        full.error_code(),
        "CONFLICT",
        "a pipeline holding deals is not deleted"
    );
}

#[tokio::test]
async fn activities_touch_contacts_and_filter() {
    let (app, t) = setup().await;
    let contact = create_contact(&app, &t, "Ada", "CONTACTED").await;
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
    let quiet_contacted = create_contact(&app, &t, "QuietContacted", "CONTACTED").await;
    let recent_qualified = create_contact(&app, &t, "RecentQualified", "QUALIFIED").await;
    let never_active_old = create_contact(&app, &t, "NeverActiveOld", "CONTACTED").await;
    let old_new = create_contact(&app, &t, "OldButNew", "NEW").await;
    let old_customer = create_contact(&app, &t, "OldCustomer", "CUSTOMER").await;
    let fresh = create_contact(&app, &t, "FreshQualified", "QUALIFIED").await;
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
        create_contact(&app, &t, name, status).await;
    }
    let old = create_contact(&app, &t, "Old", "CUSTOMER").await;
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

#[tokio::test]
async fn opportunity_updates_are_audited_and_reverted() {
    let (app, t) = setup().await;
    let (_, stages) = default_pipeline(&app, &t).await;
    let id = create_opportunity(
        &app,
        &t,
        json!({"title": "Audit me", "value": {"amount": "100", "currency": "EUR"}}),
    )
    .await;
    gql(&app, &t, "mutation($id: ID!) { updateOpportunity(id: $id, input: {title: \"Renamed\", value: {amount: \"250\", currency: \"EUR\"}}) { id } }", json!({"id": id})).await.ok();
    gql(
        &app,
        &t,
        "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
        json!({"id": id, "s": stage(&stages, "Proposal")}),
    )
    .await
    .ok();
    let history = "query($id: ID!) { history(entityId: $id) { totalCount edges { node { id action revertOf actor { id } changes { field before after } } } } }";
    let entries = gql(&app, &t, history, json!({"id": id})).await;
    let nodes: Vec<Value> = entries
        .ok()
        .data("history.edges")
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let actions: Vec<&str> = nodes
        .iter()
        .map(|n| n["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(actions, vec!["CREATE", "UPDATE", "UPDATE"]);
    let update = &nodes[1];
    let fields: Vec<&str> = update["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["field"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(fields, vec!["title", "valueAmount"]);
    assert_eq!(update["changes"][0]["before"], "Audit me");
    assert!(update["actor"]["id"].is_string());

    let revert = gql(
        &app,
        &t,
        "mutation($e: ID!) { revert(auditEntryId: $e) { action revertOf } }",
        json!({"e": update["id"]}),
    )
    .await;
    assert_eq!(revert.ok().str("revert.action"), "REVERT");
    assert_eq!(revert.data("revert.revertOf"), &update["id"]);
    let reverted = opportunity(&app, &t, &id).await;
    assert_eq!(reverted["title"], "Audit me");
    assert_eq!(reverted["value"]["amount"], "100.00");
    assert_eq!(
        reverted["stage"]["name"], "Proposal",
        "the later move is kept"
    );
    let create_entry = gql(
        &app,
        &t,
        "mutation($e: ID!) { revert(auditEntryId: $e) { action } }",
        json!({"e": nodes[0]["id"]}),
    )
    .await;
    assert_eq!(create_entry.error_code(), "BAD_USER_INPUT");
    let unknown = gql(
        &app,
        &t,
        "mutation($e: ID!) { revert(auditEntryId: $e) { action } }",
        json!({"e": uuid::Uuid::now_v7().to_string()}),
    )
    .await;
    assert_eq!(unknown.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn pipeline_authorization_matrix() {
    let (app, t) = setup().await;
    let (pipeline, stages) = default_pipeline(&app, &t).await;
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let (_, support) = app.add_user(&t, "SUPPORT").await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    let create = "mutation { createOpportunity(input: {title: \"x\", value: {amount: 1, currency: \"EUR\"}}) { id } }";
    let as_user = |token: &str, query: &str, vars: Value| {
        let token = token.to_owned();
        let query = query.to_owned();
        let app = &app;
        let host = t.host.clone();
        async move { app.gql(&host, Some(&token), &query, vars).await }
    };
    assert_eq!(
        as_user(&viewer, create, json!({})).await.error_code(),
        "FORBIDDEN"
    );
    as_user(&viewer, BOARD, json!({"id": pipeline})).await.ok();
    let by_sales = as_user(&sales, create, json!({}))
        .await
        .ok()
        .str("createOpportunity.id");
    as_user(&support, create, json!({})).await.ok();
    let move_to = "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }";
    assert_eq!(
        as_user(
            &viewer,
            move_to,
            json!({"id": by_sales, "s": stage(&stages, "Qualified")})
        )
        .await
        .error_code(),
        "FORBIDDEN"
    );
    as_user(
        &support,
        move_to,
        json!({"id": by_sales, "s": stage(&stages, "Qualified")}),
    )
    .await
    .ok();
    let delete = "mutation($id: ID!) { deleteOpportunity(id: $id) }";
    assert_eq!(
        as_user(&sales, delete, json!({"id": by_sales}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let pipeline_mutation =
        "mutation { createPipeline(name: \"P\", stages: [{name: \"S\", probability: 5}]) { id } }";
    assert_eq!(
        as_user(&sales, pipeline_mutation, json!({}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    as_user(&manager, pipeline_mutation, json!({})).await.ok();
    as_user(&manager, delete, json!({"id": by_sales}))
        .await
        .ok();
    let anonymous = app.gql(&t.host, None, BOARD, json!({"id": pipeline})).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn another_tenant_sees_and_touches_nothing_of_the_pipeline() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    let (pipeline_a, stages_a) = default_pipeline(&app, &a).await;
    let (_, stages_b) = default_pipeline(&app, &b).await;
    let opp_a = create_opportunity(
        &app,
        &a,
        json!({"title": "Secret deal", "value": {"amount": "9", "currency": "EUR"}}),
    )
    .await;
    let activity = gql(&app, &a, "mutation($o: ID!) { logActivity(input: {kind: CALL, subject: \"Secret call\", opportunityId: $o}) { id } }", json!({"o": opp_a})).await;
    let activity_a = activity.ok().str("logActivity.id");

    let from_b = |query: &'static str, vars: Value| {
        let app = &app;
        let b = &b;
        async move { gql(app, b, query, vars).await }
    };
    for (query, vars) in [
        (
            "query($id: ID!) { pipeline(id: $id) { id } }",
            json!({"id": pipeline_a}),
        ),
        (
            "query($id: ID!) { opportunity(id: $id) { id } }",
            json!({"id": opp_a}),
        ),
        (
            "mutation($id: ID!, $s: ID!) { moveOpportunity(id: $id, stageId: $s) { id } }",
            json!({"id": opp_a, "s": stages_b[1].id}),
        ),
        (
            "mutation($id: ID!) { markWon(id: $id) { id } }",
            json!({"id": opp_a}),
        ),
        (
            "mutation($id: ID!) { deleteOpportunity(id: $id) }",
            json!({"id": opp_a}),
        ),
        (
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            json!({"id": activity_a}),
        ),
        (
            "mutation($id: ID!) { updateStage(id: $id, input: {name: \"Hijacked\"}) { id } }",
            json!({"id": stages_a[0].id}),
        ),
        (
            "query($p: ID!) { pipelineFigures(pipelineId: $p) { count } }",
            json!({"p": pipeline_a}),
        ),
    ] {
        assert_eq!(
            from_b(query, vars).await.error_code(),
            "NOT_FOUND",
            "{query}"
        );
    }
    let stage_of_a = from_b("mutation($s: ID!) { createOpportunity(input: {title: \"x\", stageId: $s, value: {amount: 1, currency: \"EUR\"}}) { id } }", json!({"s": stages_a[1].id})).await;
    assert_eq!(stage_of_a.error_code(), "NOT_FOUND");
    let lists = from_b(
        "{ opportunities(filter: {search: \"Secret\"}) { totalCount } activities { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(lists.ok().data("opportunities.totalCount"), 0);
    assert_eq!(lists.data("activities.totalCount"), 0);
    let history = from_b(
        "query($id: ID!) { history(entityId: $id) { totalCount } }",
        json!({"id": opp_a}),
    )
    .await;
    assert_eq!(history.ok().data("history.totalCount"), 0);

    let untouched = opportunity(&app, &a, &opp_a).await;
    assert_eq!(
        (
            untouched["status"].clone(),
            untouched["stage"]["name"].clone()
        ),
        (json!("OPEN"), json!("Lead"))
    );
    assert_eq!(stages_a[0].name, "Lead");
}
