use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tests::{PASSWORD, TEST_JWT_SECRET, TestApp, TestTenant, claims_of, spawn_app};

const ME: &str = "{ me { email } }";

async fn login(app: &TestApp, host: &str, email: &str, password: &str) -> tests::Reply {
    app.gql(host, None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken user { email role } } }",
        json!({"e": email, "p": password}))
        .await
}

fn sign(header: Header, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("token")
}

#[tokio::test]
async fn every_kind_of_bad_token_is_unauthenticated_and_reads_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let a = app.provision(&admin).await;
    let b = app.provision(&admin).await;
    app.gql(&a.host, Some(&a.owner_token), ME, json!({}))
        .await
        .ok();

    let valid = claims_of(&a.owner_token);
    let now = chrono::Utc::now().timestamp();
    let with = |changes: Value| {
        let mut claims = valid.clone();
        for (k, v) in changes.as_object().expect("object") {
            if v.is_null() {
                claims.as_object_mut().expect("object").remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let hs256 = Header::new(Algorithm::HS256);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&valid).expect("json"))
    );
    let cases: Vec<(&str, String, String)> = vec![
        (
            "tenant A's token on tenant B",
            b.host.clone(),
            a.owner_token.clone(),
        ),
        (
            "admin token on a tenant host",
            a.host.clone(),
            admin.clone(),
        ),
        (
            "tenant token on the admin host",
            app.admin_host(),
            a.owner_token.clone(),
        ),
        (
            "expired",
            a.host.clone(),
            sign(
                hs256.clone(),
                &with(json!({"iat": now - 3600, "exp": now - 600})),
                TEST_JWT_SECRET,
            ),
        ),
        (
            "no exp",
            a.host.clone(),
            sign(hs256.clone(), &with(json!({"exp": null})), TEST_JWT_SECRET),
        ),
        (
            "exp as a string",
            a.host.clone(),
            sign(
                hs256.clone(),
                &with(json!({"exp": (now + 600).to_string()})),
                TEST_JWT_SECRET,
            ),
        ),
        (
            "another key",
            a.host.clone(),
            sign(
                hs256.clone(),
                &valid,
                "another-secret-another-secret-another",
            ),
        ),
        ("alg none", a.host.clone(), unsigned),
        (
            "HS512",
            a.host.clone(),
            sign(Header::new(Algorithm::HS512), &valid, TEST_JWT_SECRET),
        ),
        (
            "refresh token as access token",
            a.host.clone(),
            a.owner_refresh.clone(),
        ),
        ("garbage", a.host.clone(), "not-a-token".into()),
    ];
    for (case, host, token) in cases {
        let before = app.statements();
        let query = if host == app.admin_host() {
            "{ tenants { totalCount } }"
        } else {
            ME
        };
        let reply = app.gql(&host, Some(&token), query, json!({})).await;
        assert_eq!(reply.status, 401, "{case}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UNAUTHENTICATED", "{case}");
        assert!(reply.body["data"].is_null(), "{case}: data leaked");
        // Host lookups may hit the control plane once; no tenant data is read.
        assert!(app.statements() - before <= 1, "{case}: SQL ran");
    }
    // A correct token forged with the real key still works: the checks above are not luck.
    let forged = sign(
        hs256,
        &with(json!({"jti": uuid::Uuid::now_v7()})),
        TEST_JWT_SECRET,
    );
    app.gql(&a.host, Some(&forged), ME, json!({})).await.ok();
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_ends_the_session() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let refresh = "mutation($t: String!) { refreshToken(token: $t) { accessToken refreshToken } }";
    let first = app
        .gql(&t.host, None, refresh, json!({"t": t.owner_refresh}))
        .await;
    let rotated = first.ok().str("refreshToken.refreshToken");
    assert_ne!(rotated, t.owner_refresh);
    let access = first.str("refreshToken.accessToken");
    app.gql(&t.host, Some(&access), ME, json!({})).await.ok();

    // The old token again: theft is assumed, the whole family ends.
    let reuse = app
        .gql(&t.host, None, refresh, json!({"t": t.owner_refresh}))
        .await;
    assert_eq!(reuse.error_code(), "UNAUTHENTICATED");
    let after_reuse = app.gql(&t.host, None, refresh, json!({"t": rotated})).await;
    assert_eq!(
        after_reuse.error_code(),
        "UNAUTHENTICATED",
        "the rotated token died with its family"
    );

    // Another session of the same user is unaffected.
    let other = login(&app, &t.host, &t.owner_email, PASSWORD).await;
    let other_refresh = other.ok().str("login.refreshToken");
    app.gql(&t.host, None, refresh, json!({"t": other_refresh}))
        .await
        .ok();

    let unknown = app
        .gql(&t.host, None, refresh, json!({"t": "made-up"}))
        .await;
    assert_eq!(unknown.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let logout = "mutation($t: String) { logout(refreshToken: $t) }";
    app.gql(
        &t.host,
        Some(&t.owner_token),
        logout,
        json!({"t": t.owner_refresh}),
    )
    .await
    .ok();
    let refresh = "mutation($t: String!) { refreshToken(token: $t) { accessToken } }";
    let reply = app
        .gql(&t.host, None, refresh, json!({"t": t.owner_refresh}))
        .await;
    assert_eq!(reply.error_code(), "UNAUTHENTICATED");
    let anonymous = app.gql(&t.host, None, logout, json!({"t": null})).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

async fn user_status(app: &TestApp, t: &TestTenant, email: &str) -> (String, String) {
    let reply = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ users(first: 100) { edges { node { email role status } } } }",
            json!({}),
        )
        .await;
    let edges = reply
        .ok()
        .data("users.edges")
        .as_array()
        .expect("edges")
        .clone();
    let node = edges
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["email"] == email)
        .expect("user listed")
        .clone();
    (
        node["role"].as_str().unwrap_or_default().into(),
        node["status"].as_str().unwrap_or_default().into(),
    )
}

#[tokio::test]
async fn invite_accept_role_change_and_deactivation() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let email = format!("Sam@{}.example", t.slug);
    let invite = app
        .gql(&t.host, Some(&t.owner_token),
            "mutation($e: String!) { inviteUser(email: $e, role: SALES) { inviteToken user { id email status role } } }",
            json!({"e": email}))
        .await;
    invite.ok();
    let lower = email.to_lowercase();
    assert_eq!(invite.str("inviteUser.user.email"), lower);
    assert_eq!(invite.str("inviteUser.user.status"), "INVITED");
    let user_id = invite.str("inviteUser.user.id");
    let token = invite.str("inviteUser.inviteToken");

    let duplicate = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($e: String!) { inviteUser(email: $e, role: VIEWER) { inviteToken } }",
            json!({"e": lower}),
        )
        .await;
    assert_eq!(duplicate.error_code(), "CONFLICT");

    let accept = "mutation($t: String!, $p: String!) { acceptInvite(token: $t, password: $p) { accessToken user { status } } }";
    let short = app
        .gql(&t.host, None, accept, json!({"t": token, "p": "short"}))
        .await;
    assert_eq!(short.error_code(), "BAD_USER_INPUT");
    assert_eq!(short.body["errors"][0]["extensions"]["field"], "password");
    let accepted = app
        .gql(&t.host, None, accept, json!({"t": token, "p": PASSWORD}))
        .await;
    assert_eq!(accepted.ok().str("acceptInvite.user.status"), "ACTIVE");
    let twice = app
        .gql(&t.host, None, accept, json!({"t": token, "p": PASSWORD}))
        .await;
    assert_eq!(
        twice.error_code(),
        "BAD_USER_INPUT",
        "an invite token works once"
    );
    let setup_as_invite = app.gql(&t.host, None, "mutation($t: String!, $p: String!) { completeSetup(token: $t, password: $p) { accessToken } }", json!({"t": token, "p": PASSWORD})).await;
    assert_eq!(setup_as_invite.error_code(), "BAD_USER_INPUT");

    let signed_in = login(&app, &t.host, &lower, PASSWORD).await;
    assert_eq!(signed_in.ok().str("login.user.role"), "SALES");

    let set_role = "mutation($u: ID!, $r: Role!) { setUserRole(userId: $u, role: $r) { role } }";
    let promoted = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            set_role,
            json!({"u": user_id, "r": "MANAGER"}),
        )
        .await;
    assert_eq!(promoted.ok().str("setUserRole.role"), "MANAGER");
    let relogin = login(&app, &t.host, &lower, PASSWORD).await;
    assert_eq!(relogin.ok().str("login.user.role"), "MANAGER");
    let self_demote = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            set_role,
            json!({"u": invite_owner_id(&app, &t).await, "r": "VIEWER"}),
        )
        .await;
    assert_eq!(self_demote.error_code(), "FORBIDDEN");
    let missing = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            set_role,
            json!({"u": uuid::Uuid::now_v7().to_string(), "r": "VIEWER"}),
        )
        .await;
    assert_eq!(missing.error_code(), "NOT_FOUND");
    let malformed = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            set_role,
            json!({"u": "42", "r": "VIEWER"}),
        )
        .await;
    assert_eq!(malformed.error_code(), "BAD_USER_INPUT");

    let deactivate = "mutation($u: ID!) { deactivateUser(userId: $u) { status } }";
    let done = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            deactivate,
            json!({"u": user_id}),
        )
        .await;
    assert_eq!(done.ok().str("deactivateUser.status"), "DEACTIVATED");
    let refused = login(&app, &t.host, &lower, PASSWORD).await;
    assert_eq!(refused.error_code(), "UNAUTHENTICATED");
    let refresh = app
        .gql(
            &t.host,
            None,
            "mutation($t: String!) { refreshToken(token: $t) { accessToken } }",
            json!({"t": relogin.str("login.refreshToken")}),
        )
        .await;
    assert_eq!(
        refresh.error_code(),
        "UNAUTHENTICATED",
        "a deactivated user's sessions end"
    );
    assert_eq!(
        user_status(&app, &t, &lower).await,
        ("MANAGER".into(), "DEACTIVATED".into())
    );
}

async fn invite_owner_id(app: &TestApp, t: &TestTenant) -> String {
    app.gql(&t.host, Some(&t.owner_token), "{ me { id } }", json!({}))
        .await
        .ok()
        .str("me.id")
}

#[tokio::test]
async fn roles_are_enforced() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, viewer) = app.add_user(&t, "VIEWER").await;
    let (manager_id, manager) = app.add_user(&t, "MANAGER").await;
    let (_, tenant_admin) = app.add_user(&t, "ADMIN").await;

    let invite =
        "mutation($e: String!, $r: Role!) { inviteUser(email: $e, role: $r) { inviteToken } }";
    let email = format!("new@{}.example", t.slug);
    for (token, role) in [(&viewer, "VIEWER"), (&manager, "MANAGER")] {
        let reply = app
            .gql(
                &t.host,
                Some(token),
                invite,
                json!({"e": email, "r": "SALES"}),
            )
            .await;
        assert_eq!(reply.error_code(), "FORBIDDEN", "{role} cannot invite");
    }
    // Reads are open to every role, writes of users only to admins and owners.
    app.gql(
        &t.host,
        Some(&viewer),
        "{ users { totalCount } pipelines { name } }",
        json!({}),
    )
    .await
    .ok();
    let owner_by_admin = app
        .gql(
            &t.host,
            Some(&tenant_admin),
            invite,
            json!({"e": email, "r": "OWNER"}),
        )
        .await;
    assert_eq!(
        owner_by_admin.error_code(),
        "FORBIDDEN",
        "only an owner makes owners"
    );
    app.gql(
        &t.host,
        Some(&tenant_admin),
        invite,
        json!({"e": email, "r": "SALES"}),
    )
    .await
    .ok();
    let deactivate = "mutation($u: ID!) { deactivateUser(userId: $u) { status } }";
    let by_viewer = app
        .gql(&t.host, Some(&viewer), deactivate, json!({"u": manager_id}))
        .await;
    assert_eq!(by_viewer.error_code(), "FORBIDDEN");
    let anonymous = app
        .gql(&t.host, None, "{ users { totalCount } }", json!({}))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    let by_owner = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            deactivate,
            json!({"u": manager_id}),
        )
        .await;
    assert_eq!(by_owner.ok().str("deactivateUser.status"), "DEACTIVATED");
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let mut codes = Vec::new();
    for _ in 0..11 {
        let reply = login(&app, &t.host, &t.owner_email, "wrong password!").await;
        codes.push(reply.error_code().to_owned());
    }
    assert!(
        codes[..10].iter().all(|c| c == "UNAUTHENTICATED"),
        "{codes:?}"
    );
    assert_eq!(codes[10], "RATE_LIMITED");
    // Even the right password is refused while the email is locked.
    let locked = login(&app, &t.host, &t.owner_email, PASSWORD).await;
    assert_eq!(locked.error_code(), "RATE_LIMITED");
    assert!(locked.body["errors"][0]["extensions"]["retryAfterSeconds"].is_number());
    // Another email of the same tenant is not locked out by them.
    let other = login(
        &app,
        &t.host,
        &format!("nobody@{}.example", t.slug),
        "wrong password!",
    )
    .await;
    assert_eq!(other.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn platform_admin_login_and_me() {
    let app = spawn_app().await;
    let email = format!("{}@platform.example", tests::random_slug());
    let (_, setup) = api::admin::service::create_admin(&app.app, &email)
        .await
        .expect("admin");
    let complete = "mutation($t: String!, $p: String!) { completeAdminSetup(token: $t, password: $p) { accessToken } }";
    let short = app
        .gql(
            &app.admin_host(),
            None,
            complete,
            json!({"t": setup, "p": "short"}),
        )
        .await;
    assert_eq!(short.error_code(), "BAD_USER_INPUT");
    app.gql(
        &app.admin_host(),
        None,
        complete,
        json!({"t": setup, "p": PASSWORD}),
    )
    .await
    .ok();
    let login = app.gql(&app.admin_host(), None, "mutation($e: String!, $p: String!) { adminLogin(email: $e, password: $p) { accessToken admin { email } } }", json!({"e": email, "p": PASSWORD})).await;
    let token = login.ok().str("adminLogin.accessToken");
    let me = app
        .gql(
            &app.admin_host(),
            Some(&token),
            "{ me { email } }",
            json!({}),
        )
        .await;
    assert_eq!(me.ok().str("me.email"), email);
    let anonymous = app
        .gql(
            &app.admin_host(),
            None,
            "{ tenants { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    let wrong = app.gql(&app.admin_host(), None, "mutation($e: String!) { adminLogin(email: $e, password: \"wrong password\") { accessToken } }", json!({"e": email})).await;
    assert_eq!(wrong.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn each_mutation_of_an_operation_stands_or_falls_alone() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let first = format!("first@{}.example", t.slug);
    let second = format!("second@{}.example", t.slug);
    let reply = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($a: String!, $b: String!) {
                a: inviteUser(email: $a, role: SALES) { user { email } }
                b: inviteUser(email: $a, role: VIEWER) { user { email } }
                c: inviteUser(email: $b, role: VIEWER) { user { email } }
            }",
            json!({"a": first, "b": second}),
        )
        .await;
    assert_eq!(reply.error_code(), "CONFLICT", "{:#}", reply.body);
    assert_eq!(reply.body["errors"][0]["path"], json!(["b"]));
    assert_eq!(reply.str("a.user.email"), first);
    assert_eq!(reply.str("c.user.email"), second);
    assert_eq!(
        user_status(&app, &t, &first).await,
        ("SALES".into(), "INVITED".into())
    );
    assert_eq!(
        user_status(&app, &t, &second).await,
        ("VIEWER".into(), "INVITED".into())
    );

    // A lone mutation that fails leaves nothing, and the next request works normally.
    let lone = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($a: String!) { inviteUser(email: $a, role: ADMIN) { inviteToken } }",
            json!({"a": first}),
        )
        .await;
    assert_eq!(lone.error_code(), "CONFLICT");
    assert_eq!(
        user_status(&app, &t, &first).await,
        ("SALES".into(), "INVITED".into())
    );
}
