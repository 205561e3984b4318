//! Entra sign-in and Kubernetes audit parsing through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed setup step should abort the test

mod detect_support;

use detect_support::{parse, stderr, write};
use serde_json::{Value, json};

const MONITOR_RECORD: &str = r#"{"time":"11/14/2025 1:48:53 AM","category":"ServicePrincipalSignInLogs","operationName":"Sign-in activity","resultType":"7000215","durationMs":"0","callerIpAddress":"203.0.113.10","correlationId":"00000000-0000-4000-8000-0000000000c1","properties":{"id":"00000000-0000-4000-8000-0000000000e1","createdDateTime":"2025-11-14T01:48:53.1234567Z","appId":"00000000-0000-4000-8000-0000000000a1","servicePrincipalId":"00000000-0000-4000-8000-0000000000b1","servicePrincipalName":"rpa-invoice-bot","ipAddress":"203.0.113.10","clientCredentialType":"clientSecret","resourceDisplayName":"Microsoft Graph","status":{"errorCode":7000215,"failureReason":"Invalid client secret provided."}}}"#;

const ANALYTICS_RECORD: &str = r#"{"TenantId":"00000000-0000-4000-8000-0000000000d1","Category":"ServicePrincipalSignInLogs","CreatedDateTime":"2025-11-14T02:05:10.0000000Z","ResultType":"0","DurationMs":0,"IPAddress":"203.0.113.10","Id":"00000000-0000-4000-8000-0000000000e2","AppId":"00000000-0000-4000-8000-0000000000a1","ServicePrincipalId":"00000000-0000-4000-8000-0000000000b1","ServicePrincipalName":"rpa-invoice-bot","ResourceDisplayName":"Microsoft Graph","ClientCredentialType":"clientSecret"}"#;

fn unix(event: &Value) -> i64 {
    let text = event["time"].as_str().unwrap();
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[test]
fn entra_sign_in_shapes_parse_to_one_principal() {
    let dir = tempfile::tempdir().unwrap();
    let mut managed: Value = serde_json::from_str(ANALYTICS_RECORD).unwrap();
    managed["Category"] = json!("ManagedIdentitySignInLogs");
    managed["Id"] = json!("00000000-0000-4000-8000-0000000000e3");
    let no_time = json!({"category": "ServicePrincipalSignInLogs", "time": "yesterday", "properties": {"servicePrincipalId": "sp-x"}});
    let text = format!("{MONITOR_RECORD}\n{ANALYTICS_RECORD}\n{managed}\n{no_time}\n");
    let file = write(dir.path(), "sp.jsonl", text.as_bytes());

    let (events, output) = parse("entra-signin", &[&file]);
    let err = stderr(&output);
    assert_eq!(events.len(), 3, "{err}");
    for event in &events[..2] {
        assert_eq!(
            event["actor"]["uid"],
            "entra:00000000-0000-4000-8000-0000000000b1"
        );
        assert_eq!(event["actor"]["kind"], "service_principal");
        assert_eq!(event["actor"]["name"], "rpa-invoice-bot");
        assert_eq!(event["class"], "authentication");
    }
    // 2025-11-14T01:48:53Z and 02:05:10Z.
    assert_eq!(unix(&events[0]), 1_763_084_933);
    assert_eq!(events[0]["status"], "failure");
    assert_eq!(events[0]["failure"], "auth_failed");
    assert_eq!(events[0]["status_code"], "7000215");
    assert_eq!(unix(&events[1]), 1_763_085_910);
    assert_eq!(events[1]["status"], "success");
    assert_eq!(events[2]["actor"]["kind"], "managed_identity");
    assert!(
        err.contains("sp.jsonl:4: invalid timestamp in `time`: `yesterday`"),
        "{err}"
    );
}

fn audit_event(verb: &str, username: &str, groups: &[&str], uid: Option<&str>, code: u16) -> Value {
    let mut user = json!({"username": username, "groups": groups});
    if let Some(uid) = uid {
        user["uid"] = json!(uid);
    }
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": format!("audit-{verb}-{code}-{username}"), "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/rpa-bots/secrets/invoice-db", "verb": verb, "user": user,
        "sourceIPs": ["10.1.2.3"], "userAgent": "invoice-bot/1.0",
        "objectRef": {"resource": "secrets", "namespace": "rpa-bots", "name": "invoice-db", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": "2025-03-04T06:22:18.819232Z", "stageTimestamp": "2025-03-04T06:22:18.822532Z"
    })
}

#[test]
fn k8s_audit_truncated_unverified_and_bad_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let sa_groups = [
        "system:serviceaccounts",
        "system:serviceaccounts:rpa-bots",
        "system:authenticated",
    ];
    let first = audit_event(
        "get",
        "system:serviceaccount:rpa-bots:invoice-bot",
        &sa_groups,
        Some("00000000-0000-4000-8000-000000000001"),
        200,
    );
    let mut patch = audit_event(
        "patch",
        "system:serviceaccount:kube-system:node-controller",
        &sa_groups,
        Some("u2"),
        200,
    );
    patch["level"] = json!("RequestResponse");
    patch["requestObject"] = json!({"status": {"conditions": "x".repeat(20_000)}});
    let truncated = format!("{}[Truncated...]", &patch.to_string()[..10_000]);
    let claimed = audit_event(
        "get",
        "system:serviceaccount:kube-system:replication-controller",
        &["system:authenticated"],
        None,
        200,
    );
    let mut bad_agent = audit_event(
        "watch",
        "system:serviceaccount:rpa-bots:invoice-bot",
        &sa_groups,
        Some("00000000-0000-4000-8000-000000000001"),
        200,
    );
    bad_agent["userAgent"] = json!("agent-MARK");
    let denied = audit_event(
        "list",
        "system:serviceaccount:rpa-bots:invoice-bot",
        &sa_groups,
        Some("00000000-0000-4000-8000-000000000001"),
        403,
    );

    let mut bytes = Vec::new();
    for line in [first.to_string(), truncated, claimed.to_string()] {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    let with_marker = bad_agent.to_string();
    let (before, after) = with_marker.split_once("MARK").unwrap();
    bytes.extend_from_slice(before.as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(after.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(denied.to_string().as_bytes());
    bytes.push(b'\n');
    let file = write(dir.path(), "audit.jsonl", &bytes);

    let (events, output) = parse("k8s-audit", &[&file]);
    let err = stderr(&output);
    assert_eq!(events.len(), 4, "{err}");
    assert!(err.contains("audit.jsonl:2: truncated JSON"), "{err}");
    assert!(err.contains("4 parsed, 1 malformed"), "{err}");

    let (first, claimed, bad_agent, denied) = (&events[0], &events[1], &events[2], &events[3]);
    for event in [first, denied] {
        assert_eq!(event["actor"]["kind"], "kubernetes_service_account");
        assert_eq!(event["actor"]["account_uid"], "rpa-bots");
        assert_eq!(event["actor"]["name"], "rpa-bots/invoice-bot");
        assert!(event["actor"].get("unverified").is_none());
    }
    assert_eq!(first["secret_read"], true);
    assert_eq!(denied["failure"], "permission_denied");
    assert_eq!(
        claimed["actor"]["name"],
        "kube-system/replication-controller"
    );
    assert_eq!(
        claimed["actor"]["unverified"], true,
        "no service-account group and no uid"
    );
    assert_eq!(bad_agent["user_agent"], "agent-\u{FFFD}");
}
