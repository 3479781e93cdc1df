//! Cancellation shared by every request of a run (Ctrl-C).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: Notify,
}

/// A cancellation flag: after [`Cancel::cancel`], no new request starts,
/// requests in flight finish, and the remaining items come back `skipped`
/// with reason `interrupted`. Cheap to clone; all clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelInner>);

impl Cancel {
    /// A flag not yet raised.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Raises the flag (idempotent; callable from a signal handler task).
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether the flag is raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    /// Resolves once the flag is raised.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// The reason of items not sent because of cancellation.
pub const INTERRUPTED: &str = "interrupted";
