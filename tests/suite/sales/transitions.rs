//! Every (state, action) pair of a quote: the legal ones work, the others are refused with a
//! typed code and change nothing, and `availableActions` is exactly the legal set.

use tests::{days_ago, id_sql};

use super::*;

const ACTIONS: [&str; 7] = [
    "EDIT", "DELETE", "SEND", "REVISE", "ACCEPT", "REJECT", "CANCEL",
];

/// A quote in `state`; its id.
async fn quote_in(app: &TestApp, t: &TestTenant, state: &str) -> String {
    let draft = simple_draft(app, t).await;
    let token = &t.owner_token;
    let data = |reply: Reply, field: &str| reply.ok().str(&format!("{field}.id"));
    match state {
        "DRAFT" => draft,
        "REVISION_DRAFT" => {
            send_quote(app, t, &draft).await;
            data(act(app, t, token, "REVISE", &draft).await, "reviseQuote")
        }
        "SENT" => send_quote(app, t, &draft).await.0["id"]
            .as_str()
            .expect("id")
            .to_owned(),
        "EXPIRED" => {
            send_quote(app, t, &draft).await;
            app.tenant_sql(
                &t.slug,
                &format!(
                    "UPDATE quotes SET expires_at = '{}' WHERE id = {}",
                    days_ago(1),
                    id_sql(&draft)
                ),
            )
            .await;
            draft
        }
        "ACCEPTED" | "REJECTED" => {
            send_quote(app, t, &draft).await;
            let action = if state == "ACCEPTED" {
                "ACCEPT"
            } else {
                "REJECT"
            };
            act(app, t, token, action, &draft).await.ok();
            draft
        }
        "SUPERSEDED" => {
            send_quote(app, t, &draft).await;
            act(app, t, token, "REVISE", &draft).await.ok();
            draft
        }
        "CANCELLED" => {
            act(app, t, token, "CANCEL", &draft).await.ok();
            draft
        }
        other => panic!("no state {other}"),
    }
}

#[tokio::test]
async fn every_state_allows_exactly_its_actions() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let (_, sales) = app.add_user(&t, "SALES").await;
    let legal: [(&str, &str, &[&str]); 8] = [
        ("DRAFT", "DRAFT", &["EDIT", "DELETE", "SEND", "CANCEL"]),
        ("REVISION_DRAFT", "DRAFT", &["EDIT", "SEND", "CANCEL"]),
        ("SENT", "SENT", &["REVISE", "ACCEPT", "REJECT", "CANCEL"]),
        ("EXPIRED", "EXPIRED", &["REVISE", "CANCEL"]),
        ("ACCEPTED", "ACCEPTED", &[]),
        ("REJECTED", "REJECTED", &["REVISE"]),
        ("SUPERSEDED", "SUPERSEDED", &[]),
        ("CANCELLED", "CANCELLED", &[]),
    ];
    for (state, status, allowed) in legal {
        let probe = quote_in(&app, &t, state).await;
        let before = read_quote(&app, &t, &probe).await;
        assert_eq!(before["status"], status, "{state}");
        assert_eq!(before["availableActions"], json!(allowed), "{state}");
        for action in ACTIONS {
            let id = quote_in(&app, &t, state).await;
            let before = read_quote(&app, &t, &id).await;
            let reply = act(&app, &t, &sales, action, &id).await;
            if allowed.contains(&action) {
                reply.ok();
                continue;
            }
            let expected = if state == "EXPIRED" && matches!(action, "ACCEPT" | "REJECT") {
                "EXPIRED"
            } else {
                "INVALID_TRANSITION"
            };
            assert_eq!(reply.error_code(), expected, "{action} on {state}");
            assert_eq!(
                read_quote(&app, &t, &id).await,
                before,
                "{action} on {state} changed it"
            );
        }
    }
}
