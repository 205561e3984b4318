//! ward-detect
