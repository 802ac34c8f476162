//! Creating, validating and updating a contact, field by field.

use super::*;

#[tokio::test]
async fn a_contact_is_created_with_every_field_and_read_back_normalised() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let company = create_company(&app, &t.host, &sales, json!({ "name": "Acme Corp" })).await;

    let created = create_contact(
        &app,
        &t,
        &sales,
        json!({
            "firstName": "Ann",
            "lastName": "Smith",
            "email": "Ann.Smith@Example.COM",
            "phone": "+1 (415) 555-2671",
            "companyId": id_of(&company),
            "source": "REFERRAL",
            "status": "QUALIFIED",
            "tags": ["VIP", "vip", "West Coast", "Vip"],
            "customFields": { "budget": 5000, "region": "west", "nested": { "a": [1, 2] } },
        }),
    )
    .await;
    let id = id_of(&created);
    let read = read_contact(&app, &t.host, &sales, &id).await;
    for contact in [&created, &read] {
        assert_eq!(contact["id"], json!(id));
        assert_eq!(contact["firstName"], "Ann");
        assert_eq!(contact["lastName"], "Smith");
        assert_eq!(contact["fullName"], "Ann Smith");
        assert_eq!(contact["email"], "ann.smith@example.com");
        assert_eq!(contact["phone"], "+14155552671");
        assert_eq!(contact["source"], "REFERRAL");
        assert_eq!(contact["status"], "QUALIFIED");
        assert_eq!(
            sorted_strings(&contact["tags"]),
            vec!["vip".to_owned(), "west coast".to_owned()],
            "tags lowercased and deduplicated: {contact:#}"
        );
        assert_eq!(
            contact["customFields"],
            json!({ "budget": 5000, "region": "west", "nested": { "a": [1, 2] } })
        );
        assert_eq!(
            contact["owner"]["id"],
            json!(sales_id),
            "owner is the caller"
        );
        assert_eq!(contact["company"]["id"], company["id"]);
        assert_eq!(contact["company"]["name"], "Acme Corp");
        assert!(contact["createdAt"].is_string());
    }

    // Defaults: status NEW, source OTHER, no tags, an empty object of custom fields.
    let minimal = create_contact(&app, &t, &t.owner_token, json!({ "firstName": "Bo" })).await;
    assert_eq!(minimal["status"], "NEW");
    assert_eq!(minimal["source"], "OTHER");
    assert_eq!(minimal["tags"], json!([]));
    assert_eq!(minimal["customFields"], json!({}));
    assert_eq!(minimal["fullName"], "Bo");
    assert!(minimal["lastName"].is_null());
    assert!(minimal["email"].is_null());
    assert!(minimal["phone"].is_null());
    assert!(minimal["company"].is_null());
    let owner_id = my_id(&app, &t.host, &t.owner_token).await;
    assert_eq!(minimal["owner"]["id"], json!(owner_id));

    // An explicit owner other than the caller.
    let assigned = create_contact(
        &app,
        &t,
        &t.owner_token,
        json!({ "firstName": "Cy", "ownerId": sales_id, "phone": "0044 20 7946 0958" }),
    )
    .await;
    assert_eq!(assigned["owner"]["id"], json!(sales_id));
    assert_eq!(assigned["phone"], "+442079460958");

    assert_eq!(contact_count(&app, &t.host, &sales).await, 3);
}

#[tokio::test]
async fn invalid_contact_input_is_refused_and_creates_nothing() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let token = t.owner_token.clone();
    create_contact(
        &app,
        &t,
        &token,
        json!({ "firstName": "Dee", "email": "dup@example.com" }),
    )
    .await;
    let before = contact_count(&app, &t.host, &token).await;
    assert_eq!(before, 1);

    let cases = [
        (
            "invalid email",
            json!({ "firstName": "X", "email": "not-an-email" }),
            "email",
        ),
        (
            "phone without country code",
            json!({ "firstName": "X", "phone": "(415) 555-2671" }),
            "phone",
        ),
        (
            "phone that is not a number",
            json!({ "firstName": "X", "phone": "call me" }),
            "phone",
        ),
        ("empty firstName", json!({ "firstName": "" }), "firstName"),
        (
            "blank firstName",
            json!({ "firstName": "   " }),
            "firstName",
        ),
        (
            "customFields a list",
            json!({ "firstName": "X", "customFields": [1, 2] }),
            "customFields",
        ),
        (
            "customFields a string",
            json!({ "firstName": "X", "customFields": "budget=5" }),
            "customFields",
        ),
        (
            "customFields a number",
            json!({ "firstName": "X", "customFields": 5 }),
            "customFields",
        ),
        (
            "duplicate email",
            json!({ "firstName": "X", "email": "dup@example.com" }),
            "email",
        ),
        (
            "duplicate email in another case",
            json!({ "firstName": "X", "email": "DUP@Example.com" }),
            "email",
        ),
        (
            "malformed companyId",
            json!({ "firstName": "X", "companyId": "42" }),
            "companyId",
        ),
        (
            "malformed ownerId",
            json!({ "firstName": "X", "ownerId": "42" }),
            "ownerId",
        ),
    ];
    for (case, input, field) in cases {
        let reply = try_create_contact(&app, &t.host, &token, input).await;
        assert_bad_input(&reply, field, case);
        assert!(
            reply.body["data"].is_null() || reply.body["data"]["createContact"].is_null(),
            "{case}: {:#}",
            reply.body
        );
    }

    let unknown_company = try_create_contact(
        &app,
        &t.host,
        &token,
        json!({ "firstName": "X", "companyId": uuid::Uuid::now_v7().to_string() }),
    )
    .await;
    assert_code(&unknown_company, "NOT_FOUND", "unknown companyId");
    let unknown_owner = try_create_contact(
        &app,
        &t.host,
        &token,
        json!({ "firstName": "X", "ownerId": uuid::Uuid::now_v7().to_string() }),
    )
    .await;
    assert_code(&unknown_owner, "NOT_FOUND", "unknown ownerId");

    assert_eq!(
        contact_count(&app, &t.host, &token).await,
        before,
        "nothing was created by refused input"
    );

    // Malformed and unknown ids on reads, updates and deletes.
    let malformed = get_contact(&app, &t.host, &token, "42").await;
    assert_bad_input(&malformed, "id", "contact(id: \"42\")");
    let unknown = get_contact(&app, &t.host, &token, &uuid::Uuid::now_v7().to_string()).await;
    assert_code(&unknown, "NOT_FOUND", "contact with an unknown id");
    let update_malformed =
        update_contact(&app, &t.host, &token, "42", json!({ "firstName": "Y" })).await;
    assert_bad_input(&update_malformed, "id", "updateContact(id: \"42\")");
    let delete_malformed = delete_contact(&app, &t.host, &token, "42").await;
    assert_bad_input(&delete_malformed, "id", "deleteContact(id: \"42\")");
    let delete_unknown =
        delete_contact(&app, &t.host, &token, &uuid::Uuid::now_v7().to_string()).await;
    assert_code(
        &delete_unknown,
        "NOT_FOUND",
        "deleteContact with an unknown id",
    );
    assert_eq!(contact_count(&app, &t.host, &token).await, before);
}

#[tokio::test]
async fn an_update_changes_only_the_given_fields_and_null_clears() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let token = t.owner_token.clone();
    let company = create_company(&app, &t.host, &token, json!({ "name": "Globex" })).await;
    let original = create_contact(
        &app,
        &t,
        &token,
        json!({
            "firstName": "Ann",
            "lastName": "Smith",
            "email": "ann@example.com",
            "phone": "+14155552671",
            "companyId": id_of(&company),
            "source": "WEBSITE",
            "status": "NEW",
            "tags": ["vip", "west"],
            "customFields": { "budget": 5000 },
        }),
    )
    .await;
    let id = id_of(&original);
    let other = create_contact(
        &app,
        &t,
        &token,
        json!({ "firstName": "Other", "email": "other@example.com" }),
    )
    .await;

    // Only the first name and the status: everything else stays.
    let renamed = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "firstName": "Annie", "status": "CONTACTED" }),
    )
    .await;
    let renamed = renamed.ok().data("updateContact").clone();
    let read = read_contact(&app, &t.host, &token, &id).await;
    for contact in [&renamed, &read] {
        assert_eq!(contact["firstName"], "Annie");
        assert_eq!(contact["fullName"], "Annie Smith");
        assert_eq!(contact["status"], "CONTACTED");
        for field in [
            "lastName",
            "email",
            "phone",
            "source",
            "customFields",
            "company",
            "owner",
            "createdAt",
        ] {
            assert_eq!(contact[field], original[field], "{field} kept");
        }
        assert_eq!(
            sorted_strings(&contact["tags"]),
            sorted_strings(&original["tags"])
        );
    }
    let created_at: DateTime<Utc> = text(&original["createdAt"]).parse().expect("timestamp");
    let updated_at: DateTime<Utc> = text(&read["updatedAt"]).parse().expect("timestamp");
    assert!(updated_at >= created_at);

    // null clears lastName and phone; tags and custom fields are replaced; the email is
    // normalised.
    let cleared = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({
            "lastName": null,
            "phone": null,
            "email": "Annie@Example.COM",
            "tags": ["Gold", "gold", "East"],
            "customFields": { "tier": "gold" },
        }),
    )
    .await;
    cleared.ok();
    let read = read_contact(&app, &t.host, &token, &id).await;
    assert!(read["lastName"].is_null(), "{read:#}");
    assert!(read["phone"].is_null(), "{read:#}");
    assert_eq!(read["fullName"], "Annie");
    assert_eq!(read["email"], "annie@example.com");
    assert_eq!(
        sorted_strings(&read["tags"]),
        vec!["east".to_owned(), "gold".to_owned()]
    );
    assert_eq!(read["customFields"], json!({ "tier": "gold" }));
    assert_eq!(read["status"], "CONTACTED");
    assert_eq!(read["company"]["id"], company["id"]);

    // The contact's own email in another case is not a duplicate.
    let same_email = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "email": "ANNIE@example.com" }),
    )
    .await;
    assert_eq!(
        same_email.ok().data("updateContact.email"),
        "annie@example.com"
    );

    // A phone in another notation is stored as E.164; companyId null unlinks the company;
    // an empty tag list removes every tag.
    update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "phone": "+44 20 7946 0958", "companyId": null, "tags": [] }),
    )
    .await
    .ok();
    let read = read_contact(&app, &t.host, &token, &id).await;
    assert_eq!(read["phone"], "+442079460958");
    assert!(read["company"].is_null(), "{read:#}");
    assert_eq!(read["tags"], json!([]));

    // Refused updates change nothing.
    let before = read.clone();
    for (case, input, field) in [
        ("empty firstName", json!({ "firstName": "" }), "firstName"),
        ("invalid email", json!({ "email": "nope" }), "email"),
        (
            "another contact's email",
            json!({ "email": other["email"].clone() }),
            "email",
        ),
        (
            "phone without country code",
            json!({ "phone": "555 0100" }),
            "phone",
        ),
        (
            "customFields not an object",
            json!({ "customFields": ["a"] }),
            "customFields",
        ),
        (
            "malformed companyId",
            json!({ "companyId": "42" }),
            "companyId",
        ),
    ] {
        let reply = update_contact(&app, &t.host, &token, &id, input).await;
        assert_bad_input(&reply, field, case);
    }
    let unknown_company = update_contact(
        &app,
        &t.host,
        &token,
        &id,
        json!({ "companyId": uuid::Uuid::now_v7().to_string(), "firstName": "Changed" }),
    )
    .await;
    assert_code(&unknown_company, "NOT_FOUND", "unknown companyId");
    let after = read_contact(&app, &t.host, &token, &id).await;
    assert_eq!(after, before, "refused updates left the contact as it was");
}
