//! What the server offers now: the router and its per-tier tool lists, swapped whole
//! when `serve --watch` reloads a plugin, and the client sessions to tell when it is.
//!
//! Every request takes the current [`Served`] once and keeps it to the end, so a call
//! that started before a swap finishes on the plugins it started with, while new
//! requests see the new ones.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use rmcp::RoleServer;
use rmcp::service::Peer;

use crate::caller::Caller;
use crate::capabilities::Tier;
use crate::router::{RoutedTool, Router};

/// Sessions remembered for change notifications; past this, the oldest is forgotten
/// (it then re-lists only when it asks).
const MAX_LISTENING_SESSIONS: usize = 10_000;

/// One generation of what is served.
pub struct Served {
    pub router: Arc<Router>,
}

impl Served {
    pub fn new(router: Arc<Router>) -> Self {
        Served { router }
    }

    /// The tools a caller of `tier` may see, in listing order. Their MCP form is built
    /// per `tools/list` (see `to_mcp_tool`) rather than kept: the parsed schemas were
    /// most of the heap after start, and a session lists tools rarely.
    pub fn tools_for(&self, tier: Tier) -> Vec<&RoutedTool> {
        let caller = Caller {
            identity: Arc::clone(self.router.runtime().identity()),
            tier,
        };
        self.router
            .listed()
            .filter(|tool| caller.may_use(tool.allowed()))
            .collect()
    }
}

pub struct Catalog {
    served: RwLock<Arc<Served>>,
    /// Whether the offer can change while serving (`--watch`): then the server
    /// advertises `listChanged` and tells sessions of every swap.
    changes: bool,
    /// Sessions that initialized (before 2026-07-28): told through their peer.
    sessions: Mutex<Vec<Peer<RoleServer>>>,
    /// Counts swaps, for `subscriptions/listen` streams (2026-07-28), which wait on it.
    generation: tokio::sync::watch::Sender<u64>,
}

impl Catalog {
    pub fn new(router: Arc<Router>, changes: bool) -> Arc<Self> {
        Arc::new(Catalog {
            served: RwLock::new(Arc::new(Served::new(router))),
            changes,
            sessions: Mutex::default(),
            generation: tokio::sync::watch::Sender::new(0),
        })
    }

    /// What is served now; hold it for the whole request.
    pub fn current(&self) -> Arc<Served> {
        Arc::clone(&self.served.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether the offer may change while serving.
    pub fn changes(&self) -> bool {
        self.changes
    }

    /// Wakes on every swap, for a `subscriptions/listen` stream to tell its client.
    pub fn swaps(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Remembers a session to notify of changes (when changes can happen at all).
    pub fn track_session(&self, peer: Peer<RoleServer>) {
        if !self.changes {
            return;
        }
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|peer| !peer.is_transport_closed());
        if sessions.len() >= MAX_LISTENING_SESSIONS {
            sessions.remove(0);
        }
        sessions.push(peer);
    }

    /// Serves `router` from now on, then tells every live session that the lists of
    /// tools, prompts and resources may have changed. Requests already running keep the
    /// generation they took.
    pub async fn replace(&self, router: Arc<Router>) {
        let served = Arc::new(Served::new(router));
        let context = &served.router.context;
        let (prompts, resources) = (context.offers_prompts(), context.offers_resources());
        *self.served.write().unwrap_or_else(PoisonError::into_inner) = served;
        self.generation.send_modify(|generation| *generation += 1);
        let sessions: Vec<Peer<RoleServer>> = {
            let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            sessions.retain(|peer| !peer.is_transport_closed());
            sessions.clone()
        };
        for peer in sessions {
            // A session that went away in between simply misses it.
            let _ = peer.notify_tool_list_changed().await;
            if prompts {
                let _ = peer.notify_prompt_list_changed().await;
            }
            if resources {
                let _ = peer.notify_resource_list_changed().await;
            }
        }
    }
}
