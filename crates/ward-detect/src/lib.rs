//! Behavioural detection for non-human identities.
//!
//! [`parse`] turns activity logs into [`ward_core::event::Event`]s.
pub mod parse;
