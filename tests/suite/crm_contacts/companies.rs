//! Companies: created, listed, updated and deleted, keeping their contacts.

use super::*;

#[tokio::test]
async fn companies_are_created_listed_updated_and_deleted_keeping_their_contacts() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;

    let acme = create_company(
        &app,
        &t.host,
        &sales,
        json!({
            "name": "Acme Corp", "domain": "acme.example", "industry": "Software",
            "size": "MEDIUM", "address": { "city": "Lisbon", "country": "PT" },
        }),
    )
    .await;
    assert_eq!(acme["name"], "Acme Corp");
    assert_eq!(acme["domain"], "acme.example");
    assert_eq!(acme["industry"], "Software");
    assert_eq!(acme["size"], "MEDIUM");
    assert_eq!(
        acme["address"],
        json!({ "city": "Lisbon", "country": "PT" })
    );
    assert_eq!(acme["owner"]["id"], json!(sales_id), "owner is the caller");
    let acme_id = id_of(&acme);
    create_company(&app, &t.host, &owner, json!({ "name": "Beta Industries" })).await;
    let labs = create_company(&app, &t.host, &owner, json!({ "name": "acme Labs" })).await;

    // The list, by name, and searched.
    let list = "query($filter: CompanyFilterInput, $first: Int, $after: String) {
        companies(filter: $filter, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage } edges { cursor node { id name } } } }";
    let names = |reply: &Reply| -> Vec<String> {
        reply
            .ok()
            .data("companies.edges")
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| text(&e["node"]["name"]))
            .collect()
    };
    let all = app.gql(&t.host, Some(&owner), list, json!({})).await;
    assert_eq!(names(&all), ["Acme Corp", "acme Labs", "Beta Industries"]);
    assert_eq!(all.data("companies.totalCount"), &json!(3));
    let searched = app
        .gql(
            &t.host,
            Some(&sales),
            list,
            json!({ "filter": { "search": "ACME" } }),
        )
        .await;
    assert_eq!(names(&searched), ["Acme Corp", "acme Labs"]);
    assert_eq!(searched.data("companies.totalCount"), &json!(2));
    let part = app
        .gql(
            &t.host,
            Some(&owner),
            list,
            json!({ "filter": { "search": "dust" } }),
        )
        .await;
    assert_eq!(names(&part), ["Beta Industries"]);
    let none = app
        .gql(
            &t.host,
            Some(&owner),
            list,
            json!({ "filter": { "search": "zzz" } }),
        )
        .await;
    assert_eq!(names(&none), Vec::<String>::new());
    assert_eq!(none.data("companies.totalCount"), &json!(0));
    let first_page = app
        .gql(&t.host, Some(&owner), list, json!({ "first": 2 }))
        .await;
    assert_eq!(names(&first_page), ["Acme Corp", "acme Labs"]);
    assert_eq!(
        first_page.data("companies.pageInfo.hasNextPage"),
        &json!(true)
    );
    let cursor = first_page.data("companies.edges")[1]["cursor"].clone();
    let second_page = app
        .gql(
            &t.host,
            Some(&owner),
            list,
            json!({ "first": 2, "after": cursor }),
        )
        .await;
    assert_eq!(names(&second_page), ["Beta Industries"]);

    // Contacts and an opportunity of the company.
    let ann = create_contact(
        &app,
        &t,
        &sales,
        json!({ "firstName": "Ann", "companyId": acme_id }),
    )
    .await;
    let bob = create_contact(
        &app,
        &t,
        &sales,
        json!({ "firstName": "Bob", "companyId": acme_id }),
    )
    .await;
    let elsewhere = create_contact(
        &app,
        &t,
        &sales,
        json!({ "firstName": "Cy", "companyId": id_of(&labs) }),
    )
    .await;
    let deal = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id company { id } } }",
            json!({ "input": {
                "title": "Acme renewal", "companyId": acme_id,
                "value": { "amount": "1000.00", "currency": "USD" },
            } }),
        )
        .await;
    let deal_id = deal.ok().str("createOpportunity.id");
    assert_eq!(deal.data("createOpportunity.company.id"), &json!(acme_id));
    let company_query = "query($id: ID!) { company(id: $id) {
        id name domain industry size address { city country } owner { id }
        contacts { id } opportunities { id } } }";
    let read = app
        .gql(
            &t.host,
            Some(&owner),
            company_query,
            json!({ "id": acme_id }),
        )
        .await;
    read.ok();
    assert_eq!(
        read.data("company.contacts"),
        &json!([{ "id": id_of(&ann) }, { "id": id_of(&bob) }])
    );
    assert_eq!(
        read.data("company.opportunities"),
        &json!([{ "id": deal_id }])
    );

    // A partial update: name changed, industry cleared, the rest kept.
    let updated = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($id: ID!, $input: UpdateCompanyInput!) { updateCompany(id: $id, input: $input) { id name } }",
            json!({ "id": acme_id, "input": { "name": "Acme Corporation", "industry": null } }),
        )
        .await;
    assert_eq!(updated.ok().str("updateCompany.name"), "Acme Corporation");
    let read = app
        .gql(
            &t.host,
            Some(&owner),
            company_query,
            json!({ "id": acme_id }),
        )
        .await;
    read.ok();
    assert_eq!(read.str("company.name"), "Acme Corporation");
    assert!(read.body["data"]["company"]["industry"].is_null());
    assert_eq!(read.str("company.domain"), "acme.example");
    assert_eq!(read.str("company.size"), "MEDIUM");
    assert_eq!(read.data("company.address.city"), "Lisbon");
    let contact_company = read_contact(&app, &t.host, &owner, &id_of(&ann)).await;
    assert_eq!(contact_company["company"]["name"], "Acme Corporation");
    let bad_name = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($id: ID!, $input: UpdateCompanyInput!) { updateCompany(id: $id, input: $input) { id } }",
            json!({ "id": acme_id, "input": { "name": "  " } }),
        )
        .await;
    assert_bad_input(&bad_name, "name", "empty company name");
    let bad_create = app
        .gql(
            &t.host,
            Some(&sales),
            "mutation($input: CreateCompanyInput!) { createCompany(input: $input) { id } }",
            json!({ "input": { "name": "" } }),
        )
        .await;
    assert_bad_input(&bad_create, "name", "empty company name on create");

    // Deleting needs a manager; the contacts and the opportunity stay, without a company.
    let delete = "mutation($id: ID!) { deleteCompany(id: $id) }";
    let refused = app
        .gql(&t.host, Some(&sales), delete, json!({ "id": acme_id }))
        .await;
    assert_code(&refused, "FORBIDDEN", "sales deleting a company");
    let deleted = app
        .gql(&t.host, Some(&manager), delete, json!({ "id": acme_id }))
        .await;
    assert_eq!(deleted.ok().str("deleteCompany"), acme_id);
    let gone = app
        .gql(
            &t.host,
            Some(&owner),
            company_query,
            json!({ "id": acme_id }),
        )
        .await;
    assert_code(&gone, "NOT_FOUND", "deleted company");
    let again = app
        .gql(&t.host, Some(&manager), delete, json!({ "id": acme_id }))
        .await;
    assert_code(&again, "NOT_FOUND", "deleting a company twice");
    for contact in [&ann, &bob] {
        let read = read_contact(&app, &t.host, &owner, &id_of(contact)).await;
        assert!(read["company"].is_null(), "{read:#}");
        assert_eq!(read["firstName"], contact["firstName"]);
    }
    let still_linked = read_contact(&app, &t.host, &owner, &id_of(&elsewhere)).await;
    assert_eq!(still_linked["company"]["id"], labs["id"]);
    assert_eq!(contact_count(&app, &t.host, &owner).await, 3);
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "companyId": acme_id })).await,
        Vec::<String>::new()
    );
    let deal = app
        .gql(
            &t.host,
            Some(&owner),
            "query($id: ID!) { opportunity(id: $id) { id company { id } } }",
            json!({ "id": deal_id }),
        )
        .await;
    deal.ok();
    assert!(deal.body["data"]["opportunity"]["company"].is_null());
    let all = app.gql(&t.host, Some(&owner), list, json!({})).await;
    assert_eq!(names(&all), ["acme Labs", "Beta Industries"]);
}
