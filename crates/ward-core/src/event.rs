//! The normalised activity event that every log parser produces.
