//! Wakes this instance's subscribers after a commit. It carries only "tenant T's log now
//! reaches N": subscribers read the events themselves from the log, after their cursor, so
//! a missed or coalesced wake-up delays an event but never loses it.

use tokio::sync::broadcast;
use uuid::Uuid;

/// A tenant's log has grown to `head` (0 when only the tenant is known).
#[derive(Clone, Copy, Debug)]
pub struct Wake {
    pub tenant_id: Uuid,
    pub head: i64,
    /// Committed on this instance (so other instances must hear of it), or heard of.
    pub local: bool,
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Wake>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(4096).0,
        }
    }
}

impl EventBus {
    /// A commit on this instance.
    pub fn wake(&self, tenant_id: Uuid, head: i64) {
        // No receiver is fine: nobody subscribes right now.
        let _ = self.sender.send(Wake {
            tenant_id,
            head,
            local: true,
        });
    }

    /// A commit another instance told us of.
    pub fn wake_remote(&self, tenant_id: Uuid, head: i64) {
        let _ = self.sender.send(Wake {
            tenant_id,
            head,
            local: false,
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.sender.subscribe()
    }
}
