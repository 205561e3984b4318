//! API errors: `{"error": {"code", "message", "field"?}}` with a fitting status.
//!
//! Client errors carry their message; internal errors give the client a short
//! message and log the detail on the server.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error returned to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A required field is absent.
    pub fn missing(field: &str) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "missing_field",
            message: format!("`{field}` is required"),
            field: Some(field.to_string()),
        }
    }

    /// A field has an unacceptable value.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_field",
            message: format!("`{field}` {}", message.into()),
            field: Some(field.to_string()),
        }
    }

    pub fn not_found(what: &str, value: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} `{value}` not found"),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    /// Builds an unexpected failure, logged here in full and returned to the client in short form.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, context, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{context} failed; see the server log"),
        )
    }

    /// Sets the field the error concerns.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<ward_store::StoreError> for ApiError {
    fn from(err: ward_store::StoreError) -> Self {
        ApiError::internal("database access", err)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::internal("database access", err)
    }
}

impl From<ward_audit::AuditError> for ApiError {
    fn from(err: ward_audit::AuditError) -> Self {
        ApiError::internal("audit append", err)
    }
}

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
