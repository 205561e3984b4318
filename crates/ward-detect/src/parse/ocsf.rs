//! OCSF events of the API Activity (6003), Authentication (3002) and Entity
//! Management (3004) classes.

use serde_json::Value;
use ward_core::event::{Actor, Event, EventClass, FailureClass, IdentityKind, Status, Volume};

use super::fields::{derived_uid, number, required_time, str_at};

pub(crate) fn event(value: &Value) -> Result<Event, String> {
    if !value.is_object() {
        return Err("expected an OCSF event object".to_string());
    }
    let class_uid = number(value.get("class_uid")).ok_or("missing `class_uid`")?;
    let class = match class_uid {
        6003 => EventClass::ApiActivity,
        3002 => EventClass::Authentication,
        3004 => EventClass::EntityManagement,
        other => {
            return Err(format!(
                "unsupported OCSF class_uid {other}: expected 6003, 3002 or 3004"
            ));
        }
    };
    let time = required_time(value, &["time", "time_dt"])?;
    let user = value
        .get("actor")
        .and_then(|actor| actor.get("user"))
        .or_else(|| value.get("user"))
        .ok_or("missing `actor.user`")?;
    let user_uid = str_at(user, &["uid"])
        .or_else(|| str_at(user, &["name"]))
        .ok_or("missing `actor.user.uid` and `actor.user.name`")?;
    let mut actor = Actor::new(user_uid, identity_kind(str_at(user, &["type"])));
    actor.name = str_at(user, &["name"]).map(str::to_string);
    actor.account_uid = str_at(user, &["account", "uid"]).map(str::to_string);

    let operation = str_at(value, &["api", "operation"])
        .or_else(|| str_at(value, &["activity_name"]))
        .ok_or("missing `api.operation` and `activity_name`")?;
    let service = str_at(value, &["api", "service", "name"])
        .or_else(|| str_at(value, &["service", "name"]))
        .or_else(|| str_at(value, &["dst_endpoint", "svc_name"]))
        .or_else(|| str_at(value, &["metadata", "product", "name"]))
        .unwrap_or("unknown");
    let uid = str_at(value, &["metadata", "uid"])
        .map(str::to_string)
        .unwrap_or_else(|| derived_uid("ocsf", value));

    let mut event = Event::new(uid, time, actor, operation, service);
    event.source = "ocsf".to_string();
    event.class = class;
    event.resource = value
        .get("resources")
        .and_then(Value::as_array)
        .and_then(|resources| resources.first())
        .and_then(|first| str_at(first, &["name"]).or_else(|| str_at(first, &["uid"])))
        .map(str::to_string);
    event.src_ip = str_at(value, &["src_endpoint", "ip"]).map(str::to_string);
    event.user_agent = str_at(value, &["http_request", "user_agent"]).map(str::to_string);
    event.session_uid = str_at(value, &["actor", "session", "uid"]).map(str::to_string);
    event.status_code = str_at(value, &["status_code"]).map(str::to_string);
    event.status_detail = str_at(value, &["status_detail"]).map(str::to_string);
    event.volume = Volume {
        records: None,
        bytes: number(
            value
                .get("traffic")
                .and_then(|traffic| traffic.get("bytes")),
        ),
    };
    // OCSF status_id: 1 Success, 2 Failure.
    event.status = match number(value.get("status_id")) {
        Some(1) => Status::Success,
        Some(2) => Status::Failure,
        _ => match str_at(value, &["status"]) {
            Some("Success") => Status::Success,
            Some("Failure") => Status::Failure,
            _ => Status::Unknown,
        },
    };
    if event.status == Status::Failure {
        event.failure = Some(failure_class(&event));
    }
    Ok(event)
}

fn identity_kind(type_name: Option<&str>) -> IdentityKind {
    match type_name {
        Some("User") => IdentityKind::User,
        Some("Service") | Some("System") => IdentityKind::ServicePrincipal,
        Some("Admin") => IdentityKind::User,
        _ => IdentityKind::Other,
    }
}

fn failure_class(event: &Event) -> FailureClass {
    let text = format!(
        "{} {}",
        event.status_code.as_deref().unwrap_or(""),
        event.status_detail.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase();
    if event.class == EventClass::Authentication {
        FailureClass::AuthFailed
    } else if text.contains("denied")
        || text.contains("forbidden")
        || text.contains("unauthorized")
        || text.contains("403")
    {
        FailureClass::PermissionDenied
    } else if text.contains("throttl") || text.contains("429") || text.contains("rate") {
        FailureClass::Throttled
    } else {
        FailureClass::Error
    }
}
