//! Load generators. Closed loop (each client sends its next request when the last one
//! answered) finds the saturation rate; open loop sends on a fixed schedule whatever the
//! answers do, and times each request from when it was due, so queueing shows in the
//! latency instead of slowing the senders.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use hdrhistogram::Histogram;

/// One request of a workload; the argument numbers the requests of a phase, for picking
/// inputs deterministically.
pub type Request = Arc<dyn Fn(u64) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

pub struct Phase {
    /// Requests answered without error.
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub latency: Histogram<u64>,
}

impl Phase {
    pub fn per_second(&self) -> f64 {
        (self.ok + self.errors) as f64 / self.seconds
    }

    pub fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }
}

/// Latencies in microseconds, up to two minutes.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds")
}

#[derive(Default)]
struct Outcomes {
    ok: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Outcomes {
    fn record(&self, result: anyhow::Result<()>) {
        match result {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert_with(|| format!("{e:#}"));
                }
            }
        }
    }

    fn into_phase(self, seconds: f64, latency: Histogram<u64>) -> Phase {
        Phase {
            ok: self.ok.into_inner(),
            errors: self.errors.into_inner(),
            first_error: self.first_error.into_inner().ok().flatten(),
            seconds,
            latency,
        }
    }
}

/// `clients` clients, each sending its next request as soon as the last one answered,
/// for `duration`.
pub async fn saturate(request: &Request, clients: usize, duration: Duration) -> Phase {
    let outcomes = Arc::new(Outcomes::default());
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let request = request.clone();
            let outcomes = outcomes.clone();
            tokio::spawn(async move {
                let mut latency = histogram();
                let mut n = c as u64;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    outcomes.record(request(n).await);
                    let _ = latency.record(sent.elapsed().as_micros().max(1) as u64);
                    n += clients as u64;
                }
                latency
            })
        })
        .collect();
    let mut latency = histogram();
    for task in tasks {
        if let Ok(h) = task.await {
            let _ = latency.add(h);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let outcomes = Arc::into_inner(outcomes).unwrap_or_default();
    outcomes.into_phase(seconds, latency)
}

/// Requests sent at `rate` per second on schedule for `duration`, each timed from when it
/// was due; waits for the stragglers (at most a minute).
pub async fn open_loop(request: &Request, rate: f64, duration: Duration) -> Phase {
    let outcomes = Arc::new(Outcomes::default());
    let latency = Arc::new(Mutex::new(histogram()));
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let started = Instant::now();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut n = 0u64;
    loop {
        let due = started + interval.mul_f64(n as f64);
        if due >= started + duration {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let request = request.clone();
        let outcomes = outcomes.clone();
        let latency = latency.clone();
        in_flight.spawn(async move {
            outcomes.record(request(n).await);
            if let Ok(mut h) = latency.lock() {
                let _ = h.record(due.elapsed().as_micros().max(1) as u64);
            }
        });
        n += 1;
        // Reap finished requests as we go, so the set stays small.
        while in_flight.try_join_next().is_some() {}
    }
    let _ = tokio::time::timeout(Duration::from_secs(60), async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
    let seconds = started.elapsed().as_secs_f64();
    in_flight.abort_all();
    while in_flight.join_next().await.is_some() {}
    let latency = latency
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|_| histogram());
    let outcomes = Arc::into_inner(outcomes).unwrap_or_default();
    let mut phase = outcomes.into_phase(seconds, latency);
    // Requests still unanswered after the wait count as errors.
    phase.errors = n - phase.ok;
    phase
}

/// Each of `count` requests once, from `clients` clients (a cold pass over a list).
pub async fn each_once(request: &Request, count: usize, clients: usize) -> Phase {
    let outcomes = Arc::new(Outcomes::default());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients.min(count))
        .map(|_| {
            let (request, outcomes, next) = (request.clone(), outcomes.clone(), next.clone());
            tokio::spawn(async move {
                let mut latency = histogram();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count as u64 {
                        return latency;
                    }
                    let sent = Instant::now();
                    outcomes.record(request(n).await);
                    let _ = latency.record(sent.elapsed().as_micros().max(1) as u64);
                }
            })
        })
        .collect();
    let mut latency = histogram();
    for task in tasks {
        if let Ok(h) = task.await {
            let _ = latency.add(h);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let outcomes = Arc::into_inner(outcomes).unwrap_or_default();
    outcomes.into_phase(seconds, latency)
}
