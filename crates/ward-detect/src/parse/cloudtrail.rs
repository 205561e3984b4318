//! AWS CloudTrail records.

use serde_json::Value;
use ward_core::event::{Actor, Event, EventClass, FailureClass, IdentityKind, Status, Volume};

use super::fields::{derived_uid, number, required_time, str_at};

/// Request parameters that name the resource a call touched, in order of
/// preference.
const RESOURCE_PARAMETERS: [&str; 14] = [
    "bucketName",
    "secretId",
    "name",
    "tableName",
    "functionName",
    "queueUrl",
    "topicArn",
    "roleName",
    "userName",
    "policyArn",
    "keyId",
    "snapshotId",
    "instanceId",
    "logGroupName",
];

pub(crate) fn event(value: &Value) -> Result<Event, String> {
    if !value.is_object() {
        return Err("expected a CloudTrail record object".to_string());
    }
    let time = required_time(value, &["eventTime"])?;
    let actor = actor(value)?;
    let operation = str_at(value, &["eventName"])
        .ok_or("missing `eventName`")?
        .to_string();
    let service = str_at(value, &["eventSource"])
        .ok_or("missing `eventSource`")?
        .to_string();
    let uid = str_at(value, &["eventID"])
        .map(str::to_string)
        .unwrap_or_else(|| derived_uid("cloudtrail", value));

    let mut event = Event::new(uid, time, actor, operation, service);
    event.source = "cloudtrail".to_string();
    event.class = class(&event.service, &event.operation);
    event.resource = resource(value);
    event.src_ip = str_at(value, &["sourceIPAddress"])
        .or_else(|| str_at(value, &["network", "client", "ip"]))
        .map(str::to_string);
    event.user_agent = str_at(value, &["userAgent"])
        .or_else(|| str_at(value, &["http", "useragent"]))
        .map(str::to_string);
    event.session_uid = str_at(value, &["userIdentity", "accessKeyId"]).map(str::to_string);
    event.volume = volume(value);
    event.secret_read = is_secret_read(&event.service, &event.operation);
    set_outcome(&mut event, value);
    Ok(event)
}

/// Picks the identity a baseline should follow: the role session for an
/// assumed role, never the shared role, so bots that share one role keep
/// separate baselines.
fn actor(value: &Value) -> Result<Actor, String> {
    let identity = value
        .get("userIdentity")
        .filter(|identity| identity.is_object())
        .ok_or("missing `userIdentity`")?;
    let kind_name = str_at(identity, &["type"]).unwrap_or("");
    let arn = str_at(identity, &["arn"]);
    let principal = str_at(identity, &["principalId"]);
    let user_name = str_at(identity, &["userName"]);
    let account = str_at(identity, &["accountId"]).filter(|id| is_account_id(id));

    let mut actor = match kind_name {
        "IAMUser" => {
            let uid = arn
                .or(principal)
                .or(user_name)
                .ok_or("IAMUser without arn")?;
            let mut actor = Actor::new(uid, IdentityKind::IamUser);
            actor.name = user_name.map(str::to_string).or_else(|| {
                arn.and_then(|arn| arn.rsplit('/').next())
                    .map(str::to_string)
            });
            actor
        }
        "AssumedRole" => {
            let issuer =
                str_at(identity, &["sessionContext", "sessionIssuer", "userName"]).or(user_name);
            let mut actor = match arn.or(principal) {
                Some(uid) => Actor::new(uid, IdentityKind::AssumedRole),
                None => {
                    // Without an arn or principalId the session is unknown, so
                    // the record can only be attributed to the role, unverified.
                    let role =
                        issuer.ok_or("AssumedRole without arn, principalId or session issuer")?;
                    let mut actor =
                        Actor::new(format!("aws-role:{role}"), IdentityKind::AssumedRole);
                    actor.unverified = true;
                    actor
                }
            };
            actor.name = session_name(arn, principal).or_else(|| issuer.map(str::to_string));
            actor.role = issuer.map(str::to_string).or_else(|| role_from_arn(arn));
            actor
        }
        "Root" => {
            let uid = arn
                .map(str::to_string)
                .or_else(|| account.map(|id| format!("arn:aws:iam::{id}:root")))
                .ok_or("Root identity without arn or account")?;
            let mut actor = Actor::new(uid, IdentityKind::AwsRoot).with_name("root");
            actor.high_risk = true;
            actor
        }
        "AWSService" => {
            let service = str_at(identity, &["invokedBy"])
                .or_else(|| str_at(value, &["sourceIPAddress"]))
                .unwrap_or("unknown");
            Actor::new(format!("aws-service:{service}"), IdentityKind::AwsService)
                .with_name(service)
        }
        "IdentityCenterUser" => {
            let user = str_at(identity, &["onBehalfOf", "userId"])
                .or(principal)
                .or(user_name)
                .ok_or("IdentityCenterUser without onBehalfOf.userId")?;
            Actor::new(
                format!("aws-identity-center:{user}"),
                IdentityKind::IdentityCenterUser,
            )
            .with_name(user)
        }
        "AWSAccount" if str_at(identity, &["accountId"]) == Some("ANONYMOUS_PRINCIPAL") => {
            Actor::new("aws:anonymous", IdentityKind::Anonymous).with_name("anonymous")
        }
        "AWSAccount" => {
            let id = account
                .or(principal)
                .ok_or("AWSAccount without account id")?;
            Actor::new(format!("aws-account:{id}"), IdentityKind::Other).with_name(id)
        }
        "FederatedUser" | "WebIdentityUser" | "SAMLUser" => {
            let uid = arn
                .or(principal)
                .or(user_name)
                .ok_or("federated identity without arn, principalId or userName")?;
            let mut actor = Actor::new(uid, IdentityKind::FederatedUser);
            actor.name = user_name
                .map(str::to_string)
                .or_else(|| session_name(arn, principal));
            actor
        }
        _ => {
            let uid = arn
                .or(principal)
                .or(user_name)
                .ok_or_else(|| format!("userIdentity of type `{kind_name}` names no principal"))?;
            let mut actor = Actor::new(uid, IdentityKind::Other);
            actor.name = user_name.map(str::to_string);
            actor
        }
    };
    actor.account_uid = account.map(str::to_string);
    Ok(actor)
}

/// AWS account ids are exactly 12 digits; anything else is a placeholder.
fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn session_name(arn: Option<&str>, principal: Option<&str>) -> Option<String> {
    arn.and_then(|arn| arn.split('/').nth(2))
        .or_else(|| principal.and_then(|principal| principal.split_once(':').map(|(_, s)| s)))
        .map(str::to_string)
}

fn role_from_arn(arn: Option<&str>) -> Option<String> {
    arn.and_then(|arn| arn.split('/').nth(1))
        .map(str::to_string)
}

fn class(service: &str, operation: &str) -> EventClass {
    let authentication = matches!(
        operation,
        "ConsoleLogin"
            | "AssumeRole"
            | "AssumeRoleWithSAML"
            | "AssumeRoleWithWebIdentity"
            | "GetSessionToken"
            | "GetFederationToken"
    );
    let management_prefixes = [
        "Create", "Delete", "Update", "Attach", "Detach", "Put", "Add", "Remove",
    ];
    if authentication {
        EventClass::Authentication
    } else if service == "iam.amazonaws.com"
        && management_prefixes
            .iter()
            .any(|prefix| operation.starts_with(prefix))
    {
        EventClass::EntityManagement
    } else {
        EventClass::ApiActivity
    }
}

fn resource(value: &Value) -> Option<String> {
    if let Some(parameters) = value.get("requestParameters").filter(|p| p.is_object()) {
        for key in RESOURCE_PARAMETERS {
            if let Some(name) = str_at(parameters, &[key]) {
                return Some(name.to_string());
            }
        }
    }
    value
        .get("resources")
        .and_then(Value::as_array)
        .and_then(|resources| resources.first())
        .and_then(|first| str_at(first, &["ARN"]).or_else(|| str_at(first, &["arn"])))
        .map(str::to_string)
}

fn volume(value: &Value) -> Volume {
    let data = value.get("additionalEventData");
    let out = data.and_then(|data| number(data.get("bytesTransferredOut")));
    let inbound = data.and_then(|data| number(data.get("bytesTransferredIn")));
    let bytes = match (out, inbound) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    Volume {
        records: None,
        bytes,
    }
}

fn is_secret_read(service: &str, operation: &str) -> bool {
    match service {
        "secretsmanager.amazonaws.com" => {
            matches!(operation, "GetSecretValue" | "BatchGetSecretValue")
        }
        "ssm.amazonaws.com" => {
            matches!(
                operation,
                "GetParameter" | "GetParameters" | "GetParametersByPath"
            )
        }
        _ => false,
    }
}

fn set_outcome(event: &mut Event, value: &Value) {
    let code = str_at(value, &["errorCode"]);
    let message = str_at(value, &["errorMessage"]);
    let console_failure = str_at(value, &["responseElements", "ConsoleLogin"]) == Some("Failure");
    event.status_detail = message.map(str::to_string);
    event.status_code = code.map(str::to_string);
    if console_failure {
        event.status = Status::Failure;
        event.failure = Some(FailureClass::AuthFailed);
    } else if let Some(code) = code {
        event.status = Status::Failure;
        event.failure = Some(failure_class(code));
    }
}

/// Classifies a CloudTrail `errorCode`. AWS spells "access denied" several
/// ways (`AccessDenied`, `AccessDeniedException`, `Client.UnauthorizedOperation`,
/// `UnauthorizedAccess`), so the match is on the stem, not the exact code.
pub(crate) fn failure_class(code: &str) -> FailureClass {
    let code = code.strip_prefix("Client.").unwrap_or(code);
    let lower = code.to_ascii_lowercase();
    let auth = [
        "invalidclienttokenid",
        "signaturedoesnotmatch",
        "expiredtoken",
        "invalidaccesskeyid",
        "unrecognizedclient",
        "authfailure",
        "incompletesignature",
        "invalidtoken",
        "notauthorizedexception",
    ];
    if auth.iter().any(|stem| lower.starts_with(stem)) {
        FailureClass::AuthFailed
    } else if lower.starts_with("accessdenied")
        || lower.contains("unauthorized")
        || lower.starts_with("forbidden")
        || lower == "authorizationerror"
    {
        FailureClass::PermissionDenied
    } else if lower.contains("throttl")
        || lower.starts_with("toomanyrequests")
        || lower == "requestlimitexceeded"
        || lower == "slowdown"
    {
        FailureClass::Throttled
    } else {
        FailureClass::Error
    }
}
