//! The job store on each tenant's own storage: scheduled with the change that asks for it,
//! leased with a fence, retried with backoff, dead when spent, retried or cancelled by an
//! admin. Times are passed in, so leases run out without waiting.

use api::{
    jobs::{self, Handled, JobKind, JobState},
    tenancy::TxMode,
};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tests::{TestApp, TestTenant, spawn_app};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Greeting {
    to: String,
}

struct Greet;

impl JobKind for Greet {
    const KIND: &'static str = "test.greet";
    type Payload = Greeting;
    const MAX_ATTEMPTS: i32 = 2;
}

/// Every kind, leased for 30 s.
fn lease() -> Handled {
    Handled::any(Duration::seconds(30))
}

async fn tx(app: &TestApp, t: &TestTenant) -> sea_orm::DatabaseTransaction {
    let tenant = app.tenant(&t.slug).await;
    app.app
        .store
        .begin_tenant(&tenant, TxMode::Write)
        .await
        .expect("tenant transaction")
}

#[tokio::test]
async fn a_job_exists_only_if_its_transaction_commits() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let now = Utc::now();

    let rolled_back = tx(&app, &t).await;
    jobs::enqueue::<Greet, _>(
        &rolled_back,
        &Greeting {
            to: "nobody".into(),
        },
        now,
    )
    .await
    .expect("enqueued");
    rolled_back.rollback().await.expect("rolled back");

    let committed = tx(&app, &t).await;
    let id = jobs::enqueue::<Greet, _>(&committed, &Greeting { to: "Ann".into() }, now)
        .await
        .expect("enqueued");
    let timer = jobs::enqueue::<Greet, _>(
        &committed,
        &Greeting { to: "later".into() },
        now + Duration::minutes(10),
    )
    .await
    .expect("a timer");
    committed.commit().await.expect("committed");

    let worker = tx(&app, &t).await;
    let taken = jobs::take_due(&worker, now, &lease(), 10)
        .await
        .expect("taken");
    assert_eq!(
        taken.iter().map(|j| j.id).collect::<Vec<_>>(),
        [id],
        "only the committed, due job"
    );
    let job = &taken[0];
    assert_eq!(
        jobs::payload::<Greet>(job).expect("payload"),
        Greeting { to: "Ann".into() }
    );
    assert_eq!(
        (job.state.as_str(), job.attempts, job.fence),
        ("running", 1, 1)
    );
    let again = jobs::take_due(&worker, now, &lease(), 10)
        .await
        .expect("taken");
    assert!(again.is_empty(), "a leased job is not taken twice");
    jobs::complete(&worker, id, job.fence, json!({"sent": true}), now)
        .await
        .expect("completed");
    // The timer is a row, due in ten minutes: not before.
    let early = jobs::take_due(&worker, now + Duration::minutes(9), &lease(), 10)
        .await
        .expect("taken");
    assert!(early.is_empty());
    let due = jobs::take_due(&worker, now + Duration::minutes(10), &lease(), 10)
        .await
        .expect("taken");
    assert_eq!(due.iter().map(|j| j.id).collect::<Vec<_>>(), [timer]);
    worker.commit().await.expect("committed");

    let done = jobs::find(&tx(&app, &t).await, id).await.expect("the job");
    assert_eq!(
        (done.state.as_str(), done.result),
        ("done", Some(json!({"sent": true})))
    );

    // Another tenant's storage holds none of it.
    let theirs = tx(&app, &other).await;
    let nothing = jobs::take_due(&theirs, now + Duration::hours(1), &lease(), 10)
        .await
        .expect("taken");
    assert!(nothing.is_empty());
    let code = jobs::find(&theirs, id)
        .await
        .expect_err("not theirs")
        .code();
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_records_nothing() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let now = Utc::now();
    let setup = tx(&app, &t).await;
    let id = jobs::enqueue::<Greet, _>(&setup, &Greeting { to: "Bo".into() }, now)
        .await
        .expect("enqueued");
    setup.commit().await.expect("committed");

    let conn = tx(&app, &t).await;
    let a = jobs::take_due(&conn, now, &lease(), 1)
        .await
        .expect("A takes it")
        .remove(0);
    // A stalls past its lease; B takes the job over.
    let later = now + Duration::seconds(31);
    let b = jobs::take_due(&conn, later, &lease(), 1)
        .await
        .expect("B takes it")
        .remove(0);
    assert_eq!(b.id, id);
    assert!(b.fence > a.fence, "a new lease, a new fence");

    let refused = jobs::complete(&conn, id, a.fence, json!({"by": "A"}), later)
        .await
        .expect_err("A's late completion");
    assert_eq!(refused.code(), "CONFLICT");
    let refused = jobs::fail(&conn, id, a.fence, "A gave up", later)
        .await
        .expect_err("A's late failure");
    assert_eq!(refused.code(), "CONFLICT");
    jobs::complete(&conn, id, b.fence, json!({"by": "B"}), later)
        .await
        .expect("B completes");
    let job = jobs::find(&conn, id).await.expect("the job");
    assert_eq!(
        (job.state.as_str(), job.result),
        ("done", Some(json!({"by": "B"})))
    );
    assert!(
        job.errors.as_array().is_some_and(Vec::is_empty),
        "A wrote no error"
    );
}

#[tokio::test]
async fn failures_back_off_then_the_job_is_dead_until_an_admin_retries_it() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let now = Utc::now();
    let conn = tx(&app, &t).await;
    let id = jobs::enqueue::<Greet, _>(&conn, &Greeting { to: "Cy".into() }, now)
        .await
        .expect("enqueued");

    let first = jobs::take_due(&conn, now, &lease(), 1)
        .await
        .expect("taken")
        .remove(0);
    let retried = jobs::fail(&conn, id, first.fence, "the receiver said 503", now)
        .await
        .expect("recorded");
    assert_eq!(retried.state, JobState::Queued.as_str());
    assert!(retried.due_at > now, "retried after a backoff");
    let waiting = jobs::take_due(&conn, now, &lease(), 1)
        .await
        .expect("taken");
    assert!(waiting.is_empty(), "not before its backoff");

    let second = jobs::take_due(&conn, retried.due_at, &lease(), 1)
        .await
        .expect("taken")
        .remove(0);
    let dead = jobs::fail(
        &conn,
        id,
        second.fence,
        "the receiver said 500",
        retried.due_at,
    )
    .await
    .expect("recorded");
    assert_eq!(
        dead.state,
        JobState::Dead.as_str(),
        "{} attempts spent",
        Greet::MAX_ATTEMPTS
    );
    assert_eq!(dead.last_error.as_deref(), Some("the receiver said 500"));
    let history: Vec<&str> = dead
        .errors
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["error"].as_str())
        .collect();
    assert_eq!(history, ["the receiver said 503", "the receiver said 500"]);
    let far = now + Duration::days(1);
    assert!(
        jobs::take_due(&conn, far, &lease(), 1)
            .await
            .expect("taken")
            .is_empty()
    );

    let revived = jobs::retry(&conn, id, far).await.expect("retried");
    assert_eq!((revived.state.as_str(), revived.attempts), ("queued", 0));
    let third = jobs::take_due(&conn, far, &lease(), 1)
        .await
        .expect("taken")
        .remove(0);

    // Cancelled while running: the worker's outcome is refused, and it never runs again.
    jobs::cancel(&conn, id, far).await.expect("cancelled");
    let refused = jobs::complete(&conn, id, third.fence, json!({}), far)
        .await
        .expect_err("completion after cancel");
    assert_eq!(refused.code(), "CONFLICT");
    let later = far + Duration::days(1);
    assert!(
        jobs::take_due(&conn, later, &lease(), 1)
            .await
            .expect("taken")
            .is_empty()
    );
    assert_eq!(jobs::find(&conn, id).await.expect("job").state, "cancelled");
    let unknown = jobs::retry(&conn, uuid::Uuid::now_v7(), far)
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), "NOT_FOUND");
}

const JOBS: &str = "query($filter: JobFilterInput) { jobs(filter: $filter) { totalCount nodes { id kind state attempts maxAttempts payload lastError } } }";

#[tokio::test]
async fn admins_see_retry_and_cancel_their_jobs_and_nobody_else_does() {
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let (_, admin) = app.add_user(&t, "ADMIN").await;
    let (_, manager) = app.add_user(&t, "MANAGER").await;
    let now = Utc::now();
    let conn = tx(&app, &t).await;
    let id = jobs::enqueue::<Greet, _>(&conn, &Greeting { to: "Di".into() }, now)
        .await
        .expect("enqueued");
    let spent = jobs::take_due(&conn, now, &lease(), 1)
        .await
        .expect("taken")
        .remove(0);
    jobs::fail(&conn, id, spent.fence, "boom", now)
        .await
        .expect("failed");
    let done_id = jobs::enqueue::<Greet, _>(&conn, &Greeting { to: "Ed".into() }, now)
        .await
        .expect("enqueued");
    let running = jobs::take_due(&conn, now, &lease(), 1)
        .await
        .expect("taken")
        .remove(0);
    jobs::complete(&conn, done_id, running.fence, json!({}), now)
        .await
        .expect("done");
    conn.commit().await.expect("committed");

    let listed = app.gql(&t.host, Some(&admin), JOBS, json!({})).await;
    assert_eq!(listed.ok().data("jobs.totalCount"), 2);
    let queued = app
        .gql(
            &t.host,
            Some(&admin),
            JOBS,
            json!({"filter": {"state": "QUEUED"}}),
        )
        .await;
    let nodes = queued.ok().data("jobs.nodes").clone();
    assert_eq!(nodes[0]["id"], json!(id.to_string()), "{nodes:#}");
    assert_eq!(nodes[0]["lastError"], "boom");
    assert_eq!(nodes[0]["payload"], json!({"to": "Di"}));
    assert_eq!(nodes.as_array().map(Vec::len), Some(1));

    let refused = app.gql(&t.host, Some(&manager), JOBS, json!({})).await;
    assert_eq!(refused.error_code(), "FORBIDDEN", "a manager listing jobs");
    let theirs = app
        .gql(&other.host, Some(&other.owner_token), JOBS, json!({}))
        .await;
    assert_eq!(
        theirs.ok().data("jobs.totalCount"),
        0,
        "another tenant sees none"
    );
    let too_long = app
        .gql(
            &t.host,
            Some(&admin),
            JOBS,
            json!({"filter": {"kind": "k".repeat(65)}}),
        )
        .await;
    assert_eq!(too_long.error_code(), "BAD_USER_INPUT");

    let cancel = "mutation($id: ID!) { cancelJob(id: $id) { state } }";
    let retry = "mutation($id: ID!) { retryJob(id: $id) { state attempts } }";
    let by_manager = app
        .gql(
            &t.host,
            Some(&manager),
            cancel,
            json!({"id": id.to_string()}),
        )
        .await;
    assert_eq!(by_manager.error_code(), "FORBIDDEN");
    let from_elsewhere = app
        .gql(
            &other.host,
            Some(&other.owner_token),
            cancel,
            json!({"id": id.to_string()}),
        )
        .await;
    assert_eq!(
        from_elsewhere.error_code(),
        "NOT_FOUND",
        "another tenant's job"
    );
    let malformed = app
        .gql(&t.host, Some(&admin), cancel, json!({"id": "42"}))
        .await;
    assert_eq!(malformed.error_code(), "BAD_USER_INPUT");
    let done = app
        .gql(
            &t.host,
            Some(&admin),
            retry,
            json!({"id": done_id.to_string()}),
        )
        .await;
    assert_eq!(done.error_code(), "CONFLICT", "a done job is not retried");

    let cancelled = app
        .gql(&t.host, Some(&admin), cancel, json!({"id": id.to_string()}))
        .await;
    assert_eq!(cancelled.ok().str("cancelJob.state"), "CANCELLED");
    let retried = app
        .gql(&t.host, Some(&admin), retry, json!({"id": id.to_string()}))
        .await;
    assert_eq!(
        retried.ok().data("retryJob"),
        &json!({"state": "QUEUED", "attempts": 0})
    );
}

#[tokio::test]
async fn deleting_a_tenant_drops_its_jobs_and_keeps_them_in_its_backup() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let t = app.new_tenant().await;
    let tenant = app.tenant(&t.slug).await;
    let now = Utc::now();
    let conn = tx(&app, &t).await;
    let id = jobs::enqueue::<Greet, _>(&conn, &Greeting { to: "kept".into() }, now)
        .await
        .expect("enqueued");
    conn.commit().await.expect("committed");
    app.app.jobs.due(tenant.id, now).await;
    let control = app.app.store.control();
    let marks = || async {
        let mut sql = api::db::sql::Sql::on(control);
        let text = format!(
            "SELECT count(*) AS n FROM tenant_due_work WHERE tenant_id = {}",
            sql.bind(tenant.id)
        );
        let row = control
            .query_one_raw(sql.statement(text))
            .await
            .expect("counted")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("a count")
    };
    assert_eq!(
        marks().await,
        1,
        "the control plane knows the tenant has work"
    );

    let backup = app.delete_tenant(&t.slug).await;
    let backup = backup.to_string_lossy().into_owned();
    assert_eq!(marks().await, 0, "its mark went with it");
    let slug = api::tenancy::Slug::parse(&t.slug).expect("a slug");
    assert!(
        !app.app
            .store
            .tenant_storage_exists(&slug)
            .await
            .expect("checked")
    );

    // The backup holds the job.
    let backed_up = if app.app.store.is_postgres() {
        match std::process::Command::new("pg_restore")
            .args(["--data-only", "--table=jobs", "--file=-", &backup])
            .output()
        {
            Ok(output) => String::from_utf8_lossy(&output.stdout).into_owned(),
            Err(_) => {
                println!("pg_restore is not installed: the backup's jobs were not read back");
                return;
            }
        }
    } else {
        let copy = sea_orm::Database::connect(format!("sqlite://{backup}?mode=ro"))
            .await
            .expect("the backup opens");
        let rows = copy
            .query_all_raw(sea_orm::Statement::from_string(
                copy.get_database_backend(),
                "SELECT id, payload FROM jobs",
            ))
            .await
            .expect("jobs read");
        rows.iter()
            .map(|row| {
                let id: uuid::Uuid = row.try_get("", "id").expect("id");
                let payload: serde_json::Value = row.try_get("", "payload").expect("payload");
                format!("{id} {payload}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(backed_up.contains(&id.to_string()), "{backed_up}");
}
