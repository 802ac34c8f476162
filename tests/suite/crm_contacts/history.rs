//! The audit trail of contacts: history, and revert.

use super::*;

#[tokio::test]
async fn history_records_changes_and_revert_restores_them() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let owner_id = my_id(&app, &t.host, &owner).await;
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let created = create_contact(
        &app,
        &t,
        &owner,
        json!({
            "firstName": "Eve", "lastName": "Adams", "email": "eve@example.com",
            "phone": "+14155552671", "tags": ["alpha"], "customFields": { "k": 1 },
        }),
    )
    .await;
    let id = id_of(&created);

    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE"]);
    let create_entry = &entries[0];
    assert_eq!(create_entry["actor"]["id"], json!(owner_id));
    let first_name = change(create_entry, "firstName").expect("firstName recorded on create");
    assert!(first_name["before"].is_null());
    assert_eq!(first_name["after"], "Eve");
    assert_eq!(
        change(create_entry, "email").expect("email recorded")["after"],
        "eve@example.com"
    );

    let updated = update_contact(
        &app,
        &t.host,
        &sales,
        &id,
        json!({
            "lastName": "Baker", "email": "eve.baker@example.com", "status": "QUALIFIED",
            "tags": ["beta"],
        }),
    )
    .await;
    updated.ok();
    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE", "UPDATE"]);
    let update_entry = entries[1].clone();
    assert_eq!(update_entry["actor"]["id"], json!(sales_id));
    let last_name = change(&update_entry, "lastName").expect("lastName change");
    assert_eq!(
        (&last_name["before"], &last_name["after"]),
        (&json!("Adams"), &json!("Baker"))
    );
    let email = change(&update_entry, "email").expect("email change");
    assert_eq!(
        (&email["before"], &email["after"]),
        (&json!("eve@example.com"), &json!("eve.baker@example.com"))
    );
    assert!(change(&update_entry, "status").is_some(), "status change");
    assert!(change(&update_entry, "tags").is_some(), "tags change");
    for unchanged in ["firstName", "phone", "customFields", "source"] {
        assert!(
            change(&update_entry, unchanged).is_none(),
            "{unchanged} did not change: {update_entry:#}"
        );
    }

    // Reverting the update restores the earlier values and is itself recorded.
    let revert = "mutation($id: ID!) { revert(auditEntryId: $id) {
        id action revertOf entityId changes { field before after } actor { id } } }";
    let reverted = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": update_entry["id"] }),
        )
        .await;
    reverted.ok();
    assert_eq!(reverted.str("revert.action"), "REVERT");
    assert_eq!(reverted.data("revert.revertOf"), &update_entry["id"]);
    assert_eq!(reverted.str("revert.entityId"), id);
    let read = read_contact(&app, &t.host, &owner, &id).await;
    assert_eq!(read["lastName"], "Adams");
    assert_eq!(read["email"], "eve@example.com");
    assert_eq!(read["status"], "NEW");
    assert_eq!(read["tags"], json!(["alpha"]));
    assert_eq!(read["firstName"], "Eve");
    assert_eq!(read["phone"], "+14155552671");
    assert_eq!(read["customFields"], json!({ "k": 1 }));
    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE", "UPDATE", "REVERT"]);
    let revert_entry = &entries[2];
    assert_eq!(revert_entry["revertOf"], update_entry["id"]);
    assert_eq!(revert_entry["actor"]["id"], json!(owner_id));
    let last_name = change(revert_entry, "lastName").expect("lastName restored");
    assert_eq!(
        (&last_name["before"], &last_name["after"]),
        (&json!("Baker"), &json!("Adams"))
    );
    // The email freed by the revert can be taken by another contact, and the restored one
    // is still unique.
    create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Other", "email": "eve.baker@example.com" }),
    )
    .await;
    let taken = try_create_contact(
        &app,
        &t.host,
        &owner,
        json!({ "firstName": "Other", "email": "eve@example.com" }),
    )
    .await;
    assert_bad_input(&taken, "email", "the restored email is taken");

    // A create cannot be reverted; nothing changes.
    let refused = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": create_entry["id"] }),
        )
        .await;
    assert_bad_input(&refused, "auditEntryId", "reverting a CREATE");
    let unknown = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_code(&unknown, "NOT_FOUND", "reverting an unknown entry");
    let malformed = app
        .gql(&t.host, Some(&owner), revert, json!({ "id": "42" }))
        .await;
    assert_bad_input(&malformed, "auditEntryId", "reverting a malformed id");
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let by_viewer = app
        .gql(
            &t.host,
            Some(&viewer),
            revert,
            json!({ "id": update_entry["id"] }),
        )
        .await;
    assert_code(&by_viewer, "FORBIDDEN", "a viewer reverting");
    assert_eq!(read_contact(&app, &t.host, &owner, &id).await, read);
    assert_eq!(
        actions(&history(&app, &t.host, &owner, &id).await),
        ["CREATE", "UPDATE", "REVERT"]
    );

    // Deleting is recorded too, and cannot be reverted.
    delete_contact(&app, &t.host, &owner, &id).await.ok();
    let entries = history(&app, &t.host, &owner, &id).await;
    assert_eq!(actions(&entries), ["CREATE", "UPDATE", "REVERT", "DELETE"]);
    let delete_entry = &entries[3];
    assert_eq!(
        change(delete_entry, "lastName").expect("lastName on delete")["before"],
        "Adams"
    );
    let refused = app
        .gql(
            &t.host,
            Some(&owner),
            revert,
            json!({ "id": delete_entry["id"] }),
        )
        .await;
    assert_bad_input(&refused, "auditEntryId", "reverting a DELETE");
    let gone = get_contact(&app, &t.host, &owner, &id).await;
    assert_code(
        &gone,
        "NOT_FOUND",
        "a reverted delete would have restored it",
    );
    // The deleted contact's email is free again.
    create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Eve", "email": "EVE@example.com" }),
    )
    .await;
}
