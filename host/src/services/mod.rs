//! Host services every plugin may import without a grant (they touch nothing outside
//! the host): `log` and `progress`.

mod log;
mod progress;
mod types;
