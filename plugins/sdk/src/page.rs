//! Paginated answers: every list tool answers the same shape, `{items, total, has_more,
//! next_cursor}`, and takes `limit` and `cursor` the same way, so an agent learns paging
//! once.

use schemars::JsonSchema;
use serde::Serialize;

use crate::docker::PageRequest;

/// Items per page when the caller gives no `limit`.
pub const DEFAULT_LIMIT: u32 = 50;
/// The host's largest page.
pub const MAX_LIMIT: u32 = 200;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Page<T> {
    /// This page of items.
    pub items: Vec<T>,
    /// How many items match in all pages.
    pub total: u32,
    /// True when more pages follow.
    pub has_more: bool,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from the host's items, total and cursor.
    pub fn new(items: Vec<T>, total: u32, next_cursor: Option<String>) -> Self {
        Page {
            items,
            total,
            has_more: next_cursor.is_some(),
            next_cursor,
        }
    }

    /// `3 of 10 volume(s):`, or why the page is empty.
    pub fn header(&self, noun: &str) -> String {
        if self.items.is_empty() {
            if self.total == 0 {
                format!("No {noun}s match.")
            } else {
                format!("No {noun}s on this page.")
            }
        } else {
            format!("{} of {} {noun}(s):", self.items.len(), self.total)
        }
    }

    /// The line that tells the model how to get the next page, if there is one.
    pub fn more_line(&self) -> Option<String> {
        self.next_cursor.as_ref().map(|cursor| {
            format!(
                "More: pass cursor {}.",
                serde_json::to_string(cursor).unwrap_or_default()
            )
        })
    }
}

/// The page request for a tool's `limit` and `cursor` arguments (the host clamps).
pub fn page_request(limit: Option<u32>, cursor: Option<String>) -> PageRequest {
    PageRequest {
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_say_what_they_hold() {
        let page = Page::new(vec![1, 2], 5, Some("2".into()));
        assert!(page.has_more);
        assert_eq!(page.header("volume"), "2 of 5 volume(s):");
        assert_eq!(
            page.more_line().as_deref(),
            Some("More: pass cursor \"2\".")
        );
        let empty: Page<u8> = Page::new(vec![], 0, None);
        assert_eq!(empty.header("network"), "No networks match.");
        assert_eq!(empty.more_line(), None);
        assert_eq!(page_request(None, None).limit, DEFAULT_LIMIT);
    }
}
