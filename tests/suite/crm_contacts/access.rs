//! Who may change contacts: roles, and another tenant that sees and changes nothing.

use super::*;

#[tokio::test]
async fn roles_decide_who_may_create_update_and_delete() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let target = create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Target", "lastName": "Person" }),
    )
    .await;
    let target_id = id_of(&target);
    let create_company_query =
        "mutation($input: CreateCompanyInput!) { createCompany(input: $input) { id } }";
    let delete_company_query = "mutation($id: ID!) { deleteCompany(id: $id) }";

    // Anonymous callers are unauthenticated, for reads and writes.
    for (case, query, variables) in [
        ("contacts", "{ contacts { totalCount } }", json!({})),
        (
            "contact",
            "query($id: ID!) { contact(id: $id) { id } }",
            json!({ "id": target_id }),
        ),
        ("companies", "{ companies { totalCount } }", json!({})),
        (
            "createContact",
            "mutation($input: CreateContactInput!) { createContact(input: $input) { id } }",
            json!({ "input": { "firstName": "Anon" } }),
        ),
        (
            "deleteContact",
            "mutation($id: ID!) { deleteContact(id: $id) }",
            json!({ "id": target_id }),
        ),
    ] {
        let reply = app.gql(&t.host, None, query, variables).await;
        assert_code(&reply, "UNAUTHENTICATED", case);
    }

    for role in ["VIEWER", "SUPPORT", "SALES", "MANAGER", "ADMIN"] {
        let (_, token) = app.add_user(&t, role).await;
        let writes = role != "VIEWER";
        let deletes = matches!(role, "MANAGER" | "ADMIN");

        // Everyone signed in reads.
        let count = contact_count(&app, &t.host, &token).await;
        read_contact(&app, &t.host, &token, &target_id).await;
        app.gql(
            &t.host,
            Some(&token),
            "{ companies { totalCount } }",
            json!({}),
        )
        .await
        .ok();

        let created = try_create_contact(
            &app,
            &t.host,
            &token,
            json!({ "firstName": format!("By{role}") }),
        )
        .await;
        let updated = update_contact(
            &app,
            &t.host,
            &token,
            &target_id,
            json!({ "lastName": format!("Edited by {role}") }),
        )
        .await;
        let company = app
            .gql(
                &t.host,
                Some(&token),
                create_company_query,
                json!({ "input": { "name": format!("{role} Co") } }),
            )
            .await;
        if writes {
            created.ok();
            updated.ok();
            company.ok();
            assert_eq!(
                contact_count(&app, &t.host, &owner).await,
                count + 1,
                "{role}"
            );
            let read = read_contact(&app, &t.host, &owner, &target_id).await;
            assert_eq!(read["lastName"], json!(format!("Edited by {role}")));
        } else {
            assert_code(&created, "FORBIDDEN", &format!("{role} createContact"));
            assert_code(&updated, "FORBIDDEN", &format!("{role} updateContact"));
            assert_code(&company, "FORBIDDEN", &format!("{role} createCompany"));
            assert_eq!(contact_count(&app, &t.host, &owner).await, count, "{role}");
            let read = read_contact(&app, &t.host, &owner, &target_id).await;
            assert_eq!(read["lastName"], "Person", "{role} changed nothing");
        }

        // Deleting: a victim contact and company made by the owner for each role.
        let victim = create_contact(
            &app,
            &t,
            &owner,
            json!({ "firstName": format!("Victim of {role}") }),
        )
        .await;
        let victim_company = create_company(
            &app,
            &t.host,
            &owner,
            json!({ "name": format!("Victim Co of {role}") }),
        )
        .await;
        let deleted = delete_contact(&app, &t.host, &token, &id_of(&victim)).await;
        let deleted_company = app
            .gql(
                &t.host,
                Some(&token),
                delete_company_query,
                json!({ "id": id_of(&victim_company) }),
            )
            .await;
        let still_there = get_contact(&app, &t.host, &owner, &id_of(&victim)).await;
        if deletes {
            assert_eq!(deleted.ok().str("deleteContact"), id_of(&victim));
            deleted_company.ok();
            assert_code(&still_there, "NOT_FOUND", &format!("deleted by {role}"));
        } else {
            assert_code(&deleted, "FORBIDDEN", &format!("{role} deleteContact"));
            assert_code(
                &deleted_company,
                "FORBIDDEN",
                &format!("{role} deleteCompany"),
            );
            still_there.ok();
        }
    }

    // The owner deletes too.
    delete_contact(&app, &t.host, &owner, &target_id).await.ok();
    let gone = get_contact(&app, &t.host, &owner, &target_id).await;
    assert_code(&gone, "NOT_FOUND", "deleted by the owner");
    let twice = delete_contact(&app, &t.host, &owner, &target_id).await;
    assert_code(&twice, "NOT_FOUND", "deleted twice");
}

#[tokio::test]
async fn another_tenant_never_sees_or_changes_a_tenants_contacts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    let (a_token, b_token) = (a.owner_token.clone(), b.owner_token.clone());

    let a_company = create_company(&app, &a.host, &a_token, json!({ "name": "Secretco" })).await;
    let a_company_id = id_of(&a_company);
    let secret = create_contact(
        &app,
        &a,
        &a_token,
        json!({
            "firstName": "Zed", "lastName": "Secret", "email": "zed@secret.example",
            "phone": "+14155552671", "tags": ["classified"], "status": "CUSTOMER",
            "source": "REFERRAL", "companyId": a_company_id,
        }),
    )
    .await;
    let secret_id = id_of(&secret);
    update_contact(
        &app,
        &a.host,
        &a_token,
        &secret_id,
        json!({ "status": "QUALIFIED" }),
    )
    .await
    .ok();
    let a_history = history(&app, &a.host, &a_token, &secret_id).await;
    assert_eq!(actions(&a_history), ["CREATE", "UPDATE"]);
    let a_update_entry = text(&a_history[1]["id"]);
    let a_before = read_contact(&app, &a.host, &a_token, &secret_id).await;

    // B has a contact of its own, and may reuse A's email: uniqueness is per tenant.
    let own = create_contact(
        &app,
        &b,
        &b_token,
        json!({ "firstName": "Bea", "email": "zed@secret.example" }),
    )
    .await;
    let own_id = id_of(&own);

    let a_owner_id = my_id(&app, &a.host, &a_token).await;
    let own_only = vec![own_id.clone()];
    for (case, filter, expected) in [
        ("no filter", json!({}), own_only.clone()),
        // B's own contact has the same email, so it matches these searches.
        (
            "search by last name",
            json!({ "search": "secret" }),
            own_only.clone(),
        ),
        (
            "search by first name",
            json!({ "search": "zed" }),
            own_only.clone(),
        ),
        ("search by phone", json!({ "search": "5552671" }), vec![]),
        ("tag", json!({ "tag": "classified" }), vec![]),
        (
            "status",
            json!({ "status": ["QUALIFIED", "CUSTOMER"] }),
            vec![],
        ),
        ("source", json!({ "source": ["REFERRAL"] }), vec![]),
        ("A's company", json!({ "companyId": a_company_id }), vec![]),
        ("A's owner", json!({ "ownerId": a_owner_id }), vec![]),
    ] {
        let found = matching(&app, &b.host, &b_token, filter).await;
        assert_eq!(found, expected, "{case}");
    }
    let companies = app
        .gql(
            &b.host,
            Some(&b_token),
            "query($s: String) { companies(filter: { search: $s }) { totalCount edges { node { id } } } }",
            json!({ "s": "secret" }),
        )
        .await;
    assert_eq!(companies.ok().data("companies.totalCount"), &json!(0));
    let all_companies = app
        .gql(
            &b.host,
            Some(&b_token),
            "{ companies { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(all_companies.ok().data("companies.totalCount"), &json!(0));

    let read = get_contact(&app, &b.host, &b_token, &secret_id).await;
    assert_code(&read, "NOT_FOUND", "B reading A's contact");
    assert!(
        read.body["data"].is_null() || read.body["data"]["contact"].is_null(),
        "{:#}",
        read.body
    );
    let company = app
        .gql(
            &b.host,
            Some(&b_token),
            "query($id: ID!) { company(id: $id) { id name } }",
            json!({ "id": a_company_id }),
        )
        .await;
    assert_code(&company, "NOT_FOUND", "B reading A's company");
    assert!(
        history(&app, &b.host, &b_token, &secret_id)
            .await
            .is_empty(),
        "B sees none of A's history"
    );
    assert!(
        history(&app, &b.host, &b_token, &a_company_id)
            .await
            .is_empty()
    );

    // Writes with A's ids from B are NOT_FOUND and change nothing in A.
    let update = update_contact(
        &app,
        &b.host,
        &b_token,
        &secret_id,
        json!({ "firstName": "Hacked", "email": "hacked@b.example" }),
    )
    .await;
    assert_code(&update, "NOT_FOUND", "B updating A's contact");
    let delete = delete_contact(&app, &b.host, &b_token, &secret_id).await;
    assert_code(&delete, "NOT_FOUND", "B deleting A's contact");
    let update_company = app
        .gql(
            &b.host,
            Some(&b_token),
            "mutation($id: ID!) { updateCompany(id: $id, input: { name: \"Hacked\" }) { id } }",
            json!({ "id": a_company_id }),
        )
        .await;
    assert_code(&update_company, "NOT_FOUND", "B updating A's company");
    let delete_company = app
        .gql(
            &b.host,
            Some(&b_token),
            "mutation($id: ID!) { deleteCompany(id: $id) }",
            json!({ "id": a_company_id }),
        )
        .await;
    assert_code(&delete_company, "NOT_FOUND", "B deleting A's company");
    let link = try_create_contact(
        &app,
        &b.host,
        &b_token,
        json!({ "firstName": "Linker", "companyId": a_company_id }),
    )
    .await;
    assert_code(&link, "NOT_FOUND", "B linking to A's company");
    let relink = update_contact(
        &app,
        &b.host,
        &b_token,
        &own_id,
        json!({ "companyId": a_company_id }),
    )
    .await;
    assert_code(&relink, "NOT_FOUND", "B moving its contact to A's company");
    let revert = app
        .gql(
            &b.host,
            Some(&b_token),
            "mutation($id: ID!) { revert(auditEntryId: $id) { id } }",
            json!({ "id": a_update_entry }),
        )
        .await;
    assert_code(&revert, "NOT_FOUND", "B reverting A's audit entry");

    let a_after = read_contact(&app, &a.host, &a_token, &secret_id).await;
    assert_eq!(a_after, a_before, "A's contact is unchanged");
    assert_eq!(
        actions(&history(&app, &a.host, &a_token, &secret_id).await),
        ["CREATE", "UPDATE"]
    );
    assert_eq!(
        actions(&history(&app, &a.host, &a_token, &a_company_id).await),
        ["CREATE"]
    );
    let a_company_read = app
        .gql(
            &a.host,
            Some(&a_token),
            "query($id: ID!) { company(id: $id) { name contacts { id } } }",
            json!({ "id": a_company_id }),
        )
        .await;
    a_company_read.ok();
    assert_eq!(a_company_read.str("company.name"), "Secretco");
    assert_eq!(
        a_company_read.data("company.contacts"),
        &json!([{ "id": secret_id }])
    );
    assert_eq!(contact_count(&app, &a.host, &a_token).await, 1);
    assert_eq!(contact_count(&app, &b.host, &b_token).await, 1);
}
