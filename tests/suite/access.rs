//! Every request and every WebSocket operation is authorized against the current state of
//! its user and tenant, not what the token said when it was issued: deactivation, demotion,
//! signing out everywhere, suspension and deletion apply at once, on every instance.

use serde_json::{Value, json};
use tests::{Refusal, TestApp, TestTenant, claims_of, random_slug, sign_claims, spawn_app};

const CREATE_CONTACT: &str =
    "mutation($n: String!) { createContact(input: {firstName: $n}) { id } }";
const INVITE_ADMIN: &str =
    "mutation($e: String!) { inviteUser(email: $e, role: ADMIN) { inviteToken } }";
const FOLLOW: &str =
    "subscription($after: Int) { events(after: $after) { sequence type payload } }";

async fn contact_count(app: &TestApp, t: &TestTenant) -> i64 {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "{ contacts { totalCount } }",
        json!({}),
    )
    .await
    .ok()
    .data("contacts.totalCount")
    .as_i64()
    .expect("a count")
}

async fn user_count(app: &TestApp, t: &TestTenant) -> i64 {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "{ users { totalCount } }",
        json!({}),
    )
    .await
    .ok()
    .data("users.totalCount")
    .as_i64()
    .expect("a count")
}

async fn deactivate(app: &TestApp, t: &TestTenant, user_id: &str) {
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($u: ID!) { deactivateUser(userId: $u) { status } }",
        json!({"u": user_id}),
    )
    .await
    .ok();
}

/// The tenant's events over `graphql-transport-ws`, as `token`.
async fn follow(
    app: &TestApp,
    host: &str,
    token: &str,
    variables: Value,
) -> Result<tests::Subscription, Refusal> {
    app.subscribe(host, Some(token), "graphql-transport-ws", FOLLOW, variables)
        .await
}

/// Repeats `request` until it is refused with `code`, for at most 10 s (another instance
/// hears of a change within about a second).
async fn refused_soon<F, Fut>(what: &str, code: &str, request: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = tests::Reply>,
{
    for _ in 0..200 {
        if request().await.code() == Some(code) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what}: never refused with {code}");
}

#[tokio::test]
async fn a_deactivated_admins_token_is_refused_at_once_and_on_another_instance() {
    let first = spawn_app().await;
    let second = first.another_instance().await;
    let admin = first.admin_token().await;
    let t = first.provision(&admin).await;
    let (admin_id, admin_token) = first.add_user(&t, "ADMIN").await;
    // Both instances have seen the admin active (and cached it).
    for app in [&first, &second] {
        app.gql(
            &t.host,
            Some(&admin_token),
            CREATE_CONTACT,
            json!({"n": "Before"}),
        )
        .await
        .ok();
    }
    deactivate(&first, &t, &admin_id).await;
    let contacts = contact_count(&first, &t).await;
    let users = user_count(&first, &t).await;

    let write = first
        .gql(
            &t.host,
            Some(&admin_token),
            CREATE_CONTACT,
            json!({"n": "After"}),
        )
        .await;
    assert_eq!(write.error_code(), "UNAUTHENTICATED", "{:#}", write.body);
    let email = format!("{}@backdoor.example", random_slug());
    let invite = first
        .gql(
            &t.host,
            Some(&admin_token),
            INVITE_ADMIN,
            json!({"e": email}),
        )
        .await;
    assert_eq!(invite.error_code(), "UNAUTHENTICATED");
    // The second instance hears of it within about a second; until then it is probed
    // with a read only.
    refused_soon("the second instance", "UNAUTHENTICATED", || {
        second.gql(&t.host, Some(&admin_token), "{ me { id } }", json!({}))
    })
    .await;
    let invite = second
        .gql(
            &t.host,
            Some(&admin_token),
            INVITE_ADMIN,
            json!({"e": email}),
        )
        .await;
    assert_eq!(invite.error_code(), "UNAUTHENTICATED");
    assert_eq!(contact_count(&first, &t).await, contacts, "nothing written");
    assert_eq!(user_count(&first, &t).await, users, "nobody invited");
}

#[tokio::test]
async fn a_demoted_user_acts_with_the_new_role_at_once() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (user_id, token) = app.add_user(&t, "SALES").await;
    app.gql(&t.host, Some(&token), CREATE_CONTACT, json!({"n": "Sold"}))
        .await
        .ok();
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($u: ID!) { setUserRole(userId: $u, role: VIEWER) { role } }",
        json!({"u": user_id}),
    )
    .await
    .ok();
    let contacts = contact_count(&app, &t).await;
    let write = app
        .gql(
            &t.host,
            Some(&token),
            CREATE_CONTACT,
            json!({"n": "Denied"}),
        )
        .await;
    assert_eq!(write.error_code(), "FORBIDDEN", "{:#}", write.body);
    assert_eq!(contact_count(&app, &t).await, contacts);
    let read = app
        .gql(
            &t.host,
            Some(&token),
            "{ contacts { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(read.ok().data("contacts.totalCount"), contacts);

    // Promoted again, the same token may write again.
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($u: ID!) { setUserRole(userId: $u, role: SALES) { role } }",
        json!({"u": user_id}),
    )
    .await
    .ok();
    app.gql(&t.host, Some(&token), CREATE_CONTACT, json!({"n": "Again"}))
        .await
        .ok();
}

#[tokio::test]
async fn a_signed_token_for_a_user_who_does_not_exist_is_refused() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let mut claims = claims_of(&t.owner_token);
    claims["sub"] = json!(uuid::Uuid::now_v7().to_string());
    let forged = sign_claims(&claims);
    let reply = app
        .gql(&t.host, Some(&forged), "{ me { id } }", json!({}))
        .await;
    assert_eq!(reply.error_code(), "UNAUTHENTICATED");
    let write = app
        .gql(
            &t.host,
            Some(&forged),
            CREATE_CONTACT,
            json!({"n": "Ghost"}),
        )
        .await;
    assert_eq!(write.error_code(), "UNAUTHENTICATED");
    let socket = follow(&app, &t.host, &forged, json!({})).await;
    assert!(matches!(socket, Err(Refusal::Closed(4403))));
}

#[tokio::test]
async fn signing_out_everywhere_ends_the_access_tokens_too() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, token) = app.add_user(&t, "SALES").await;
    app.gql(&t.host, Some(&token), "mutation { logout }", json!({}))
        .await
        .ok();
    let after = app
        .gql(&t.host, Some(&token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(after.error_code(), "UNAUTHENTICATED");
    // Signing out one session (by its refresh token) leaves the access token alone.
    app.gql(
        &t.host,
        Some(&t.owner_token),
        "mutation($r: String!) { logout(refreshToken: $r) }",
        json!({"r": t.owner_refresh}),
    )
    .await
    .ok();
    app.gql(&t.host, Some(&t.owner_token), "{ me { id } }", json!({}))
        .await
        .ok();
}

/// A token like `token` whose expiry is `seconds` from now.
fn expiring_in(token: &str, seconds: i64) -> String {
    let mut claims = claims_of(token);
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now);
    claims["nbf"] = json!(now);
    claims["exp"] = json!(now + seconds);
    sign_claims(&claims)
}

#[tokio::test]
async fn a_socket_is_closed_when_its_token_expires() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let short = expiring_in(&t.owner_token, 2);
    let mut sub = follow(&app, &t.host, &short, json!({"after": 0}))
        .await
        .expect("subscribed while the token is valid");
    assert_eq!(sub.close_code().await, 4401);
}

#[tokio::test]
async fn a_deactivated_user_can_open_no_connection_and_start_nothing() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (user_id, token) = app.add_user(&t, "SALES").await;
    let mut open = follow(&app, &t.host, &token, json!({}))
        .await
        .expect("subscribed");
    deactivate(&app, &t, &user_id).await;
    // The open subscription ends; a new one on the same connection is refused.
    let mut message = open.next_message().await;
    while message["type"] == "next" {
        message = open.next_message().await;
    }
    assert_eq!(message["type"], "complete", "{message}");
    open.start("2", FOLLOW, json!({"after": 0})).await;
    let refused = open.next_message().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
    let reconnect = follow(&app, &t.host, &token, json!({})).await;
    assert!(matches!(reconnect, Err(Refusal::Closed(4403))));
}

#[tokio::test]
async fn a_suspended_tenants_connection_ends_its_subscriptions_and_starts_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = app.provision(&admin).await;
    let mut sub = follow(&app, &t.host, &t.owner_token, json!({}))
        .await
        .expect("subscribed");
    app.gql(
        &app.admin_host(),
        Some(&admin),
        "mutation($s: String!) { suspendTenant(slug: $s) { status } }",
        json!({"s": t.slug}),
    )
    .await
    .ok();
    assert_eq!(sub.next_message().await["type"], "complete");
    sub.start("2", FOLLOW, json!({"after": 0})).await;
    let refused = sub.next_message().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "TENANT_SUSPENDED",
        "{refused}"
    );
}

#[tokio::test]
async fn a_slug_deleted_and_provisioned_again_is_out_of_reach_of_an_old_socket() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let slug = random_slug();
    let old = app.provision_slug(&admin, &slug).await;
    let old_tenant = app.tenant(&slug).await;
    let mut sub = follow(&app, &old.host, &old.owner_token, json!({}))
        .await
        .expect("subscribed");
    app.gql(
        &app.admin_host(),
        Some(&admin),
        "mutation($s: String!) { deleteTenant(slug: $s) { slug } }",
        json!({"s": slug}),
    )
    .await
    .ok();
    // Deleted, its storage is gone: nothing to reach.
    let read = app
        .app
        .store
        .read(&old_tenant, |_| Box::pin(async { Ok(()) }))
        .await;
    assert!(
        matches!(read, Err(api::error::AppError::TenantNotFound)),
        "{read:?}"
    );
    let new = app.provision_slug(&admin, &slug).await;
    app.gql(
        &new.host,
        Some(&new.owner_token),
        CREATE_CONTACT,
        json!({"n": "Newcomer"}),
    )
    .await
    .ok();
    let mut message = sub.next_message().await;
    assert_ne!(message["type"], "next", "the old socket saw {message}");
    assert_eq!(message["type"], "complete", "{message}");
    sub.start("2", FOLLOW, json!({"after": 0})).await;
    message = sub.next_message().await;
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "TENANT_NOT_FOUND",
        "{message}"
    );
    // Storage is addressed by the tenant's id: the old tenant's reaches nothing now.
    let read = app
        .app
        .store
        .read(&old_tenant, |_| Box::pin(async { Ok(()) }))
        .await;
    assert!(
        matches!(read, Err(api::error::AppError::TenantNotFound)),
        "{read:?}"
    );
    // The old owner's token names the old tenant's id: refused on the new one.
    let reply = app
        .gql(
            &new.host,
            Some(&old.owner_token),
            "{ contacts { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_init_timeout() {
    let app = tests::spawn_app_with(|c| {
        c.limits.websocket_init_timeout = std::time::Duration::from_millis(300)
    })
    .await;
    let t = app.new_tenant().await;
    let mut socket = app.raw_socket(&t.host).await;
    assert_eq!(socket.close_code().await, 4408);
}

#[tokio::test]
async fn a_large_message_before_connection_init_is_refused_unread() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let mut socket = app.raw_socket(&t.host).await;
    let padding = "x".repeat(64 * 1024);
    let init: Value = json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", t.owner_token), "padding": padding}});
    socket.send_text(init.to_string()).await;
    assert_eq!(socket.close_code().await, 4400);
}
