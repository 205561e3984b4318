//! The domain model every other Ward crate shares.
//!
//! This crate performs no I/O. It defines typed ids, the injected clock, the
//! bot lifecycle and its allowed transitions, the people who own bots, and the
//! activity event and finding types that detection and scanning produce.

pub mod bot;
pub mod clock;
pub mod duration;
pub mod event;
pub mod finding;
pub mod id;
pub mod person;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use id::{Id, IdKind};
