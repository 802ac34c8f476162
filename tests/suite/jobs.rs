//! The job store on each tenant's own storage: scheduled with the change that asks for it,
//! leased with a fence, retried with backoff, dead when spent, retried or cancelled by an
//! admin. Times are passed in, so leases run out without waiting.

use api::{
    jobs::{self, JobKind, JobState},
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
    let taken = jobs::take_due(&worker, now, Duration::seconds(30), 10)
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
    let again = jobs::take_due(&worker, now, Duration::seconds(30), 10)
        .await
        .expect("taken");
    assert!(again.is_empty(), "a leased job is not taken twice");
    jobs::complete(&worker, id, job.fence, json!({"sent": true}), now)
        .await
        .expect("completed");
    // The timer is a row, due in ten minutes: not before.
    let early = jobs::take_due(
        &worker,
        now + Duration::minutes(9),
        Duration::seconds(30),
        10,
    )
    .await
    .expect("taken");
    assert!(early.is_empty());
    let due = jobs::take_due(
        &worker,
        now + Duration::minutes(10),
        Duration::seconds(30),
        10,
    )
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
    let nothing = jobs::take_due(&theirs, now + Duration::hours(1), Duration::seconds(30), 10)
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
    let a = jobs::take_due(&conn, now, Duration::seconds(30), 1)
        .await
        .expect("A takes it")
        .remove(0);
    // A stalls past its lease; B takes the job over.
    let later = now + Duration::seconds(31);
    let b = jobs::take_due(&conn, later, Duration::seconds(30), 1)
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

    let first = jobs::take_due(&conn, now, Duration::seconds(30), 1)
        .await
        .expect("taken")
        .remove(0);
    let retried = jobs::fail(&conn, id, first.fence, "the receiver said 503", now)
        .await
        .expect("recorded");
    assert_eq!(retried.state, JobState::Queued.as_str());
    assert!(retried.due_at > now, "retried after a backoff");
    let waiting = jobs::take_due(&conn, now, Duration::seconds(30), 1)
        .await
        .expect("taken");
    assert!(waiting.is_empty(), "not before its backoff");

    let second = jobs::take_due(&conn, retried.due_at, Duration::seconds(30), 1)
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
        jobs::take_due(&conn, far, Duration::seconds(30), 1)
            .await
            .expect("taken")
            .is_empty()
    );

    let revived = jobs::retry(&conn, id, far).await.expect("retried");
    assert_eq!((revived.state.as_str(), revived.attempts), ("queued", 0));
    let third = jobs::take_due(&conn, far, Duration::seconds(30), 1)
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
        jobs::take_due(&conn, later, Duration::seconds(30), 1)
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
