//! `resources/subscribe` and `resources/unsubscribe`, per client session. A plugin has
//! no way to say that a resource changed, so the host watches for it: every
//! [`POLL_INTERVAL`] it reads each subscribed resource again, as the subscriber (same
//! gates, limits and ownership) but without an audit line per poll, and sends
//! `notifications/resources/updated` when the contents differ from the last read (a
//! resource that stops being readable, such as a removed container's logs, counts as a
//! change once). A session may hold [`MAX_SUBSCRIPTIONS`]; a watch ends on
//! unsubscribe, when the client is gone, or with the session.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use crate::attachments::Body;
use crate::context_routes::ResourceText;

/// How often a subscribed resource is read again.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Subscriptions one session may hold.
pub const MAX_SUBSCRIPTIONS: usize = 32;

/// One session's watches, by URI. Dropping it (the session ended) stops them all.
#[derive(Default)]
pub struct Subscriptions {
    watches: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
}

/// Why a subscription was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    TooMany,
}

impl Subscriptions {
    /// Watches `uri`, whose contents were `first` when subscribed: `read` reads it again
    /// (`None` when it cannot be read), `notify` tells the client (false once the
    /// client is gone). Subscribing again to the same URI keeps the one watch.
    pub fn subscribe<Read, ReadFut, Notify, NotifyFut>(
        &self,
        uri: &str,
        first: Option<u64>,
        read: Read,
        notify: Notify,
    ) -> Result<(), Refused>
    where
        Read: Fn() -> ReadFut + Send + 'static,
        ReadFut: Future<Output = Option<u64>> + Send,
        Notify: Fn() -> NotifyFut + Send + 'static,
        NotifyFut: Future<Output = bool> + Send,
    {
        let mut watches = lock(&self.watches);
        watches.retain(|_, watch| !watch.is_finished());
        if watches.contains_key(uri) {
            return Ok(());
        }
        if watches.len() >= MAX_SUBSCRIPTIONS {
            return Err(Refused::TooMany);
        }
        let watch = tokio::spawn(async move {
            let mut last = first;
            let mut ticks = tokio::time::interval(POLL_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let now = read().await;
                if now != last {
                    last = now;
                    if !notify().await {
                        break;
                    }
                }
            }
        });
        watches.insert(uri.to_string(), watch);
        Ok(())
    }

    /// Stops watching `uri`; whether it was watched.
    pub fn unsubscribe(&self, uri: &str) -> bool {
        match lock(&self.watches).remove(uri) {
            Some(watch) => {
                watch.abort();
                true
            }
            None => false,
        }
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        for (_, watch) in lock(&self.watches).drain() {
            watch.abort();
        }
    }
}

/// A fingerprint of a read's contents, to tell whether they changed.
pub fn fingerprint(read: &ResourceText) -> u64 {
    let mut hasher = DefaultHasher::new();
    match &read.body {
        Body::Text(text) => text.hash(&mut hasher),
        Body::Blob(bytes) => bytes.hash(&mut hasher),
    }
    hasher.finish()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_change_is_notified_once_and_unsubscribing_stops_the_watch() {
        let subscriptions = Subscriptions::default();
        let contents = Arc::new(AtomicU64::new(1));
        let notified = Arc::new(AtomicUsize::new(0));
        let (c, n) = (Arc::clone(&contents), Arc::clone(&notified));
        subscriptions
            .subscribe(
                "test://r",
                Some(1),
                move || {
                    let c = Arc::clone(&c);
                    async move { Some(c.load(Ordering::SeqCst)) }
                },
                move || {
                    let n = Arc::clone(&n);
                    async move {
                        n.fetch_add(1, Ordering::SeqCst);
                        true
                    }
                },
            )
            .unwrap();
        tokio::time::sleep(POLL_INTERVAL * 3).await;
        assert_eq!(notified.load(Ordering::SeqCst), 0, "nothing changed yet");
        contents.store(2, Ordering::SeqCst);
        tokio::time::sleep(POLL_INTERVAL * 3).await;
        assert_eq!(
            notified.load(Ordering::SeqCst),
            1,
            "one change, one notification"
        );
        assert!(subscriptions.unsubscribe("test://r"));
        contents.store(3, Ordering::SeqCst);
        tokio::time::sleep(POLL_INTERVAL * 3).await;
        assert_eq!(
            notified.load(Ordering::SeqCst),
            1,
            "no watch after unsubscribe"
        );
        assert!(!subscriptions.unsubscribe("test://r"));
    }

    #[tokio::test]
    async fn a_session_holds_a_bounded_number() {
        let subscriptions = Subscriptions::default();
        for i in 0..MAX_SUBSCRIPTIONS {
            subscriptions
                .subscribe(
                    &format!("test://{i}"),
                    None,
                    || async { None },
                    || async { true },
                )
                .unwrap();
        }
        // The same URI again is the same watch; a new one is one too many.
        assert!(
            subscriptions
                .subscribe("test://0", None, || async { None }, || async { true })
                .is_ok()
        );
        assert_eq!(
            subscriptions.subscribe("test://new", None, || async { None }, || async { true }),
            Err(Refused::TooMany)
        );
    }
}
