//! Host services every plugin may import without a grant (they touch nothing outside
//! the host): for now, `log`.

mod log;
mod types;
