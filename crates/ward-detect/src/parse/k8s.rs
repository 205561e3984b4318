//! Kubernetes audit events (`audit.k8s.io/v1`), native or wrapped by AKS
//! diagnostic records (`properties.log` as an object or a JSON string) or by
//! GKE Cloud Audit Logs (`protoPayload`).

use serde_json::Value;
use ward_core::event::{Actor, Event, EventClass, FailureClass, IdentityKind, Status};

use super::fields::{derived_uid, number, required_time, str_at};

const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";
const SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";

pub(crate) fn event(value: &Value) -> Result<Event, String> {
    if let Some(log) = value.get("properties").and_then(|p| p.get("log")) {
        return match log {
            Value::String(text) => {
                let inner: Value = serde_json::from_str(text).map_err(|err| {
                    if err.is_eof() {
                        format!("truncated JSON in `properties.log`: {err}")
                    } else {
                        format!("invalid JSON in `properties.log`: {err}")
                    }
                })?;
                native(&inner)
            }
            inner => native(inner),
        };
    }
    if let Some(payload) = value.get("protoPayload") {
        return gke(value, payload);
    }
    native(value)
}

fn native(value: &Value) -> Result<Event, String> {
    if !value.is_object() {
        return Err("expected an audit.k8s.io Event object".to_string());
    }
    let time = required_time(
        value,
        &["requestReceivedTimestamp", "stageTimestamp", "timestamp"],
    )?;
    let user = value.get("user").ok_or("missing `user`")?;
    let actor = actor(user)?;
    let verb = str_at(value, &["verb"]).ok_or("missing `verb`")?;
    let uid = str_at(value, &["auditID"])
        .map(|id| {
            // Several stages of one request share an auditID.
            match str_at(value, &["stage"]) {
                Some(stage) if stage != "ResponseComplete" => format!("{id}:{stage}"),
                _ => id.to_string(),
            }
        })
        .unwrap_or_else(|| derived_uid("k8s", value));

    let object = value.get("objectRef");
    let resource_type = object.and_then(|o| str_at(o, &["resource"]));
    let operation = match (
        resource_type,
        object.and_then(|o| str_at(o, &["subresource"])),
    ) {
        (Some(resource), Some(sub)) => format!("{verb} {resource}/{sub}"),
        (Some(resource), None) => format!("{verb} {resource}"),
        _ => verb.to_string(),
    };
    let mut event = Event::new(uid, time, actor, operation, "kubernetes");
    event.source = "k8s-audit".to_string();
    event.resource = object
        .map(object_name)
        .or_else(|| str_at(value, &["requestURI"]).map(str::to_string));
    event.class = class(verb, resource_type);
    event.src_ip = value
        .get("sourceIPs")
        .and_then(Value::as_array)
        .and_then(|ips| ips.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    event.user_agent = str_at(value, &["userAgent"]).map(str::to_string);
    event.secret_read =
        resource_type == Some("secrets") && matches!(verb, "get" | "list" | "watch");
    let code = value
        .get("responseStatus")
        .and_then(|status| number(status.get("code")));
    set_status(
        &mut event,
        code,
        str_at(value, &["responseStatus", "message"]),
    );
    Ok(event)
}

/// Reads `system:serviceaccount:<namespace>:<name>` usernames. A username
/// that claims a service account without the service-account group or a uid
/// is marked unverified, because any authenticator can return such a name.
fn actor(user: &Value) -> Result<Actor, String> {
    let username = str_at(user, &["username"]).ok_or("missing `user.username`")?;
    let groups: Vec<&str> = user
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| groups.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(rest) = username.strip_prefix(SERVICE_ACCOUNT_PREFIX) {
        let (namespace, name) = rest
            .split_once(':')
            .filter(|(namespace, name)| {
                !namespace.is_empty() && !name.is_empty() && !name.contains(':')
            })
            .ok_or_else(|| format!("invalid service-account username `{username}`"))?;
        let mut actor = Actor::new(username, IdentityKind::KubernetesServiceAccount)
            .with_name(format!("{namespace}/{name}"));
        actor.account_uid = Some(namespace.to_string());
        let has_group = groups.contains(&SERVICE_ACCOUNTS_GROUP);
        let has_uid = str_at(user, &["uid"]).is_some();
        actor.unverified = !(has_group && has_uid);
        return Ok(actor);
    }
    let kind = if username == "system:anonymous" {
        IdentityKind::Anonymous
    } else {
        IdentityKind::KubernetesUser
    };
    let mut actor = Actor::new(username, kind).with_name(username);
    actor.high_risk = groups.contains(&"system:masters");
    Ok(actor)
}

fn object_name(object: &Value) -> String {
    let resource = str_at(object, &["resource"]).unwrap_or("");
    let name = str_at(object, &["name"]);
    match (str_at(object, &["namespace"]), name) {
        (Some(namespace), Some(name)) => format!("{namespace}/{resource}/{name}"),
        (Some(namespace), None) => format!("{namespace}/{resource}"),
        (None, Some(name)) => format!("{resource}/{name}"),
        (None, None) => resource.to_string(),
    }
}

fn class(verb: &str, resource: Option<&str>) -> EventClass {
    let identity_objects = matches!(
        resource,
        Some("serviceaccounts" | "roles" | "rolebindings" | "clusterroles" | "clusterrolebindings")
    );
    let writes = matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    );
    if resource == Some("tokenreviews") {
        EventClass::Authentication
    } else if identity_objects && writes {
        EventClass::EntityManagement
    } else {
        EventClass::ApiActivity
    }
}

fn set_status(event: &mut Event, code: Option<u64>, message: Option<&str>) {
    let Some(code) = code else {
        event.status = Status::Unknown;
        return;
    };
    event.status_code = Some(code.to_string());
    event.status_detail = message.map(str::to_string);
    event.status = if code < 400 {
        Status::Success
    } else {
        Status::Failure
    };
    event.failure = match code {
        0..=399 => None,
        401 => Some(FailureClass::AuthFailed),
        403 => Some(FailureClass::PermissionDenied),
        429 => Some(FailureClass::Throttled),
        _ => Some(FailureClass::Error),
    };
}

/// GKE writes Kubernetes audit events as Cloud Audit Logs.
fn gke(value: &Value, payload: &Value) -> Result<Event, String> {
    let time = required_time(value, &["timestamp", "receiveTimestamp"])?;
    let principal = str_at(payload, &["authenticationInfo", "principalEmail"])
        .ok_or("missing `protoPayload.authenticationInfo.principalEmail`")?;
    let actor = match principal.strip_prefix(SERVICE_ACCOUNT_PREFIX) {
        Some(rest) => {
            let mut actor = Actor::new(principal, IdentityKind::KubernetesServiceAccount)
                .with_name(rest.replacen(':', "/", 1));
            actor.account_uid = rest.split(':').next().map(str::to_string);
            actor
        }
        None => Actor::new(principal, IdentityKind::KubernetesUser).with_name(principal),
    };
    let method = str_at(payload, &["methodName"]).ok_or("missing `protoPayload.methodName`")?;
    let uid = str_at(value, &["insertId"])
        .map(str::to_string)
        .unwrap_or_else(|| derived_uid("k8s", value));
    let mut event = Event::new(uid, time, actor, method, "kubernetes");
    event.source = "k8s-audit".to_string();
    event.resource = str_at(payload, &["resourceName"]).map(str::to_string);
    event.src_ip = str_at(payload, &["requestMetadata", "callerIp"]).map(str::to_string);
    event.user_agent =
        str_at(payload, &["requestMetadata", "callerSuppliedUserAgent"]).map(str::to_string);
    // google.rpc.Code: 0 OK, 7 PERMISSION_DENIED, 16 UNAUTHENTICATED, 8 RESOURCE_EXHAUSTED.
    let code = payload
        .get("status")
        .and_then(|status| number(status.get("code")));
    event.status_code = code.map(|code| code.to_string());
    match code {
        None => event.status = Status::Unknown,
        Some(0) => {}
        Some(code) => {
            event.status = Status::Failure;
            event.failure = Some(match code {
                7 => FailureClass::PermissionDenied,
                16 => FailureClass::AuthFailed,
                8 => FailureClass::Throttled,
                _ => FailureClass::Error,
            });
        }
    }
    Ok(event)
}
