//! Vault's response shapes: the envelope, `{"errors":[...]}` bodies, the
//! exact `Content-Type: application/json` and `Cache-Control: no-store`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use ward_vault::VaultError;

/// The text Vault uses for a policy denial coming from its core.
pub const DENIED_MULTIERROR: &str = "1 error occurred:\n\t* permission denied\n\n";

/// The envelope of every logical endpoint, fields in Vault's order.
#[derive(Serialize)]
pub struct Envelope<D: Serialize, A: Serialize = ()> {
    pub request_id: String,
    pub lease_id: &'static str,
    pub renewable: bool,
    pub lease_duration: i64,
    pub data: Option<D>,
    pub wrap_info: Option<()>,
    pub warnings: Option<Vec<String>>,
    pub auth: Option<A>,
    pub mount_type: &'static str,
}

impl<D: Serialize> Envelope<D, ()> {
    /// Builds an envelope carrying `data`.
    pub fn data(mount_type: &'static str, data: D) -> Self {
        Envelope {
            request_id: uuid::Uuid::new_v4().to_string(),
            lease_id: "",
            renewable: false,
            lease_duration: 0,
            data: Some(data),
            wrap_info: None,
            warnings: None,
            auth: None,
            mount_type,
        }
    }
}

impl<A: Serialize> Envelope<(), A> {
    /// Builds an envelope carrying an `auth` block and no data.
    pub fn auth(mount_type: &'static str, auth: A, warnings: Option<Vec<String>>) -> Self {
        Envelope {
            request_id: uuid::Uuid::new_v4().to_string(),
            lease_id: "",
            renewable: false,
            lease_duration: 0,
            data: None,
            wrap_info: None,
            warnings,
            auth: Some(auth),
            mount_type,
        }
    }
}

/// Serialises `body` as compact JSON plus a newline, with Vault's headers.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(error = %err, "cannot serialise a vault response");
            return errors(StatusCode::INTERNAL_SERVER_ERROR, &["internal error"]);
        }
    };
    bytes.push(b'\n');
    let mut response = (status, bytes).into_response();
    set_headers(&mut response);
    response
}

/// Builds a 204 with Vault's headers.
pub fn no_content() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_headers(&mut response);
    response
}

/// `{"errors":[...]}` with `status`.
pub fn errors(status: StatusCode, messages: &[&str]) -> Response {
    #[derive(Serialize)]
    struct Errors<'a> {
        errors: &'a [&'a str],
    }
    let mut bytes = serde_json::to_vec(&Errors { errors: messages }).unwrap_or_default();
    bytes.push(b'\n');
    let mut response = (status, bytes).into_response();
    set_headers(&mut response);
    response
}

pub fn set_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// An error of a Vault-compatible endpoint, rendered as `{"errors":[...]}`.
#[derive(Debug)]
pub struct VaultApiError {
    pub status: StatusCode,
    pub messages: Vec<String>,
}

pub type VaultResult<T = Response> = Result<T, VaultApiError>;

impl VaultApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        VaultApiError {
            status,
            messages: vec![message.into()],
        }
    }

    /// Builds a 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Builds a 404 with an empty `errors` array.
    pub fn not_found() -> Self {
        VaultApiError {
            status: StatusCode::NOT_FOUND,
            messages: Vec::new(),
        }
    }

    /// Builds a 403 for a missing, unknown, expired or revoked token.
    pub fn bad_token() -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission denied")
    }

    /// Builds a 403 for a valid token without the capability.
    pub fn denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, DENIED_MULTIERROR)
    }

    /// Builds a 503 for a sealed or uninitialised vault.
    pub fn sealed() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "Vault is sealed")
    }

    /// Builds a 405 for a path that exists without the operation.
    pub fn unsupported_operation() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "1 error occurred:\n\t* unsupported operation\n\n",
        )
    }

    /// Builds a 500 whose detail is logged, not sent.
    pub fn internal(context: &str, err: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %err, context, "vault request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for VaultApiError {
    fn into_response(self) -> Response {
        let messages: Vec<&str> = self.messages.iter().map(String::as_str).collect();
        errors(self.status, &messages)
    }
}

impl From<VaultError> for VaultApiError {
    fn from(err: VaultError) -> Self {
        use VaultError as E;
        match &err {
            E::Sealed | E::NotInitialized => VaultApiError::sealed(),
            E::InvalidToken | E::TokenCidrMismatch { .. } => VaultApiError::bad_token(),
            E::KeyNotFound(_) => VaultApiError::not_found(),
            E::RoleNotFound(_) => VaultApiError::new(StatusCode::NOT_FOUND, err.to_string()),
            E::InvalidMetadata(problems) => VaultApiError {
                status: StatusCode::BAD_REQUEST,
                messages: problems.clone(),
            },
            E::AlreadyInitialized
            | E::AlreadyUnsealed
            | E::InvalidSealConfig(_)
            | E::InvalidShareEncoding
            | E::UnsealFailed
            | E::InvalidPath { .. }
            | E::NoData
            | E::CasMismatch
            | E::CasRequired
            | E::NoVersions(_)
            | E::NotRenewable
            | E::InvalidLogin { .. }
            | E::CidrMismatch { .. }
            | E::InvalidSecretIdRequest(_)
            | E::InvalidCidr(_)
            | E::InvalidPattern { .. }
            | E::UnknownCapability(_) => VaultApiError::bad_request(err.to_string()),
            E::PendingNotFound { .. }
            | E::KeyringChanged
            | E::Corrupt { .. }
            | E::Crypto(_)
            | E::Storage(_)
            | E::StoredJson { .. } => VaultApiError::internal("vault operation", &err),
        }
    }
}

impl From<ward_store::StoreError> for VaultApiError {
    fn from(err: ward_store::StoreError) -> Self {
        VaultApiError::internal("store", &err)
    }
}

impl From<sqlx::Error> for VaultApiError {
    fn from(err: sqlx::Error) -> Self {
        VaultApiError::internal("database", &err)
    }
}

impl From<ward_audit::AuditError> for VaultApiError {
    fn from(err: ward_audit::AuditError) -> Self {
        VaultApiError::internal("audit append", &err)
    }
}
