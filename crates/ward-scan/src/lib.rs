//! ward-scan
