use api::tenancy::Slug;
use serde_json::json;
use tests::{spawn_app, spawn_app_with};

const ME_USERS_PIPELINES: &str =
    "{ me { email } users { edges { node { email } } } pipelines { id name stages { name } } }";

#[tokio::test]
async fn each_tenant_sees_only_its_own_users_and_pipelines() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    app.add_user(&a, "SALES").await;

    let from_a = app
        .gql(&a.host, Some(&a.owner_token), ME_USERS_PIPELINES, json!({}))
        .await;
    let from_b = app
        .gql(&b.host, Some(&b.owner_token), ME_USERS_PIPELINES, json!({}))
        .await;
    from_a.ok();
    from_b.ok();
    let emails = |reply: &tests::Reply| -> Vec<String> {
        reply
            .data("users.edges")
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["email"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(from_a.str("me.email"), a.owner_email);
    assert_eq!(emails(&from_a).len(), 2);
    assert!(
        emails(&from_a)
            .iter()
            .all(|e| e.ends_with(&format!("{}.example", a.slug)))
    );
    assert_eq!(emails(&from_b), vec![b.owner_email.clone()]);
    assert_ne!(
        from_a.data("pipelines")[0]["id"],
        from_b.data("pipelines")[0]["id"]
    );
    assert_eq!(
        from_b.data("pipelines")[0]["stages"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
}

#[tokio::test]
async fn alternating_tenants_over_one_connection_never_mix_rows() {
    let app = spawn_app_with(|c| c.db_max_connections = 1).await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    let pipeline_of = |reply: &tests::Reply| reply.data("pipelines")[0]["id"].clone();
    let first_a = app
        .gql(&a.host, Some(&a.owner_token), ME_USERS_PIPELINES, json!({}))
        .await;
    let first_b = app
        .gql(&b.host, Some(&b.owner_token), ME_USERS_PIPELINES, json!({}))
        .await;
    for _ in 0..10 {
        for (tenant, expected) in [(&a, &first_a), (&b, &first_b)] {
            let reply = app
                .gql(
                    &tenant.host,
                    Some(&tenant.owner_token),
                    ME_USERS_PIPELINES,
                    json!({}),
                )
                .await;
            assert_eq!(reply.ok().str("me.email"), tenant.owner_email);
            assert_eq!(reply.data("users"), expected.data("users"));
            assert_eq!(pipeline_of(&reply), pipeline_of(expected));
        }
    }
}

#[tokio::test]
async fn unknown_host_is_tenant_not_found() {
    let app = spawn_app().await;
    let reply = app
        .gql("nobody.localhost", None, "{ me { id } }", json!({}))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), "TENANT_NOT_FOUND");
    let reply = app
        .gql(
            "crm.unknown-company.example",
            None,
            "{ me { id } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.error_code(), "TENANT_NOT_FOUND");
}

#[tokio::test]
async fn suspended_tenant_is_refused_then_served_after_resume() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let me = "{ me { email } }";
    app.gql(&t.host, Some(&t.owner_token), me, json!({}))
        .await
        .ok();

    let suspend = "mutation($s: String!) { suspendTenant(slug: $s) { status suspendedAt } }";
    let reply = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            suspend,
            json!({"s": t.slug}),
        )
        .await;
    assert_eq!(reply.ok().str("suspendTenant.status"), "SUSPENDED");
    let refused = app.gql(&t.host, Some(&t.owner_token), me, json!({})).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "TENANT_SUSPENDED");

    let resume = "mutation($s: String!) { resumeTenant(slug: $s) { status } }";
    app.gql(
        &app.admin_host(),
        Some(&admin),
        resume,
        json!({"s": t.slug}),
    )
    .await
    .ok();
    let served = app.gql(&t.host, Some(&t.owner_token), me, json!({})).await;
    assert_eq!(served.ok().str("me.email"), t.owner_email);
}

#[tokio::test]
async fn custom_domain_serves_the_tenant_until_removed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let domain = format!("crm.{}.example", t.slug);
    let add =
        "mutation($s: String!, $d: String!) { addTenantDomain(slug: $s, domain: $d) { domains } }";
    let reply = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            add,
            json!({"s": t.slug, "d": domain.to_uppercase()}),
        )
        .await;
    assert_eq!(reply.ok().data("addTenantDomain.domains"), &json!([domain]));
    let served = app
        .gql(
            &format!("{domain}:443"),
            Some(&t.owner_token),
            "{ me { email } }",
            json!({}),
        )
        .await;
    assert_eq!(served.ok().str("me.email"), t.owner_email);

    let other = app.provision(&admin).await;
    let taken = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            add,
            json!({"s": other.slug, "d": domain}),
        )
        .await;
    assert_eq!(taken.error_code(), "CONFLICT");
    let under_base = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            add,
            json!({"s": t.slug, "d": "x.localhost"}),
        )
        .await;
    assert_eq!(under_base.error_code(), "BAD_USER_INPUT");
    let invalid = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            add,
            json!({"s": t.slug, "d": "not a domain"}),
        )
        .await;
    assert_eq!(invalid.error_code(), "BAD_USER_INPUT");

    let remove = "mutation($s: String!, $d: String!) { removeTenantDomain(slug: $s, domain: $d) { domains } }";
    app.gql(
        &app.admin_host(),
        Some(&admin),
        remove,
        json!({"s": t.slug, "d": domain}),
    )
    .await
    .ok();
    let gone = app
        .gql(&domain, Some(&t.owner_token), "{ me { email } }", json!({}))
        .await;
    assert_eq!(gone.error_code(), "TENANT_NOT_FOUND");
}

#[tokio::test]
async fn bad_slugs_are_refused_and_create_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let provision = "mutation($input: ProvisionTenantInput!) { provisionTenant(input: $input) { tenant { slug } } }";
    // Named uniquely: tests on one database provision tenants at the same time, so only
    // this name tells whether one of these attempts left a tenant behind.
    let name = format!("Refused {}", tests::random_slug());
    let count = "query($n: String!) { tenants(filter: {search: $n}) { totalCount } }";
    let long = format!("a{}", "b".repeat(40));
    for slug in [
        "Acme",
        "a",
        "admin",
        "x;drop schema nexo",
        long.as_str(),
        "-acme",
        "acme-",
    ] {
        let reply = app
            .gql(
                &app.admin_host(),
                Some(&admin),
                provision,
                json!({"input": {"slug": slug, "name": name, "ownerEmail": "owner@acme.example"}}),
            )
            .await;
        assert_eq!(
            reply.error_code(),
            "BAD_USER_INPUT",
            "slug {slug:?}: {:#}",
            reply.body
        );
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], "slug");
    }
    let bad_email = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            provision,
            json!({"input": {"slug": tests::random_slug(), "name": name, "ownerEmail": "nobody"}}),
        )
        .await;
    assert_eq!(
        bad_email.body["errors"][0]["extensions"]["field"],
        "ownerEmail"
    );
    let left = app
        .gql(&app.admin_host(), Some(&admin), count, json!({"n": name}))
        .await;
    assert_eq!(left.ok().data("tenants.totalCount"), &json!(0));

    let t = app.provision(&admin).await;
    let duplicate = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            provision,
            json!({"input": {"slug": t.slug, "name": "Again", "ownerEmail": "x@y.example"}}),
        )
        .await;
    assert_eq!(duplicate.error_code(), "CONFLICT");
    // The first tenant is untouched by the refused duplicate.
    app.gql(&t.host, Some(&t.owner_token), "{ me { email } }", json!({}))
        .await
        .ok();
}

#[tokio::test]
async fn provisioning_that_fails_half_way_leaves_nothing_behind() {
    let app =
        spawn_app_with(|c| c.provision_fault = Some(api::config::ProvisionFault::AfterSeed)).await;
    let admin = app.admin_token().await;
    let slug = tests::random_slug();
    let reply = app
        .gql(&app.admin_host(), Some(&admin),
            "mutation($input: ProvisionTenantInput!) { provisionTenant(input: $input) { tenant { slug } } }",
            json!({"input": {"slug": slug, "name": "Half", "ownerEmail": "owner@half.example"}}))
        .await;
    assert_eq!(reply.error_code(), "INTERNAL");
    assert!(reply.body["errors"][0]["extensions"]["errorId"].is_string());
    let lookup = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            "query($s: String!) { tenant(slug: $s) { slug } }",
            json!({"s": slug}),
        )
        .await;
    assert_eq!(lookup.error_code(), "NOT_FOUND");
    assert!(
        app.app
            .registry
            .by_slug(&slug)
            .await
            .expect("registry")
            .is_none()
    );
    let parsed = Slug::parse(&slug).expect("slug");
    assert!(
        !app.app
            .store
            .tenant_storage_exists(&parsed)
            .await
            .expect("storage check")
    );
    let host = app
        .gql(&app.tenant_host(&slug), None, "{ me { id } }", json!({}))
        .await;
    assert_eq!(host.error_code(), "TENANT_NOT_FOUND");
}

#[tokio::test]
async fn deleting_a_tenant_keeps_a_backup_then_drops_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let reply = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            "mutation($s: String!) { deleteTenant(slug: $s) { slug backupPath } }",
            json!({"s": t.slug}),
        )
        .await;
    let backup = reply.ok().str("deleteTenant.backupPath");
    let size = std::fs::metadata(&backup)
        .expect("backup file exists")
        .len();
    assert!(size > 0, "backup {backup} is empty");
    let parsed = Slug::parse(&t.slug).expect("slug");
    assert!(
        !app.app
            .store
            .tenant_storage_exists(&parsed)
            .await
            .expect("storage check")
    );
    let gone = app
        .gql(&t.host, Some(&t.owner_token), "{ me { email } }", json!({}))
        .await;
    assert_eq!(gone.error_code(), "TENANT_NOT_FOUND");
    let again = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            "mutation($s: String!) { deleteTenant(slug: $s) { slug } }",
            json!({"s": t.slug}),
        )
        .await;
    assert_eq!(again.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn tenants_connection_pages_forwards_and_backwards() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut slugs = Vec::new();
    for _ in 0..3 {
        slugs.push(app.provision(&admin).await.slug);
    }
    let page = "query($after: String, $before: String, $first: Int, $last: Int) {
        tenants(first: $first, after: $after, last: $last, before: $before) {
            totalCount edges { cursor node { slug } } pageInfo { hasNextPage hasPreviousPage } } }";
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let reply = app
            .gql(
                &app.admin_host(),
                Some(&admin),
                page,
                json!({"first": 2, "after": after}),
            )
            .await;
        reply.ok();
        for edge in reply.data("tenants.edges").as_array().expect("edges") {
            seen.push(edge["node"]["slug"].as_str().unwrap_or_default().to_owned());
            after = edge["cursor"].as_str().map(str::to_owned);
        }
        if reply.data("tenants.pageInfo.hasNextPage") != &json!(true) {
            break;
        }
    }
    let mine: Vec<_> = seen.iter().filter(|s| slugs.contains(s)).cloned().collect();
    assert_eq!(mine, slugs, "all tenants once, in creation order");
    let last_two = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            page,
            json!({"last": 2, "before": null}),
        )
        .await;
    let edges = last_two
        .ok()
        .data("tenants.edges")
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 2);
    assert_eq!(
        edges[1]["node"]["slug"],
        json!(seen.last().expect("some tenant"))
    );
    let too_many = app
        .gql(&app.admin_host(), Some(&admin), page, json!({"first": 101}))
        .await;
    assert_eq!(too_many.error_code(), "BAD_USER_INPUT");
    assert_eq!(too_many.body["errors"][0]["extensions"]["field"], "first");
    let bad_cursor = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            page,
            json!({"first": 2, "after": "nonsense"}),
        )
        .await;
    assert_eq!(bad_cursor.error_code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn migrating_twice_changes_nothing_the_second_time() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.provision(&admin).await;
    let run =
        || api::tenancy::migrate_tenants(&app.app.store, &app.app.registry, 4, |_, _, _, _| {});
    let first = run().await.expect("first migration");
    assert!(first.tenants >= 1);
    let second = run().await.expect("second migration");
    // On a shared PostgreSQL, another test may delete its tenant mid-run; only tenants that
    // still exist count as failures.
    for slug in &second.failed {
        assert!(
            app.app
                .registry
                .by_slug(slug)
                .await
                .expect("registry")
                .is_none(),
            "{slug} failed"
        );
    }
    assert_eq!(second.tenant_migrations_applied, 0);
    assert_eq!(app.app.store.migrate_control().await.expect("control"), 0);
}

/// Tenant connections plan for cached data (`NEXO_PG_RANDOM_PAGE_COST`, 1.1 by default),
/// or keep the server's own setting with `server`. PostgreSQL only: SQLite has no planner
/// costs to set.
#[tokio::test]
async fn tenant_connections_plan_for_cached_data() {
    if tests::test_database_url().is_none() {
        return;
    }
    /// The tenant connection's setting, and the server's own.
    async fn random_page_cost(app: &tests::TestApp, slug: &str) -> (String, String) {
        use sea_orm::{ConnectionTrait, Statement};
        app.app
            .store
            .read(&app.tenant(slug).await, |conn| {
                Box::pin(async move {
                    let row = conn
                        .query_one_raw(Statement::from_string(
                            conn.get_database_backend(),
                            "SELECT setting, reset_val FROM pg_settings \
                             WHERE name = 'random_page_cost'",
                        ))
                        .await?
                        .expect("a row");
                    Ok((
                        row.try_get_by_index::<String>(0)?,
                        row.try_get_by_index::<String>(1)?,
                    ))
                })
            })
            .await
            .expect("read")
    }
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    assert_eq!(random_page_cost(&app, &t.slug).await.0, "1.1");
    let kept = spawn_app_with(|c| c.pg_random_page_cost = None).await;
    let admin = kept.admin_token().await;
    let t = kept.provision(&admin).await;
    let (setting, server) = random_page_cost(&kept, &t.slug).await;
    assert_eq!(setting, server, "the server's own setting");
}

/// Tenant data, the control plane and backups are readable by Nexo's user alone.
#[cfg(unix)]
#[tokio::test]
async fn data_files_and_backups_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation { createContact(input: {firstName: \"Private\"}) { id } }",
        json!({}),
    )
    .await
    .ok();
    let backup = app
        .gql(
            &app.admin_host(),
            Some(&admin),
            "mutation($s: String!) { deleteTenant(slug: $s) { backupPath } }",
            json!({"s": t.slug}),
        )
        .await
        .ok()
        .str("deleteTenant.backupPath");
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let backup = std::path::PathBuf::from(backup);
    assert_eq!(mode(&backup), 0o600, "{}", backup.display());
    assert_eq!(mode(backup.parent().expect("backup dir")), 0o700);
    let data = app.data_dir();
    if tests::test_database_url().is_none() {
        let other = app.provision(&admin).await;
        let tenants = data.join("tenants");
        assert_eq!(mode(&tenants), 0o700);
        for file in [
            data.join("control.db"),
            tenants.join(format!("{}.db", other.slug)),
            tenants.join(format!("{}.db-wal", other.slug)),
        ] {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
}
