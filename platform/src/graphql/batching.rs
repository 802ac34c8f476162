//! Runs a request's dataloader batches inside the request's own task.
//!
//! A dataloader gathers keys for a short window, then loads them in one statement. Spawned
//! on the runtime, that window runs on another worker thread in parallel with resolution,
//! so when resolving a large board takes longer than the window, one statement became
//! several (measured: 12 instead of 7 for a 12 x 20 board on an idle server). Driven by
//! the request's task, a batch runs only when resolution has gone as far as it can and
//! waits: every key of that pass is in the batch, whatever the machine's speed or load.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use futures::{FutureExt, StreamExt, future::BoxFuture, stream::FuturesUnordered};

/// Where a request's dataloaders put their batch futures.
#[derive(Clone, Default)]
pub struct RequestSpawner {
    pending: Arc<Mutex<Vec<BoxFuture<'static, ()>>>>,
}

impl RequestSpawner {
    pub fn spawn(&self, future: BoxFuture<'static, ()>) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.push(future);
        }
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        self.pending
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default()
    }
}

/// Polls `main` and, whenever it waits, the batches it spawned; resolves with `main`.
pub async fn drive<F: Future>(main: F, spawner: RequestSpawner) -> F::Output {
    Driven {
        main: Box::pin(main),
        spawner,
        running: FuturesUnordered::new(),
    }
    .await
}

struct Driven<F: Future> {
    main: Pin<Box<F>>,
    spawner: RequestSpawner,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
}

impl<F: Future> Future for Driven<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        loop {
            if let Poll::Ready(output) = this.main.poll_unpin(cx) {
                return Poll::Ready(output);
            }
            this.running.extend(this.spawner.take());
            let mut finished_any = false;
            while let Poll::Ready(Some(())) = this.running.poll_next_unpin(cx) {
                finished_any = true;
            }
            // A finished batch has answered resolvers that wait on it: resolve further now.
            if !finished_any {
                return Poll::Pending;
            }
        }
    }
}
