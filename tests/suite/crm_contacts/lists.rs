//! Filtering, ordering and paginating contacts; cursors that survive inserts.

use super::*;

#[tokio::test]
async fn filters_return_exactly_the_matching_contacts() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let owner = t.owner_token.clone();
    let (sales_id, sales) = app.add_user(&t, "SALES").await;
    let owner_id = my_id(&app, &t.host, &owner).await;
    let acme = create_company(&app, &t.host, &owner, json!({ "name": "Acme" })).await;
    let acme_id = id_of(&acme);

    let ann = create_contact(
        &app,
        &t,
        &owner,
        json!({
            "firstName": "Ann", "lastName": "Smith", "email": "ann.smith@alpha.example",
            "phone": "+1 415 555 2671", "status": "NEW", "source": "WEBSITE",
            "tags": ["vip", "west"], "companyId": acme_id,
        }),
    )
    .await;
    let bob = create_contact(
        &app,
        &t,
        &owner,
        json!({
            "firstName": "Bob", "lastName": "Smithers", "email": "bob@beta.example",
            "phone": "+44 20 7946 0958", "status": "QUALIFIED", "source": "REFERRAL",
            "tags": ["VIP"], "ownerId": sales_id,
        }),
    )
    .await;
    let carla = create_contact(
        &app,
        &t,
        &sales,
        json!({
            "firstName": "Carla", "lastName": "Jones", "email": "carla@alpha.example",
            "status": "CUSTOMER", "source": "WEBSITE", "tags": ["east"], "companyId": acme_id,
        }),
    )
    .await;
    let dan = create_contact(
        &app,
        &t,
        &owner,
        json!({ "firstName": "Dan", "lastName": "Brown", "status": "LOST", "source": "PHONE" }),
    )
    .await;
    let [ann_id, bob_id, carla_id, dan_id] = [&ann, &bob, &carla, &dan].map(id_of);
    let ids = |list: &[&String]| -> Vec<String> { list.iter().map(|s| (*s).clone()).collect() };
    let (o, s) = (owner.as_str(), sales.as_str());

    let cases: Vec<(&str, &str, Value, Vec<String>)> = vec![
        (
            "no filter",
            o,
            json!({}),
            ids(&[&ann_id, &bob_id, &carla_id, &dan_id]),
        ),
        (
            "status NEW",
            o,
            json!({ "status": ["NEW"] }),
            ids(&[&ann_id]),
        ),
        (
            "status QUALIFIED or CUSTOMER",
            o,
            json!({ "status": ["QUALIFIED", "CUSTOMER"] }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "status CONTACTED",
            o,
            json!({ "status": ["CONTACTED"] }),
            vec![],
        ),
        (
            "source WEBSITE",
            o,
            json!({ "source": ["WEBSITE"] }),
            ids(&[&ann_id, &carla_id]),
        ),
        (
            "source REFERRAL or PHONE",
            o,
            json!({ "source": ["REFERRAL", "PHONE"] }),
            ids(&[&bob_id, &dan_id]),
        ),
        (
            "tag vip",
            o,
            json!({ "tag": "vip" }),
            ids(&[&ann_id, &bob_id]),
        ),
        (
            "tag VIP",
            o,
            json!({ "tag": "VIP" }),
            ids(&[&ann_id, &bob_id]),
        ),
        ("tag east", o, json!({ "tag": "east" }), ids(&[&carla_id])),
        ("tag unknown", o, json!({ "tag": "nobody" }), vec![]),
        (
            "mine (owner)",
            o,
            json!({ "mine": true }),
            ids(&[&ann_id, &dan_id]),
        ),
        (
            "mine (sales)",
            s,
            json!({ "mine": true }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "ownerId sales",
            o,
            json!({ "ownerId": sales_id }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "ownerId owner",
            s,
            json!({ "ownerId": owner_id }),
            ids(&[&ann_id, &dan_id]),
        ),
        (
            "companyId",
            o,
            json!({ "companyId": acme_id }),
            ids(&[&ann_id, &carla_id]),
        ),
        (
            "search part of a last name",
            o,
            json!({ "search": "smith" }),
            ids(&[&ann_id, &bob_id]),
        ),
        (
            "search a full name",
            o,
            json!({ "search": "Ann Smith" }),
            ids(&[&ann_id]),
        ),
        (
            "search in another case",
            o,
            json!({ "search": "SMITHE" }),
            ids(&[&bob_id]),
        ),
        (
            "search part of a first name",
            o,
            json!({ "search": "arl" }),
            ids(&[&carla_id]),
        ),
        (
            "search part of an email",
            o,
            json!({ "search": "alpha.exam" }),
            ids(&[&ann_id, &carla_id]),
        ),
        (
            "search phone digits",
            o,
            json!({ "search": "5552671" }),
            ids(&[&ann_id]),
        ),
        (
            "search other phone digits",
            o,
            json!({ "search": "2079460958" }),
            ids(&[&bob_id]),
        ),
        (
            "search nothing matches",
            o,
            json!({ "search": "zzz" }),
            vec![],
        ),
        (
            "search a LIKE wildcard",
            o,
            json!({ "search": "%" }),
            vec![],
        ),
        ("search an underscore", o, json!({ "search": "_" }), vec![]),
        (
            "status and tag",
            o,
            json!({ "status": ["NEW", "QUALIFIED"], "tag": "vip", "search": "bob" }),
            ids(&[&bob_id]),
        ),
        (
            "companyId and mine (sales)",
            s,
            json!({ "companyId": acme_id, "mine": true }),
            ids(&[&carla_id]),
        ),
        (
            "created after Bob was",
            o,
            json!({ "createdAfter": between(&ann["createdAt"], &bob["createdAt"]) }),
            ids(&[&bob_id, &carla_id, &dan_id]),
        ),
        (
            "created range",
            o,
            json!({
                "createdAfter": between(&ann["createdAt"], &bob["createdAt"]),
                "createdBefore": between(&carla["createdAt"], &dan["createdAt"]),
            }),
            ids(&[&bob_id, &carla_id]),
        ),
        (
            "created before Bob",
            o,
            json!({ "createdBefore": between(&ann["createdAt"], &bob["createdAt"]) }),
            ids(&[&ann_id]),
        ),
        (
            "created in the future",
            o,
            json!({ "createdAfter": "2999-01-01T00:00:00Z" }),
            vec![],
        ),
        (
            "created before the epoch",
            o,
            json!({ "createdBefore": "1970-01-02T00:00:00Z" }),
            vec![],
        ),
    ];
    for (case, token, filter, expected) in cases {
        let found = matching(&app, &t.host, token, filter).await;
        assert_eq!(found, expected, "{case}");
    }

    // Updated range: only Ann changes after everything was created.
    let touched = update_contact(
        &app,
        &t.host,
        &owner,
        &ann_id,
        json!({ "status": "CONTACTED" }),
    )
    .await;
    let touched = touched.ok().data("updateContact").clone();
    let cut = between(&dan["updatedAt"], &touched["updatedAt"]);
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "updatedAfter": cut })).await,
        vec![ann_id.clone()]
    );
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "updatedBefore": cut })).await,
        vec![bob_id.clone(), carla_id.clone(), dan_id.clone()]
    );
    assert_eq!(
        matching(&app, &t.host, &owner, json!({ "status": ["NEW"] })).await,
        Vec::<String>::new(),
        "the status filter follows the update"
    );

    // A malformed id in a filter is refused, naming the filter field.
    let reply = app
        .gql(
            &t.host,
            Some(&owner),
            PAGE,
            json!({ "filter": { "companyId": "42" } }),
        )
        .await;
    assert_bad_input(&reply, "companyId", "filter companyId \"42\"");
    let reply = app
        .gql(
            &t.host,
            Some(&owner),
            PAGE,
            json!({ "filter": { "ownerId": "42" } }),
        )
        .await;
    assert_bad_input(&reply, "ownerId", "filter ownerId \"42\"");
}

/// Pages forward through `contacts` with `first: size` until the end.
async fn pages_forward(
    app: &TestApp,
    t: &TestTenant,
    size: i64,
    order_by: Value,
) -> (Vec<Vec<String>>, Vec<Page>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let p = page(
            app,
            &t.host,
            &t.owner_token,
            json!({ "first": size, "after": after, "orderBy": order_by.clone() }),
        )
        .await;
        ids.push(p.ids.clone());
        after = p.cursors.last().cloned();
        let more = p.has_next;
        pages.push(p);
        if !more {
            break;
        }
        assert!(pages.len() < 50, "pagination does not end");
    }
    (ids, pages)
}

/// Pages backward through `contacts` with `last: size` from the end.
async fn pages_backward(
    app: &TestApp,
    t: &TestTenant,
    size: i64,
    order_by: Value,
) -> (Vec<Vec<String>>, Vec<Page>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let p = page(
            app,
            &t.host,
            &t.owner_token,
            json!({ "last": size, "before": before, "orderBy": order_by.clone() }),
        )
        .await;
        ids.push(p.ids.clone());
        before = p.cursors.first().cloned();
        let more = p.has_previous;
        pages.push(p);
        if !more {
            break;
        }
        assert!(pages.len() < 50, "pagination does not end");
    }
    (ids, pages)
}

#[tokio::test]
async fn contacts_page_forwards_and_backwards_in_creation_order() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let mut all = Vec::new();
    for i in 0..7 {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("Page{i}") }),
        )
        .await;
        all.push(id_of(&c));
    }
    let chunk = |range: std::ops::Range<usize>| all[range].to_vec();

    let (forward, pages) = pages_forward(&app, &t, 3, Value::Null).await;
    assert_eq!(forward, vec![chunk(0..3), chunk(3..6), chunk(6..7)]);
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.has_previous, p.has_next))
            .collect::<Vec<_>>(),
        vec![(false, true), (true, true), (true, false)]
    );
    assert!(pages.iter().all(|p| p.total == 7));

    let (backward, pages) = pages_backward(&app, &t, 3, Value::Null).await;
    assert_eq!(backward, vec![chunk(4..7), chunk(1..4), chunk(0..1)]);
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.has_previous, p.has_next))
            .collect::<Vec<_>>(),
        vec![(true, false), (true, true), (false, true)]
    );
    assert!(pages.iter().all(|p| p.total == 7));

    // Explicit CREATED_AT orders, both directions.
    let asc = json!({ "field": "CREATED_AT", "direction": "ASC" });
    let (ids, _) = pages_forward(&app, &t, 3, asc).await;
    assert_eq!(ids.concat(), all);
    let desc = json!({ "field": "CREATED_AT", "direction": "DESC" });
    let (ids, _) = pages_forward(&app, &t, 3, desc.clone()).await;
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(ids.concat(), reversed);
    let (ids, _) = pages_backward(&app, &t, 3, desc).await;
    assert_eq!(ids.into_iter().rev().collect::<Vec<_>>().concat(), reversed);

    // Going back from the middle with `before` and forward again with `after`.
    let third = forward_cursor(&app, &t, 2).await;
    let middle = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 3, "after": third }),
    )
    .await;
    assert_eq!(middle.ids, chunk(3..6));
    let back = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "last": 2, "before": middle.cursors[0].clone() }),
    )
    .await;
    assert_eq!(back.ids, chunk(1..3));
    assert!(back.has_previous && back.has_next);

    // Page size limits.
    let at_max = page(&app, &t.host, &t.owner_token, json!({ "first": 100 })).await;
    assert_eq!(at_max.ids, all);
    for (variables, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "last": 101 }), "last"),
        (json!({ "first": -1 }), "first"),
    ] {
        let reply = app
            .gql(&t.host, Some(&t.owner_token), PAGE, variables.clone())
            .await;
        assert_bad_input(&reply, field, &variables.to_string());
    }
    let nonsense = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            PAGE,
            json!({ "first": 3, "after": "nonsense" }),
        )
        .await;
    assert_bad_input(&nonsense, "after", "a made-up cursor");
}

/// The cursor of the `index`-th contact (from 0) in creation order.
async fn forward_cursor(app: &TestApp, t: &TestTenant, index: usize) -> String {
    let p = page(
        app,
        &t.host,
        &t.owner_token,
        json!({ "first": index as i64 + 1 }),
    )
    .await;
    p.cursors[index].clone()
}

#[tokio::test]
async fn cursors_stay_valid_across_inserts() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let mut originals = Vec::new();
    for i in 0..7 {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("Orig{i}") }),
        )
        .await;
        originals.push(id_of(&c));
    }

    // Forwards: page 1, then inserts, then the rest from the cursor.
    let first = page(&app, &t.host, &t.owner_token, json!({ "first": 3 })).await;
    assert_eq!(first.ids, originals[0..3].to_vec());
    let mut inserted = Vec::new();
    for i in 0..2 {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("New{i}") }),
        )
        .await;
        inserted.push(id_of(&c));
    }
    let mut seen = first.ids.clone();
    let mut after = first.cursors.last().cloned();
    loop {
        let p = page(
            &app,
            &t.host,
            &t.owner_token,
            json!({ "first": 3, "after": after }),
        )
        .await;
        assert_eq!(p.total, 9);
        seen.extend(p.ids.iter().cloned());
        after = p.cursors.last().cloned();
        if !p.has_next {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    let expected: Vec<String> = originals.iter().chain(&inserted).cloned().collect();
    assert_eq!(seen, expected, "nothing skipped, new ones at the end");

    // Backwards: the last page, then inserts (at the end, after the cursor), then the rest.
    let last = page(&app, &t.host, &t.owner_token, json!({ "last": 3 })).await;
    let mut seen = last.ids.clone();
    for i in 2..4 {
        create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": format!("New{i}") }),
        )
        .await;
    }
    let mut before = last.cursors.first().cloned();
    loop {
        let p = page(
            &app,
            &t.host,
            &t.owner_token,
            json!({ "last": 3, "before": before }),
        )
        .await;
        let mut batch = p.ids.clone();
        batch.extend(seen);
        seen = batch;
        before = p.cursors.first().cloned();
        if !p.has_previous {
            break;
        }
    }
    assert_eq!(
        seen, expected,
        "the list as it was when paging started, once each"
    );
}

#[tokio::test]
async fn name_order_sorts_ascending_and_descending_and_paginates() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    // Created out of order, with two contacts of the same name.
    let people = [
        ("Dora", "Davis"),
        ("Adam", "Adams"),
        ("Chris", "Clark"),
        ("Gina", "Green"),
        ("Bea", "baker"),
        ("Chris", "Clark"),
        ("Eli", "Evans"),
        ("Abe", "Davis"),
    ];
    let mut created = Vec::new();
    for (first, last) in people {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": first, "lastName": last }),
        )
        .await;
        created.push(id_of(&c));
    }
    // What a list shows of each contact: its "Last, First" name, case-insensitive.
    let name_of = |id: &String| -> String {
        let i = created.iter().position(|c| c == id).expect("a known id");
        format!("{}, {}", people[i].1, people[i].0).to_lowercase()
    };
    let names = |ids: &[String]| -> Vec<String> { ids.iter().map(name_of).collect() };
    let ascending: Vec<String> = [
        "adams, adam",
        "baker, bea",
        "clark, chris",
        "clark, chris",
        "davis, abe",
        "davis, dora",
        "evans, eli",
        "green, gina",
    ]
    .map(str::to_owned)
    .to_vec();
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();

    let asc = json!({ "field": "NAME", "direction": "ASC" });
    let desc = json!({ "field": "NAME", "direction": "DESC" });
    let all_asc = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 100, "orderBy": asc.clone() }),
    )
    .await;
    assert_eq!(names(&all_asc.ids), ascending, "last name, then first name");
    let all_desc = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 100, "orderBy": desc.clone() }),
    )
    .await;
    assert_eq!(names(&all_desc.ids), descending);
    let mut desc_set = all_desc.ids.clone();
    desc_set.sort();
    let mut all_ids = created.clone();
    all_ids.sort();
    assert_eq!(desc_set, all_ids, "every contact once");

    for size in [1, 2, 3] {
        let (ids, _) = pages_forward(&app, &t, size, asc.clone()).await;
        assert_eq!(ids.concat(), all_asc.ids, "NAME ASC forward, size {size}");
        let (ids, _) = pages_backward(&app, &t, size, asc.clone()).await;
        assert_eq!(
            ids.into_iter().rev().collect::<Vec<_>>().concat(),
            all_asc.ids,
            "NAME ASC backward, size {size}"
        );
        let (ids, _) = pages_forward(&app, &t, size, desc.clone()).await;
        assert_eq!(ids.concat(), all_desc.ids, "NAME DESC forward, size {size}");
        let (ids, _) = pages_backward(&app, &t, size, desc.clone()).await;
        assert_eq!(
            ids.into_iter().rev().collect::<Vec<_>>().concat(),
            all_desc.ids,
            "NAME DESC backward, size {size}"
        );
    }

    // Inserts before and after the cursor while paging by name.
    let first = page(
        &app,
        &t.host,
        &t.owner_token,
        json!({ "first": 3, "orderBy": asc.clone() }),
    )
    .await;
    assert_eq!(first.ids, all_asc.ids[0..3].to_vec());
    let mut after_cursor = Vec::new();
    for (first_name, last_name, later) in [
        ("Aaron", "Aardvark", false),
        ("Cat", "Carter", false),
        ("Dirk", "Dixon", true),
        ("Yuri", "Young", true),
    ] {
        let c = create_contact(
            &app,
            &t,
            &t.owner_token,
            json!({ "firstName": first_name, "lastName": last_name }),
        )
        .await;
        if later {
            after_cursor.push(id_of(&c));
        }
    }
    let mut seen = first.ids.clone();
    let mut after = first.cursors.last().cloned();
    loop {
        let p = page(
            &app,
            &t.host,
            &t.owner_token,
            json!({ "first": 3, "after": after, "orderBy": asc.clone() }),
        )
        .await;
        seen.extend(p.ids.iter().cloned());
        after = p.cursors.last().cloned();
        if !p.has_next {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    for id in &all_asc.ids {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "original {id} seen once"
        );
    }
    for id in &after_cursor {
        assert!(seen.contains(id), "a contact inserted after the cursor");
    }
    let originals_in_order: Vec<String> = seen
        .iter()
        .filter(|s| all_asc.ids.contains(s))
        .cloned()
        .collect();
    assert_eq!(originals_in_order, all_asc.ids);

    // A cursor of one ordering used with another: refused as bad input or a valid page,
    // never an internal error.
    let name_cursor = first.cursors[1].clone();
    let created_cursor = page(&app, &t.host, &t.owner_token, json!({ "first": 2 }))
        .await
        .cursors[1]
        .clone();
    for (case, variables) in [
        (
            "NAME cursor with CREATED_AT",
            json!({ "first": 3, "after": name_cursor,
                    "orderBy": { "field": "CREATED_AT", "direction": "ASC" } }),
        ),
        (
            "NAME cursor with the default order",
            json!({ "last": 3, "before": name_cursor }),
        ),
        (
            "CREATED_AT cursor with NAME",
            json!({ "first": 3, "after": created_cursor, "orderBy": asc.clone() }),
        ),
        (
            "CREATED_AT cursor with UPDATED_AT",
            json!({ "first": 3, "after": created_cursor,
                    "orderBy": { "field": "UPDATED_AT", "direction": "DESC" } }),
        ),
    ] {
        let reply = app
            .gql(&t.host, Some(&t.owner_token), PAGE, variables)
            .await;
        match reply.code() {
            None => {
                let p = page_of(&reply);
                assert!(p.ids.len() <= 3, "{case}");
            }
            Some(code) => assert_eq!(code, "BAD_USER_INPUT", "{case}: {:#}", reply.body),
        }
    }
}
