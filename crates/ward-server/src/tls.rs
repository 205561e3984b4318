//! TLS material: the operator's certificate, or a self-signed one generated
//! into the data folder on first start.

use std::path::{Path, PathBuf};

use axum_server::tls_rustls::RustlsConfig;

/// A failure to prepare TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the TLS certificate {cert} and key {key}: {source}")]
    Load {
        cert: PathBuf,
        key: PathBuf,
        source: std::io::Error,
    },
}

/// Loads `cert` and `key`, or the generated pair under `data_dir/tls`,
/// creating it when absent.
pub async fn load(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
) -> Result<RustlsConfig, TlsError> {
    let (cert, key) = match (cert, key) {
        (Some(cert), Some(key)) => (cert.to_path_buf(), key.to_path_buf()),
        _ => ensure_self_signed(&data_dir.join("tls"))?,
    };
    RustlsConfig::from_pem_file(&cert, &key)
        .await
        .map_err(|source| TlsError::Load { cert, key, source })
}

fn ensure_self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)?;
    if key_path.exists() {
        // A key without its certificate is left from an interrupted first start.
        std::fs::remove_file(&key_path).map_err(|source| TlsError::Write {
            path: key_path.clone(),
            source,
        })?;
    }
    std::fs::write(&cert_path, certified.cert.pem()).map_err(|source| TlsError::Write {
        path: cert_path.clone(),
        source,
    })?;
    ward_store::files::write_private(&key_path, &certified.signing_key.serialize_pem()).map_err(
        |source| TlsError::Write {
            path: key_path.clone(),
            source,
        },
    )?;
    tracing::info!(cert = %cert_path.display(), "self-signed TLS certificate generated");
    Ok((cert_path, key_path))
}
