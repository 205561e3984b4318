//! Microsoft Entra service-principal and managed-identity sign-in logs.
//!
//! Two export shapes exist: the Azure Monitor diagnostic record (camelCase
//! envelope with a `properties` object) and the Log Analytics row (flat,
//! PascalCase). Both are read by looking keys up without regard to case,
//! first in `properties`, then at the top level.

use serde_json::Value;
use ward_core::event::{Actor, Event, EventClass, FailureClass, IdentityKind, Status};

use super::fields::{derived_uid, get_ci, required_time, text_ci};

pub(crate) fn event(value: &Value) -> Result<Event, String> {
    if !value.is_object() {
        return Err("expected a sign-in record object".to_string());
    }
    let properties = get_ci(value, "properties").filter(|p| p.is_object());
    let field = |key: &str| {
        properties
            .and_then(|p| text_ci(p, key))
            .or_else(|| text_ci(value, key))
    };

    // `createdDateTime` is ISO 8601 in both shapes; the envelope's `time`
    // is sometimes written in the US form and is used only as a fallback.
    let time = match properties.filter(|p| get_ci(p, "createdDateTime").is_some()) {
        Some(properties) => required_time(properties, &["createdDateTime"])?,
        None => required_time(value, &["createdDateTime", "time", "TimeGenerated"])?,
    };
    let actor = actor(value, &field)?;
    let uid = field("id")
        .or_else(|| field("correlationId"))
        .unwrap_or_else(|| derived_uid("entra", value));
    let service = field("resourceDisplayName")
        .or_else(|| field("resourceId"))
        .unwrap_or_else(|| "entra-id".to_string());

    let mut event = Event::new(uid, time, actor, "sign-in", service);
    event.source = "entra-signin".to_string();
    event.class = EventClass::Authentication;
    event.resource = field("resourceId").or_else(|| field("resourceServicePrincipalId"));
    event.src_ip = field("ipAddress").or_else(|| text_ci(value, "callerIpAddress"));
    event.user_agent = field("userAgent");
    event.session_uid = field("correlationId");

    let error_code = properties
        .and_then(|p| get_ci(p, "status"))
        .and_then(|status| text_ci(status, "errorCode"))
        .or_else(|| text_ci(value, "resultType"));
    match error_code.as_deref() {
        None => event.status = Status::Unknown,
        Some("0") => event.status = Status::Success,
        Some(code) => {
            event.status = Status::Failure;
            event.failure = Some(failure_class(code));
            event.status_code = Some(code.to_string());
            event.status_detail = properties
                .and_then(|p| get_ci(p, "status"))
                .and_then(|status| text_ci(status, "failureReason"))
                .or_else(|| text_ci(value, "resultDescription"));
        }
    }
    Ok(event)
}

fn actor(value: &Value, field: &dyn Fn(&str) -> Option<String>) -> Result<Actor, String> {
    let category = text_ci(value, "category").unwrap_or_default();
    let principal = field("servicePrincipalId")
        .or_else(|| field("appId"))
        .ok_or("missing `servicePrincipalId` and `appId`")?;
    let kind = if category.eq_ignore_ascii_case("ManagedIdentitySignInLogs") {
        IdentityKind::ManagedIdentity
    } else if category.eq_ignore_ascii_case("ServicePrincipalSignInLogs")
        || field("userId").is_none()
    {
        IdentityKind::ServicePrincipal
    } else {
        IdentityKind::User
    };
    let mut actor = Actor::new(format!("entra:{principal}"), kind);
    actor.name = field("servicePrincipalName").or_else(|| field("appDisplayName"));
    actor.account_uid = text_ci(value, "tenantId").or_else(|| field("tenantId"));
    Ok(actor)
}

/// Classifies an Entra sign-in error code (AADSTS number). Most service
/// principal sign-in failures are credential problems; the codes below are
/// the ones that mean "authenticated but not allowed" or "rate-limited".
fn failure_class(code: &str) -> FailureClass {
    match code {
        // Blocked by Conditional Access, not assigned to the app, consent missing.
        "53003" | "50105" | "65001" | "50097" => FailureClass::PermissionDenied,
        // Request throttled.
        "90033" | "50196" => FailureClass::Throttled,
        // Resource principal or tenant not found.
        "500011" | "90002" => FailureClass::Error,
        _ => FailureClass::AuthFailed,
    }
}
