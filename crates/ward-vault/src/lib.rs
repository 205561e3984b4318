//! ward-vault
