//! A JSON body extractor whose errors name the field at fault.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but a bad body yields Ward's error shape, naming the
/// missing or unknown field when serde reports one.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                return ApiError::new(
                    rejection.status(),
                    "body_too_large",
                    "the request body is larger than the server accepts (max_body_bytes)",
                );
            }
            ApiError::new(rejection.status(), "invalid_body", rejection.body_text())
        })?;
        let body: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let value = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|err| body_error(&err.path().to_string(), err.inner()))?;
        deserializer.end().map_err(|err| body_error(".", &err))?;
        Ok(ApiJson(value))
    }
}

/// Maps a deserialisation error to a 400. `path` is where serde stopped, such
/// as `name` or `roles[1]`, and `.` at the top level.
fn body_error(path: &str, err: &serde_json::Error) -> ApiError {
    let text = err.to_string();
    let quoted = text.split('`').nth(1).map(str::to_string);
    if let Some(field) = quoted
        .as_deref()
        .filter(|_| text.starts_with("missing field"))
    {
        return ApiError::missing(field);
    }
    if let Some(field) = quoted
        .as_deref()
        .filter(|_| text.starts_with("unknown field"))
    {
        return ApiError::invalid(field, "is not a known field; check the spelling");
    }
    if err.is_data() && path != "." {
        let field = path.split(['.', '[']).next().unwrap_or(path);
        return ApiError::invalid(field, format!("has an invalid value at `{path}`: {text}"));
    }
    if err.is_data() {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            format!("invalid value: {text}"),
        );
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_json",
        format!("the request body is not valid JSON: {text}"),
    )
}

/// Like `axum::extract::Query`, but a bad query string yields Ward's error
/// shape instead of plain text.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("invalid query string: {}", rejection.body_text()),
                )
            })
    }
}
