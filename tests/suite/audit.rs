//! One revert for every audited kind: each vertical registers how its updates are undone and
//! who may undo them; the history and the revert are served once.

use serde_json::{Value, json};
use tests::{
    TestApp, TestTenant,
    crm::{create_company, create_contact},
    spawn_app,
};

const REVERT: &str =
    "mutation($e: ID!) { revert(auditEntryId: $e) { action revertOf entityType } }";

/// The id of the newest entry about `entity_id`, which must be an update.
async fn last_update(app: &TestApp, t: &TestTenant, entity_id: &str) -> String {
    let reply = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "query($id: ID!) { history(entityId: $id) { nodes { id action } } }",
            json!({ "id": entity_id }),
        )
        .await;
    let nodes = reply.ok().data("history.nodes").clone();
    let last = nodes.as_array().and_then(|n| n.last()).expect("an entry");
    assert_eq!(last["action"], "UPDATE", "{nodes:#}");
    last["id"].as_str().expect("id").to_owned()
}

async fn revert(app: &TestApp, t: &TestTenant, token: &str, entry: &str) -> tests::Reply {
    app.gql(&t.host, Some(token), REVERT, json!({ "e": entry }))
        .await
}

async fn owner(app: &TestApp, t: &TestTenant, query: &str, variables: Value) -> Value {
    let reply = app
        .gql(&t.host, Some(&t.owner_token), query, variables)
        .await;
    reply.ok();
    reply.body["data"].clone()
}

#[tokio::test]
async fn a_company_update_is_reverted_field_by_field() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let company = create_company(
        &app,
        &t.host,
        &t.owner_token,
        json!({"name": "Acme", "domain": "acme.com", "size": "SMALL",
               "address": {"city": "Lyon"}}),
        "id",
    )
    .await;
    let id = company["id"].as_str().expect("id").to_owned();
    owner(
        &app,
        &t,
        "mutation($id: ID!) { updateCompany(id: $id, input: {name: \"Acme Group\", domain: null, size: LARGE, address: {city: \"Paris\"}}) { id } }",
        json!({ "id": id }),
    )
    .await;
    let entry = last_update(&app, &t, &id).await;
    let reverted = revert(&app, &t, &t.owner_token, &entry).await;
    assert_eq!(reverted.ok().str("revert.action"), "REVERT");
    assert_eq!(reverted.str("revert.entityType"), "COMPANY");
    let now = owner(
        &app,
        &t,
        "query($id: ID!) { company(id: $id) { name domain size address { city } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        now["company"],
        json!({"name": "Acme", "domain": "acme.com", "size": "SMALL", "address": {"city": "Lyon"}})
    );
}

#[tokio::test]
async fn pipelines_and_stages_are_reverted_by_managers_only() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    let pipeline = owner(
        &app,
        &t,
        "{ pipelines { id name stages { id name probability kind } } }",
        json!({}),
    )
    .await["pipelines"][0]
        .clone();
    let pipeline_id = pipeline["id"].as_str().expect("id").to_owned();
    let stage = pipeline["stages"][1].clone();
    let stage_id = stage["id"].as_str().expect("id").to_owned();

    owner(
        &app,
        &t,
        "mutation($id: ID!) { renamePipeline(id: $id, name: \"Renamed\") { id } }",
        json!({ "id": pipeline_id }),
    )
    .await;
    owner(
        &app,
        &t,
        "mutation($id: ID!) { updateStage(id: $id, input: {name: \"Later\", probability: 5}) { id } }",
        json!({ "id": stage_id }),
    )
    .await;
    let pipeline_entry = last_update(&app, &t, &pipeline_id).await;
    let stage_entry = last_update(&app, &t, &stage_id).await;

    for entry in [&pipeline_entry, &stage_entry] {
        let refused = revert(&app, &t, &sales, entry).await;
        assert_eq!(refused.error_code(), "FORBIDDEN", "sales reverting {entry}");
    }
    let after_refusals = owner(
        &app,
        &t,
        "query($id: ID!) { pipeline(id: $id) { name stages { name probability } } }",
        json!({ "id": pipeline_id }),
    )
    .await;
    assert_eq!(after_refusals["pipeline"]["name"], "Renamed");
    assert_eq!(after_refusals["pipeline"]["stages"][1]["name"], "Later");

    for entry in [&pipeline_entry, &stage_entry] {
        revert(&app, &t, &manager, entry).await.ok();
    }
    let restored = owner(
        &app,
        &t,
        "query($id: ID!) { pipeline(id: $id) { name stages { name probability kind } } }",
        json!({ "id": pipeline_id }),
    )
    .await;
    assert_eq!(restored["pipeline"]["name"], pipeline["name"]);
    assert_eq!(
        restored["pipeline"]["stages"][1],
        stage
            .as_object()
            .map(|s| json!({"name": s["name"], "probability": s["probability"], "kind": s["kind"]}))
            .expect("stage")
    );
}

#[tokio::test]
async fn a_completed_task_is_reopened_by_its_revert() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let contact = create_contact(&app, &t, json!({"firstName": "Ann"})).await;
    let task = owner(
        &app,
        &t,
        "mutation($c: ID!) { logActivity(input: {kind: TASK, subject: \"Call back\", contactId: $c}) { id completedAt } }",
        json!({ "c": contact }),
    )
    .await["logActivity"]
        .clone();
    assert!(task["completedAt"].is_null());
    let id = task["id"].as_str().expect("id").to_owned();
    let done = owner(
        &app,
        &t,
        "mutation($id: ID!) { completeTask(id: $id) { completedAt } }",
        json!({ "id": id }),
    )
    .await;
    assert!(done["completeTask"]["completedAt"].is_string());
    let entry = last_update(&app, &t, &id).await;
    revert(&app, &t, &t.owner_token, &entry).await.ok();
    let open = owner(
        &app,
        &t,
        "{ activities { nodes { id completedAt overdue } } }",
        json!({}),
    )
    .await;
    let row = open["activities"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["id"] == json!(id)))
        .cloned()
        .expect("the task");
    assert!(row["completedAt"].is_null(), "{row:#}");

    // The revert announced the task as updated, not completed.
    let events = owner(
        &app,
        &t,
        "{ events(types: [\"activity.completed\", \"activity.updated\"]) { nodes { type entityId } } }",
        json!({}),
    )
    .await;
    let types: Vec<&str> = events["events"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|e| e["entityId"] == json!(id))
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, ["activity.completed", "activity.updated"]);
}
