//! Jobs run by real workers: in the test server, and in worker processes of their own that
//! the tests kill (`kill -9`) or pause (`SIGSTOP`). Each test has a job kind of its own, so
//! that on the shared PostgreSQL database one test's workers never take another's jobs.

use std::{
    collections::HashMap,
    marker::PhantomData,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use api::{
    Application, Verticals,
    db::sql::Sql,
    error::{AppError, AppResult},
    events::{
        catalog::EventType,
        log::{self, NewEvent},
    },
    jobs::{self, JobHandler, JobKind, JobRun},
    tenancy::{Tenant, TenantTx, TxMode},
};
use chrono::{DateTime, Utc};
use reqwest::{Method, header::HeaderMap};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tests::{TestApp, TestTenant, spawn_app_registering};
use tokio::{io::AsyncWriteExt, net::TcpListener, sync::Notify};

/// What a probe does: call a receiver first (with the job's id as its idempotency key),
/// work for a while, then record that it ran, in the job's own transaction.
#[derive(Serialize, Deserialize, Default)]
struct ProbeOrder {
    call: Option<String>,
    work_ms: u64,
    fail: bool,
}

/// The event a probe records when it runs: the side effect the tests count.
const PROBE_RAN: EventType = EventType::new("job_probe.ran");

trait ProbeName: Send + Sync + 'static {
    const NAME: &'static str;
}

struct Probe<N>(PhantomData<N>);

impl<N: ProbeName> JobKind for Probe<N> {
    const KIND: &'static str = N::NAME;
    type Payload = ProbeOrder;
    const MAX_ATTEMPTS: i32 = 2;
    const LEASE: Duration = Duration::from_secs(3);
}

impl<N: ProbeName> JobHandler for Probe<N> {
    async fn run(run: &JobRun, order: ProbeOrder) -> AppResult<Value> {
        let started_at = Utc::now();
        if let Some(url) = &order.call {
            let mut headers = HeaderMap::new();
            headers.insert(
                "Idempotency-Key",
                run.id().to_string().parse().expect("a header value"),
            );
            run.outbound()?
                .send(Method::POST, url, headers, None)
                .await
                .map_err(|e| AppError::internal(format!("the receiver: {e}")))?;
        }
        tokio::time::sleep(Duration::from_millis(order.work_ms)).await;
        if order.fail {
            return Err(AppError::internal(format!(
                "attempt {} failed on purpose",
                run.attempt()
            )));
        }
        log::append(
            run.conn().await?,
            NewEvent {
                event_type: PROBE_RAN,
                entity_id: run.id(),
                actor: None,
                payload: json!({"attempt": run.attempt(), "started_at": started_at}),
            },
        )
        .await?;
        Ok(json!({"attempt": run.attempt()}))
    }
}

macro_rules! probe {
    ($name:ident = $kind:literal, $register:ident) => {
        struct $name;
        impl ProbeName for $name {
            const NAME: &'static str = $kind;
        }
        fn $register(verticals: &mut Verticals) {
            verticals.handle::<Probe<$name>>();
        }
    };
}

probe!(Once = "test.probe_once", register_once);
probe!(Retried = "test.probe_retried", register_retried);
probe!(Fair = "test.probe_fair", register_fair);
probe!(Stalled = "test.probe_stalled", register_stalled);
probe!(Restarted = "test.probe_restarted", register_restarted);

/// Schedules one probe of kind `K` per order in one transaction, committed unless
/// `commit` is false; their ids.
async fn schedule<K: JobKind<Payload = ProbeOrder>>(
    app: &TestApp,
    tenant: &Tenant,
    orders: Vec<(ProbeOrder, DateTime<Utc>)>,
    commit: bool,
) -> Vec<uuid::Uuid> {
    let tx = TenantTx::new(
        app.app.store.clone(),
        Arc::new(tenant.clone()),
        TxMode::Write,
        false,
    );
    let mut ids = Vec::new();
    for (order, due_at) in orders {
        ids.push(
            jobs::schedule::<K>(&app.app, &tx, &order, due_at)
                .await
                .expect("scheduled"),
        );
    }
    if commit {
        tx.finish().await.expect("committed");
    } else {
        // Dropped without a commit: rolled back.
        drop(tx);
    }
    ids
}

/// The tenant's jobs by id: state, attempts, fence, result.
async fn job_rows(app: &TestApp, tenant: &Tenant) -> HashMap<uuid::Uuid, Value> {
    let rows = app
        .app
        .store
        .read(tenant, |tx| {
            Box::pin(async move {
                Ok(tx
                    .query_all_raw(sea_orm::Statement::from_string(
                        tx.get_database_backend(),
                        "SELECT id, state, attempts, fence, result, errors FROM jobs",
                    ))
                    .await?)
            })
        })
        .await
        .expect("jobs read");
    rows.iter()
        .map(|row| {
            let id: uuid::Uuid = row.try_get("", "id").expect("id");
            let state: String = row.try_get("", "state").expect("state");
            let attempts: i32 = row.try_get("", "attempts").expect("attempts");
            let fence: i64 = row.try_get("", "fence").expect("fence");
            let result: Option<Value> = row.try_get("", "result").expect("result");
            let errors: Value = row.try_get("", "errors").expect("errors");
            (
                id,
                json!({"state": state, "attempts": attempts, "fence": fence,
                       "result": result, "errors": errors}),
            )
        })
        .collect()
}

/// How many times each job recorded its side effect, and when each run started.
async fn side_effects(
    app: &TestApp,
    tenant: &Tenant,
) -> (
    HashMap<uuid::Uuid, usize>,
    HashMap<uuid::Uuid, DateTime<Utc>>,
) {
    let events = app
        .app
        .store
        .read(tenant, |tx| {
            Box::pin(async move {
                log::read_after(tx, 0, &[PROBE_RAN.name().to_owned()], 100_000).await
            })
        })
        .await
        .expect("events read");
    let mut counts = HashMap::new();
    let mut started = HashMap::new();
    for event in events {
        *counts.entry(event.entity_id).or_default() += 1;
        let at: DateTime<Utc> =
            serde_json::from_value(event.payload["started_at"].clone()).expect("a time");
        started.insert(event.entity_id, at);
    }
    (counts, started)
}

/// Waits (at most `limit`) until `done` holds of the tenant's jobs; panics with them if not.
async fn wait_for(
    app: &TestApp,
    tenant: &Tenant,
    limit: Duration,
    what: &str,
    done: impl Fn(&HashMap<uuid::Uuid, Value>) -> bool,
) -> HashMap<uuid::Uuid, Value> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let rows = job_rows(app, tenant).await;
        if done(&rows) {
            return rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {limit:?}; jobs: {:?}",
            rows.values().take(5).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn count_in(rows: &HashMap<uuid::Uuid, Value>, state: &str) -> usize {
    rows.values().filter(|job| job["state"] == state).count()
}

async fn app_with_workers(register: tests::Register, workers: usize) -> (TestApp, TestTenant) {
    let app = spawn_app_registering(
        |config| {
            config.jobs.workers = workers;
            config.jobs.per_tenant = 2;
        },
        register,
    )
    .await;
    let t = app.new_tenant().await;
    (app, t)
}

#[tokio::test]
async fn a_committed_job_runs_once_and_a_rolled_back_one_never() {
    let (app, t) = app_with_workers(register_once, 2).await;
    let tenant = app.tenant(&t.slug).await;
    let other = app.new_tenant().await;
    let other_tenant = app.tenant(&other.slug).await;
    let now = Utc::now();

    let dropped =
        schedule::<Probe<Once>>(&app, &tenant, vec![(ProbeOrder::default(), now)], false).await;
    let kept =
        schedule::<Probe<Once>>(&app, &tenant, vec![(ProbeOrder::default(), now)], true).await;

    let rows = wait_for(
        &app,
        &tenant,
        Duration::from_secs(20),
        "the committed job ran",
        |rows| count_in(rows, "done") == 1,
    )
    .await;
    assert_eq!(
        rows.len(),
        1,
        "the rolled-back job does not exist: {rows:?}"
    );
    assert!(!rows.contains_key(&dropped[0]));
    let job = &rows[&kept[0]];
    assert_eq!(
        (job["attempts"].as_i64(), &job["result"]),
        (Some(1), &json!({"attempt": 1}))
    );
    let (effects, _) = side_effects(&app, &tenant).await;
    assert_eq!(
        effects,
        HashMap::from([(kept[0], 1)]),
        "exactly one side effect"
    );

    // The tenant's admin sees it through the API.
    let listed = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "{ jobs(first: 10) { nodes { id kind state attempts result } } }",
            json!({}),
        )
        .await;
    let nodes = listed
        .ok()
        .data("jobs.nodes")
        .as_array()
        .expect("a list")
        .clone();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["state"], "DONE");
    assert_eq!(nodes[0]["kind"], "test.probe_once");
    // Nothing ran in the other tenant, and nothing of it is seen from there.
    assert!(job_rows(&app, &other_tenant).await.is_empty());
    assert!(side_effects(&app, &other_tenant).await.0.is_empty());

    // Workers count what they ran on /metrics.
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("nexo_job_runs_total{kind=\"test.probe_once\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_failing_job_is_retried_after_a_backoff_then_dead_and_an_admin_can_retry_it() {
    let (app, t) = app_with_workers(register_retried, 2).await;
    let tenant = app.tenant(&t.slug).await;
    let failing = ProbeOrder {
        fail: true,
        ..Default::default()
    };
    let id = schedule::<Probe<Retried>>(&app, &tenant, vec![(failing, Utc::now())], true).await[0];

    let rows = wait_for(&app, &tenant, Duration::from_secs(30), "dead", |rows| {
        count_in(rows, "dead") == 1
    })
    .await;
    let job = &rows[&id];
    assert_eq!(job["attempts"], 2, "its kind allows two attempts: {job}");
    let errors = job["errors"].as_array().expect("a history");
    assert_eq!(errors.len(), 2, "{job}");
    assert_eq!(
        errors[0]["error"],
        "internal error: attempt 1 failed on purpose"
    );
    assert_eq!(errors[1]["attempt"], 2);
    let at = |i: usize| -> DateTime<Utc> {
        serde_json::from_value(errors[i]["at"].clone()).expect("a time")
    };
    // The second attempt waited for its backoff: 2 s, less at most a fifth of jitter.
    assert!(
        at(1) - at(0) >= chrono::Duration::milliseconds(1_600),
        "{errors:?}"
    );
    assert!(side_effects(&app, &tenant).await.0.is_empty());

    // The admin sees it dead, with its history, and retries it: two more attempts.
    let retried = app
        .gql(
            &t.host,
            Some(&t.owner_token),
            "mutation($id: ID!) { retryJob(id: $id) { state attempts } }",
            json!({"id": id.to_string()}),
        )
        .await;
    assert_eq!(retried.ok().data("retryJob.state"), "QUEUED");
    let rows = wait_for(
        &app,
        &tenant,
        Duration::from_secs(30),
        "dead again",
        |rows| {
            rows[&id]["state"] == "dead" && rows[&id]["errors"].as_array().map(Vec::len) == Some(4)
        },
    )
    .await;
    assert_eq!(rows[&id]["attempts"], 2);

    let metrics = app.metrics().await;
    for line in [
        "nexo_job_runs_total{kind=\"test.probe_retried\"} 4",
        "nexo_job_failures_total{kind=\"test.probe_retried\"} 4",
        "nexo_jobs_dead_total{kind=\"test.probe_retried\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

#[tokio::test]
async fn one_tenants_backlog_does_not_hold_up_another_tenants_jobs() {
    // Four slots, at most two for one tenant.
    let (app, busy) = app_with_workers(register_fair, 4).await;
    let busy = app.tenant(&busy.slug).await;
    let quiet = app.new_tenant().await;
    let quiet = app.tenant(&quiet.slug).await;
    let now = Utc::now();
    let work = || ProbeOrder {
        work_ms: 20,
        ..Default::default()
    };
    schedule::<Probe<Fair>>(&app, &busy, (0..400).map(|_| (work(), now)).collect(), true).await;
    // Due later than all of the busy tenant's: first come, first served would run them last.
    let later = now + chrono::Duration::milliseconds(10);
    schedule::<Probe<Fair>>(
        &app,
        &quiet,
        (0..5).map(|_| (work(), later)).collect(),
        true,
    )
    .await;

    wait_for(
        &app,
        &quiet,
        Duration::from_secs(20),
        "the quiet tenant's jobs",
        |rows| count_in(rows, "done") == 5,
    )
    .await;
    let busy_rows = job_rows(&app, &busy).await;
    let left = busy_rows.len() - count_in(&busy_rows, "done");
    // 400 jobs of 20 ms on the busy tenant's two slots take four seconds.
    assert!(
        left > 200,
        "the quiet tenant waited for the busy one's backlog: {left} left"
    );
    wait_for(
        &app,
        &busy,
        Duration::from_secs(60),
        "the backlog",
        |rows| count_in(rows, "done") == 400,
    )
    .await;
}

probe!(Paused = "test.probe_paused", register_paused);

#[tokio::test]
async fn a_suspended_tenants_jobs_wait_until_it_is_resumed() {
    let (app, t) = app_with_workers(register_paused, 2).await;
    let tenant = app.tenant(&t.slug).await;
    let admin = app.admin_token().await;
    let admin_call = |mutation: &'static str| {
        let (app, admin, slug) = (&app, admin.clone(), t.slug.clone());
        async move {
            app.gql(
                &app.admin_host(),
                Some(&admin),
                mutation,
                json!({"slug": slug}),
            )
            .await
            .ok();
        }
    };
    admin_call("mutation($slug: String!) { suspendTenant(slug: $slug) { status } }").await;
    let id = schedule::<Probe<Paused>>(
        &app,
        &tenant,
        vec![(ProbeOrder::default(), Utc::now())],
        true,
    )
    .await[0];
    // A second, running tenant's job runs meanwhile: the workers are not idle.
    let other = app.new_tenant().await;
    let other = app.tenant(&other.slug).await;
    schedule::<Probe<Paused>>(
        &app,
        &other,
        vec![(ProbeOrder::default(), Utc::now())],
        true,
    )
    .await;
    wait_for(
        &app,
        &other,
        Duration::from_secs(20),
        "the running tenant's job",
        |rows| count_in(rows, "done") == 1,
    )
    .await;
    assert_eq!(job_rows(&app, &tenant).await[&id]["state"], "queued");

    admin_call("mutation($slug: String!) { resumeTenant(slug: $slug) { status } }").await;
    wait_for(
        &app,
        &tenant,
        Duration::from_secs(20),
        "the resumed tenant's job",
        |rows| count_in(rows, "done") == 1,
    )
    .await;
}

/// The variables that make a run of this test binary a worker process.
const CHILD_DATA_DIR: &str = "NEXO_TEST_WORKER_DATA_DIR";
const CHILD_LISTEN: &str = "NEXO_TEST_WORKER_LISTEN";
const CHILD_KIND: &str = "NEXO_TEST_WORKER_KIND";

/// Not a test: the body of the worker processes the tests below start (a Nexo server with
/// four job workers, on the test server's database, with one probe kind), which they kill
/// or pause. Does nothing unless a test started it.
#[tokio::test]
#[ignore = "run by the job tests as a process of its own"]
async fn worker_process() {
    let (Ok(dir), Ok(listen), Ok(kind)) = (
        std::env::var(CHILD_DATA_DIR),
        std::env::var(CHILD_LISTEN),
        std::env::var(CHILD_KIND),
    ) else {
        return;
    };
    tests::init_logs();
    let mut config = tests::test_config(Path::new(&dir));
    config.listen = listen.parse().expect("an address");
    config.jobs.workers = 4;
    config.jobs.per_tenant = 4;
    config.outbound.allow = vec!["127.0.0.1/32".parse().expect("a network")];
    let register: tests::Register = match kind.as_str() {
        Stalled::NAME => register_stalled,
        Restarted::NAME => register_restarted,
        other => panic!("no probe kind {other}"),
    };
    let application = Application::build_with(config, register)
        .await
        .expect("the worker process starts");
    application
        .run_until_stopped(std::future::pending())
        .await
        .expect("serves");
}

/// A worker process: this test binary running [`worker_process`].
struct WorkerProcess {
    child: Child,
    port: u16,
}

impl WorkerProcess {
    async fn start(data_dir: &Path, kind: &str) -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("its address").port()
        };
        let child = Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "job_workers::worker_process",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DATA_DIR, data_dir)
            .env(CHILD_LISTEN, format!("127.0.0.1:{port}"))
            .env(CHILD_KIND, kind)
            .stdout(if std::env::var("TEST_LOG").is_ok() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("the worker process starts");
        let process = Self { child, port };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while process.metrics().await.is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the worker process did not come up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process
    }

    async fn metrics(&self) -> Option<String> {
        let response = reqwest::get(format!("http://127.0.0.1:{}/metrics", self.port))
            .await
            .ok()?;
        response.text().await.ok()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal}");
    }

    /// `kill -9`.
    fn kill(mut self) {
        self.child.kill().expect("killed");
        self.child.wait().expect("reaped");
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A receiver of probes' calls: records each call's idempotency key; the first call is
/// answered only when `release` is notified.
struct Receiver {
    url: String,
    keys: Arc<Mutex<Vec<String>>>,
    release: Arc<Notify>,
}

async fn receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a receiver");
    let url = format!("http://{}/", listener.local_addr().expect("its address"));
    let keys = Arc::new(Mutex::new(Vec::new()));
    let release = Arc::new(Notify::new());
    let (recorded, held) = (keys.clone(), release.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (recorded, held) = (recorded.clone(), held.clone());
            tokio::spawn(async move {
                let Some(head) = tests::read_request_head(&mut socket).await else {
                    return;
                };
                let key = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("idempotency-key")
                            .then(|| value.trim().to_owned())
                    })
                    .unwrap_or_default();
                let first = {
                    let mut keys = recorded.lock().expect("keys");
                    keys.push(key);
                    keys.len() == 1
                };
                if first {
                    held.notified().await;
                }
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    Receiver { url, keys, release }
}

#[tokio::test]
async fn a_stalled_worker_loses_its_job_and_its_late_outcome_is_refused() {
    let app = spawn_app_registering(|_| {}, register_stalled).await;
    let t = app.new_tenant().await;
    let tenant = app.tenant(&t.slug).await;
    let receiver = receiver().await;
    let a = WorkerProcess::start(app.data_dir(), Stalled::NAME).await;
    let order = ProbeOrder {
        call: Some(receiver.url.clone()),
        ..Default::default()
    };
    let id = schedule::<Probe<Stalled>>(&app, &tenant, vec![(order, Utc::now())], true).await[0];

    // Worker A is mid-job (its call reached the receiver): pause the whole process.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while receiver.keys.lock().expect("keys").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "A never called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.signal("-STOP");
    receiver.release.notify_one();

    // Its lease (3 s) runs out; worker B, in the test server, takes the job over.
    let b = app
        .another_instance_with(|config| {
            config.jobs.workers = 1;
            config.outbound.allow = vec!["127.0.0.1/32".parse().expect("a network")];
        })
        .await;
    let rows = wait_for(
        &b,
        &tenant,
        Duration::from_secs(30),
        "B completed the job",
        |rows| rows[&id]["state"] == "done",
    )
    .await;
    assert_eq!(rows[&id]["result"], json!({"attempt": 2}), "B's outcome");
    assert_eq!(rows[&id]["fence"], 2);

    // A resumes and finishes its attempt: its outcome is refused.
    a.signal("-CONT");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = a.metrics().await.unwrap_or_default();
        if metrics.contains("nexo_job_lost_leases_total{kind=\"test.probe_stalled\"} 1") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never finished: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = job_rows(&app, &tenant).await;
    assert_eq!(
        rows[&id]["result"],
        json!({"attempt": 2}),
        "A wrote nothing"
    );
    let (effects, _) = side_effects(&app, &tenant).await;
    assert_eq!(effects, HashMap::from([(id, 1)]), "exactly one side effect");
    // Both attempts called out with the same idempotency key, for the receiver to see the
    // repeat.
    let keys = receiver.keys.lock().expect("keys").clone();
    assert_eq!(keys, vec![id.to_string(), id.to_string()]);
}

#[tokio::test]
async fn after_kill_9_every_job_completes_once_and_timers_fire_on_time() {
    let app = spawn_app_registering(|_| {}, register_restarted).await;
    let t = app.new_tenant().await;
    let tenant = app.tenant(&t.slug).await;
    let first = WorkerProcess::start(app.data_dir(), Restarted::NAME).await;
    let second = WorkerProcess::start(app.data_dir(), Restarted::NAME).await;

    let now = Utc::now();
    let work = || ProbeOrder {
        work_ms: 50,
        ..Default::default()
    };
    let timer_due = now + chrono::Duration::seconds(60);
    let mut orders: Vec<_> = (0..1000).map(|_| (work(), now)).collect();
    orders.push((ProbeOrder::default(), timer_due));
    let ids = schedule::<Probe<Restarted>>(&app, &tenant, orders, true).await;
    let timer = ids[1000];

    // Kill -9 every worker process while most jobs are still queued.
    wait_for(
        &app,
        &tenant,
        Duration::from_secs(60),
        "the first jobs",
        |rows| count_in(rows, "done") >= 50,
    )
    .await;
    first.kill();
    second.kill();
    let at_kill = job_rows(&app, &tenant).await;
    assert!(count_in(&at_kill, "done") < 1000, "the kill came too late");
    // Another tenant's timer comes due while no worker is alive (this tenant's backlog, due
    // earlier, runs first on its own share of the workers).
    let other = app.new_tenant().await;
    let other = app.tenant(&other.slug).await;
    let down_timer_due = Utc::now() + chrono::Duration::seconds(1);
    let down_timer = schedule::<Probe<Restarted>>(
        &app,
        &other,
        vec![(ProbeOrder::default(), down_timer_due)],
        true,
    )
    .await[0];
    // As if the processes had also died between their commits and their control-plane
    // marks: the restarted workers' sweep finds the tenants' work.
    let control = app.app.store.control();
    for id in [tenant.id, other.id] {
        let mut sql = Sql::on(control);
        let text = format!(
            "DELETE FROM tenant_due_work WHERE tenant_id = {}",
            sql.bind(id)
        );
        control
            .execute_raw(sql.statement(text))
            .await
            .expect("marks removed");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let restarted_at = Utc::now();
    let _third = WorkerProcess::start(app.data_dir(), Restarted::NAME).await;
    let rows = wait_for(
        &app,
        &tenant,
        Duration::from_secs(60),
        "every job after the restart",
        |rows| {
            rows.iter()
                .filter(|(id, _)| **id != timer)
                .all(|(_, job)| job["state"] == "done")
        },
    )
    .await;
    assert_eq!(rows.len(), 1001);
    let (effects, _) = side_effects(&app, &tenant).await;
    for id in ids.iter().take(1000) {
        assert_eq!(
            effects.get(id),
            Some(&1),
            "job {id} ran its side effect once"
        );
    }
    let reran = rows
        .values()
        .filter(|job| job["attempts"].as_i64() > Some(1))
        .count();
    println!("{reran} jobs were run again after the kill");
    // The timer due while every worker was down ran within 5 s of the restart.
    let (effects, started) = side_effects(&app, &other).await;
    assert_eq!(effects.get(&down_timer), Some(&1));
    let lag = started[&down_timer] - restarted_at;
    assert!(lag < chrono::Duration::seconds(5), "{lag}");

    // The 60 s timer fires at its time: not before, and within 5 s after.
    let rows = wait_for(
        &app,
        &tenant,
        Duration::from_secs(90),
        "the timer",
        |rows| rows[&timer]["state"] == "done",
    )
    .await;
    assert_eq!(rows[&timer]["attempts"], 1);
    let (effects, started) = side_effects(&app, &tenant).await;
    assert_eq!(effects[&timer], 1);
    let lag = started[&timer] - timer_due;
    assert!(
        lag >= chrono::Duration::zero() && lag < chrono::Duration::seconds(5),
        "the timer ran {lag} after its due time"
    );
}
