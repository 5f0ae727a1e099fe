//! Pages of `tools/list`, `prompts/list` and `resources/templates/list`: at most
//! [`PAGE_SIZE`] items each, with an opaque cursor to the next page. A cursor the server
//! did not hand out is an invalid-params error, as MCP asks. (`resources/list` pages by
//! plugin; see `context_routes`.)

use rmcp::ErrorData as McpError;

/// Items per page. The built-in plugins list fewer tools than this, so today's clients
/// get everything in one answer; the cursor is there for servers with more plugins.
pub const PAGE_SIZE: usize = 100;

/// The page of `items` that `cursor` points at, and the cursor of the page after it.
pub fn page<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
) -> Result<(Vec<T>, Option<String>), McpError> {
    page_of(items, cursor, PAGE_SIZE)
}

fn page_of<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), McpError> {
    let start = match cursor {
        None => 0,
        Some(cursor) => cursor
            .strip_prefix("p")
            .and_then(|offset| offset.parse::<usize>().ok())
            .filter(|offset| *offset < items.len() && offset % size == 0)
            .ok_or_else(|| {
                McpError::invalid_params("unknown cursor; start again without one", None)
            })?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("p{end}"));
    Ok((items[start..end].to_vec(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_cursors_to_the_end() {
        let items: Vec<u32> = (0..7).collect();
        let (first, next) = page_of(&items, None, 3).unwrap();
        assert_eq!((first, next.as_deref()), (vec![0, 1, 2], Some("p3")));
        let (second, next) = page_of(&items, next.as_deref(), 3).unwrap();
        assert_eq!((second, next.as_deref()), (vec![3, 4, 5], Some("p6")));
        let (last, next) = page_of(&items, next.as_deref(), 3).unwrap();
        assert_eq!((last, next), (vec![6], None));
        assert_eq!(page_of::<u32>(&[], None, 3).unwrap(), (vec![], None));
    }

    #[test]
    fn cursors_not_handed_out_are_refused() {
        let items: Vec<u32> = (0..7).collect();
        for bad in ["", "3", "p", "p1", "p9", "p-3", "x3"] {
            assert!(page_of(&items, Some(bad), 3).is_err(), "{bad}");
        }
    }
}
