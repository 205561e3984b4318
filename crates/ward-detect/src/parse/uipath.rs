//! UiPath Orchestrator `/odata/AuditLogs` and `/odata/RobotLogs` records.

use serde_json::Value;
use ward_core::event::{Actor, Event, EventClass, FailureClass, IdentityKind, Status};

use super::fields::{derived_uid, required_time, text_ci};

pub(crate) fn event(value: &Value) -> Result<Event, String> {
    if !value.is_object() {
        return Err("expected an Orchestrator record object".to_string());
    }
    if text_ci(value, "ExecutionTime").is_some() || text_ci(value, "Component").is_some() {
        audit(value)
    } else if text_ci(value, "TimeStamp").is_some() {
        robot_log(value)
    } else {
        Err(
            "neither an audit-log record (`ExecutionTime`) nor a robot-log record (`TimeStamp`)"
                .to_string(),
        )
    }
}

fn audit(value: &Value) -> Result<Event, String> {
    let time = required_time(value, &["ExecutionTime"])?;
    let user = text_ci(value, "UserName").ok_or("missing `UserName`")?;
    let kind = match text_ci(value, "UserType").as_deref() {
        Some("Robot") => IdentityKind::Robot,
        Some("DirectoryRobot") | Some("RobotAccount") => IdentityKind::Robot,
        _ if user.to_ascii_lowercase().ends_with(".robotaccount") => IdentityKind::Robot,
        _ => IdentityKind::User,
    };
    let mut actor = Actor::new(format!("uipath:{user}"), kind).with_name(user);
    actor.account_uid = text_ci(value, "TenantId");
    let action = text_ci(value, "Action").unwrap_or_else(|| "Unknown".to_string());
    let component = text_ci(value, "Component").unwrap_or_else(|| "Orchestrator".to_string());
    let uid = text_ci(value, "Id")
        .map(|id| format!("uipath-audit-{id}"))
        .unwrap_or_else(|| derived_uid("uipath", value));

    let mut event = Event::new(
        uid,
        time,
        actor,
        format!("{component}.{action}"),
        "uipath-orchestrator",
    );
    event.source = "uipath-orchestrator".to_string();
    event.resource = text_ci(value, "DisplayName")
        .or_else(|| text_ci(value, "EntityId"))
        .map(|name| format!("{component}/{name}"));
    event.class = match action.as_str() {
        "Create" | "Update" | "Delete" | "Assign" | "Unassign" => match component.as_str() {
            "Robots" | "Users" | "Roles" | "Machines" | "Credentials" | "Assets" => {
                EventClass::EntityManagement
            }
            _ => EventClass::ApiActivity,
        },
        "Login" | "Logout" => EventClass::Authentication,
        _ => EventClass::ApiActivity,
    };
    if action == "LoginFailed" {
        event.class = EventClass::Authentication;
        event.status = Status::Failure;
        event.failure = Some(FailureClass::AuthFailed);
    }
    Ok(event)
}

fn robot_log(value: &Value) -> Result<Event, String> {
    let time = required_time(value, &["TimeStamp"])?;
    let robot = text_ci(value, "RobotName")
        .or_else(|| text_ci(value, "WindowsIdentity"))
        .ok_or("missing `RobotName` and `WindowsIdentity`")?;
    let mut actor =
        Actor::new(format!("uipath-robot:{robot}"), IdentityKind::Robot).with_name(robot);
    actor.account_uid = text_ci(value, "OrganizationUnitId");
    let process = text_ci(value, "ProcessName").unwrap_or_else(|| "unknown-process".to_string());
    let uid = text_ci(value, "Id")
        .map(|id| format!("uipath-robotlog-{id}"))
        .unwrap_or_else(|| derived_uid("uipath", value));

    let mut event = Event::new(uid, time, actor, "robot.log", "uipath-robot");
    event.source = "uipath-orchestrator".to_string();
    event.resource = Some(process);
    event.session_uid = text_ci(value, "JobKey");
    event.src_ip = text_ci(value, "HostIpAddress");
    match text_ci(value, "Level").as_deref() {
        Some("Error") | Some("Fatal") => {
            event.status = Status::Failure;
            event.failure = Some(FailureClass::Error);
            event.status_detail = text_ci(value, "Message");
        }
        Some(_) => event.status = Status::Success,
        None => event.status = Status::Unknown,
    }
    Ok(event)
}
