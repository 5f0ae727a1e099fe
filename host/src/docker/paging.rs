//! Host-side pagination shared by every list primitive: the engine answers whole lists,
//! the host sorts them stably and hands out one page with an opaque cursor.

use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::types::PageRequest;

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// One page of `T`, plus what the WIT page records carry besides the items.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items matched in all pages.
    pub total: u32,
    /// Present when more items follow.
    pub next_cursor: Option<String>,
}

/// Cuts the page `request` asks for out of `all`, which the caller has sorted.
pub fn paginate<T>(mut all: Vec<T>, request: &PageRequest) -> Result<Page<T>, DockerError> {
    let offset = parse_cursor(request.cursor.as_deref())?;
    let limit = clamp_or_default(request.limit, DEFAULT_PAGE, MAX_PAGE) as usize;
    let total = all.len();
    let end = offset.saturating_add(limit).min(total);
    let items = if offset < total {
        all.drain(offset..end).collect()
    } else {
        Vec::new()
    };
    Ok(Page {
        items,
        total: u32::try_from(total).unwrap_or(u32::MAX),
        next_cursor: (end < total).then(|| end.to_string()),
    })
}

impl<T> Page<T> {
    /// The same page with its items converted.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(convert).collect(),
            total: self.total,
            next_cursor: self.next_cursor,
        }
    }
}

fn parse_cursor(cursor: Option<&str>) -> Result<usize, DockerError> {
    match cursor {
        None | Some("") => Ok(0),
        Some(text) => text
            .parse()
            .map_err(|_| DockerError::Invalid("`cursor` is not one this server handed out".into())),
    }
}

/// `value`, or `default` when it is 0, at most `max`.
pub fn clamp_or_default(value: u32, default: u32, max: u32) -> u32 {
    if value == 0 { default } else { value.min(max) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(limit: u32, cursor: Option<&str>) -> PageRequest {
        PageRequest {
            limit,
            cursor: cursor.map(str::to_string),
        }
    }

    #[test]
    fn pages_walk_the_whole_list_once() {
        let all: Vec<u32> = (0..5).collect();
        let first = paginate(all.clone(), &request(2, None)).unwrap();
        assert_eq!(first.items, [0, 1]);
        assert_eq!(first.total, 5);
        let second = paginate(all.clone(), &request(2, first.next_cursor.as_deref())).unwrap();
        assert_eq!(second.items, [2, 3]);
        let last = paginate(all.clone(), &request(2, second.next_cursor.as_deref())).unwrap();
        assert_eq!(last.items, [4]);
        assert_eq!(last.next_cursor, None);
        assert!(
            paginate(all, &request(2, Some("99")))
                .unwrap()
                .items
                .is_empty()
        );
    }

    #[test]
    fn default_and_maximum_page_sizes() {
        let all: Vec<u32> = (0..500).collect();
        assert_eq!(
            paginate(all.clone(), &request(0, None))
                .unwrap()
                .items
                .len(),
            50
        );
        assert_eq!(
            paginate(all, &request(1000, None)).unwrap().items.len(),
            200
        );
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(matches!(
            paginate(vec![1], &request(1, Some("abc"))),
            Err(DockerError::Invalid(_))
        ));
    }

    #[test]
    fn clamps_sizes() {
        assert_eq!(clamp_or_default(0, 50, 200), 50);
        assert_eq!(clamp_or_default(500, 50, 200), 200);
        assert_eq!(clamp_or_default(7, 50, 200), 7);
    }
}
