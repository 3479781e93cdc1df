//! The building blocks every request uses, below both the adapters
//! ([`crate::platform`]) and the send stage ([`crate::upload`]): pacing,
//! cancellation, and what an answer says about trying again. Living here,
//! they let `platform` stay free of `upload`.

mod cancel;
pub mod pace;
pub mod pacer;
mod retry_after;

pub use cancel::{Cancel, INTERRUPTED};
pub use pacer::Pacer;
pub use retry_after::{is_transient_status, parse_retry_after};
