//! The OpenAPI 3.1 document of Ward's own API, served at `/v1/openapi.json`.
//!
//! The Vault-compatible endpoints follow HashiCorp Vault's published API and
//! are listed under the `vault` tag with their Vault names; their bodies are
//! Vault's, not described again here.

use axum::Json;
use serde_json::{Map, Value, json};

/// One documented operation.
struct Operation {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    ok: (&'static str, Option<&'static str>),
}

const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    ok: (&'static str, Option<&'static str>),
) -> Operation {
    Operation {
        method,
        path,
        tag,
        summary,
        body,
        ok,
    }
}

const OPERATIONS: &[Operation] = &[
    op(
        "get",
        "/v1/sys/health",
        "sys",
        "Health and seal state (Vault's shape)",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/sys/clock",
        "sys",
        "Move the test clock forward (only with --test-clock)",
        Some("AdvanceClock"),
        ("200", None),
    ),
    op(
        "post",
        "/v1/sys/jobs/lifecycle",
        "sys",
        "Run the lifecycle job now",
        None,
        ("200", Some("LifecycleReport")),
    ),
    op(
        "post",
        "/v1/auth/login",
        "operators",
        "Sign in with password and TOTP code",
        Some("Login"),
        ("200", Some("Session")),
    ),
    op(
        "post",
        "/v1/auth/logout",
        "operators",
        "End the caller's session",
        None,
        ("204", None),
    ),
    op(
        "get",
        "/v1/auth/whoami",
        "operators",
        "The caller's identity and roles",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/operators",
        "operators",
        "Create an operator; returns the TOTP secret once",
        Some("CreateOperator"),
        ("201", None),
    ),
    op(
        "get",
        "/v1/operators",
        "operators",
        "List operators",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/people",
        "people",
        "Add a person who can own bots",
        Some("CreatePerson"),
        ("201", Some("Person")),
    ),
    op(
        "get",
        "/v1/people",
        "people",
        "List people",
        None,
        ("200", Some("PersonList")),
    ),
    op(
        "get",
        "/v1/people/{id}",
        "people",
        "Show a person by id or email",
        None,
        ("200", Some("Person")),
    ),
    op(
        "post",
        "/v1/people/{id}/leave",
        "people",
        "Mark a person as left (HR feed)",
        None,
        ("200", Some("Person")),
    ),
    op(
        "post",
        "/v1/bots",
        "bots",
        "Register a bot",
        Some("CreateBot"),
        ("201", Some("Bot")),
    ),
    op(
        "get",
        "/v1/bots",
        "bots",
        "List bots, by state or owner",
        None,
        ("200", Some("BotList")),
    ),
    op(
        "get",
        "/v1/bots/{id}",
        "bots",
        "Show a bot by id or name",
        None,
        ("200", Some("Bot")),
    ),
    op(
        "post",
        "/v1/bots/{id}/suspend",
        "bots",
        "Suspend a bot (409 when not allowed)",
        Some("Reason"),
        ("200", Some("Bot")),
    ),
    op(
        "post",
        "/v1/bots/{id}/quarantine",
        "bots",
        "Quarantine a bot",
        Some("Reason"),
        ("200", Some("Bot")),
    ),
    op(
        "post",
        "/v1/bots/{id}/retire",
        "bots",
        "Retire a bot; final",
        Some("Reason"),
        ("200", Some("Bot")),
    ),
    op(
        "post",
        "/v1/bots/{id}/reactivate",
        "bots",
        "Return a bot to active",
        Some("Reason"),
        ("200", Some("Bot")),
    ),
    op(
        "post",
        "/v1/bots/{id}/review",
        "bots",
        "Re-certify a bot, moving its review date",
        Some("Review"),
        ("200", Some("Bot")),
    ),
    op(
        "post",
        "/v1/bots/{id}/workflows",
        "bots",
        "Upload a workflow version",
        Some("UploadWorkflow"),
        ("201", Some("WorkflowVersion")),
    ),
    op(
        "get",
        "/v1/bots/{id}/workflows",
        "bots",
        "List workflow versions",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/requests",
        "requests",
        "Request privilege for a bot",
        Some("CreateRequest"),
        ("201", Some("AccessRequest")),
    ),
    op(
        "get",
        "/v1/requests",
        "requests",
        "List requests by status",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/requests/{id}/approve",
        "requests",
        "Approve (separation of duties enforced)",
        Some("Decision"),
        ("200", Some("AccessRequest")),
    ),
    op(
        "post",
        "/v1/requests/{id}/deny",
        "requests",
        "Deny a request",
        Some("Decision"),
        ("200", Some("AccessRequest")),
    ),
    op(
        "get",
        "/v1/audit",
        "audit",
        "Query the audit log by bot, actor, action and time",
        None,
        ("200", Some("AuditList")),
    ),
    op(
        "get",
        "/v1/audit/verify",
        "audit",
        "Verify the hash chain and checkpoints",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/events",
        "detection",
        "Ingest events as JSON lines (at most 10,000 a batch)",
        Some("EventLines"),
        ("200", Some("IngestSummary")),
    ),
    op(
        "get",
        "/v1/events",
        "detection",
        "List events by identity, source and time",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/alerts",
        "detection",
        "List alerts",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/alerts/{id}",
        "detection",
        "Show an alert",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/alerts/{id}/ocsf",
        "detection",
        "An alert as an OCSF Detection Finding",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/alerts/{id}/acknowledge",
        "detection",
        "Acknowledge an alert",
        Some("Decision"),
        ("200", None),
    ),
    op(
        "post",
        "/v1/alerts/{id}/false-positive",
        "detection",
        "Mark a false positive; teaches the baseline",
        Some("Decision"),
        ("200", None),
    ),
    op(
        "post",
        "/v1/findings",
        "scan",
        "Report redacted scanner findings",
        Some("FindingReport"),
        ("201", None),
    ),
    op(
        "get",
        "/v1/findings",
        "scan",
        "List findings, by bot",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/auth/approle/login",
        "vault",
        "AppRole login (Vault)",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/auth/approle/role/{role}/role-id",
        "vault",
        "Read a bot's role id (Vault)",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/auth/approle/role/{role}/secret-id",
        "vault",
        "Issue a secret id (Vault)",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/secret/data/{path}",
        "vault",
        "Read a KV v2 secret (Vault)",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/secret/data/{path}",
        "vault",
        "Write a KV v2 secret version (Vault)",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/secret/metadata/{path}",
        "vault",
        "Read KV v2 metadata, or list with ?list=true (Vault)",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/auth/token/lookup-self",
        "vault",
        "Look up the caller's token (Vault)",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/auth/token/renew-self",
        "vault",
        "Renew the caller's token (Vault)",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/auth/token/revoke-self",
        "vault",
        "Revoke the caller's token (Vault)",
        None,
        ("204", None),
    ),
    op(
        "get",
        "/v1/sys/seal-status",
        "vault",
        "Seal status (Vault)",
        None,
        ("200", None),
    ),
    op(
        "put",
        "/v1/sys/seal",
        "vault",
        "Seal the vault (Vault)",
        None,
        ("204", None),
    ),
    op(
        "put",
        "/v1/sys/unseal",
        "vault",
        "Submit an unseal key share (Vault)",
        None,
        ("200", None),
    ),
    op(
        "put",
        "/v1/sys/init",
        "vault",
        "Initialise the vault (Vault)",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/sys/internal/ui/mounts/{path}",
        "vault",
        "Mount information for Vault CLI clients (Vault)",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/secret/delete/{path}",
        "vault",
        "Soft-delete KV v2 versions (Vault)",
        None,
        ("204", None),
    ),
    op(
        "post",
        "/v1/secret/undelete/{path}",
        "vault",
        "Undelete KV v2 versions (Vault)",
        None,
        ("204", None),
    ),
    op(
        "post",
        "/v1/secret/destroy/{path}",
        "vault",
        "Destroy KV v2 versions (Vault)",
        None,
        ("204", None),
    ),
    op(
        "get",
        "/v1/database/creds/{name}",
        "vault",
        "Lease dynamic PostgreSQL credentials (Vault)",
        None,
        ("200", None),
    ),
    op(
        "put",
        "/v1/sys/leases/renew",
        "vault",
        "Renew a lease (Vault)",
        None,
        ("200", None),
    ),
    op(
        "put",
        "/v1/sys/leases/revoke",
        "vault",
        "Revoke a lease (Vault)",
        None,
        ("204", None),
    ),
    op(
        "post",
        "/v1/vault/grants",
        "vault-admin",
        "Grant a bot capabilities on a secret path pattern",
        None,
        ("201", None),
    ),
    op(
        "get",
        "/v1/vault/grants",
        "vault-admin",
        "List grants, by bot",
        None,
        ("200", None),
    ),
    op(
        "delete",
        "/v1/vault/grants/{id}",
        "vault-admin",
        "Remove a grant",
        None,
        ("204", None),
    ),
    op(
        "put",
        "/v1/vault/policies/{path}",
        "vault-admin",
        "Set a secret's rotation policy and owning bots",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/vault/rotate",
        "vault-admin",
        "Rotate a secret now through its connector",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/vault/keys/rotate",
        "vault-admin",
        "Rotate the data key; old records are re-encrypted",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/vault/root/rotate",
        "vault-admin",
        "Rotate the root key",
        None,
        ("200", None),
    ),
    op(
        "get",
        "/v1/vault/connectors",
        "vault-admin",
        "List rotation connectors",
        None,
        ("200", None),
    ),
    op(
        "put",
        "/v1/vault/connectors/{name}",
        "vault-admin",
        "Create or replace a rotation connector",
        None,
        ("200", None),
    ),
    op(
        "put",
        "/v1/vault/targets/{path}",
        "vault-admin",
        "Bind a secret to a connector and target account",
        None,
        ("200", None),
    ),
    op(
        "put",
        "/v1/database/config/{name}",
        "vault-admin",
        "Configure dynamic PostgreSQL credentials",
        None,
        ("200", None),
    ),
    op(
        "post",
        "/v1/sys/jobs/rotation",
        "sys",
        "Run scheduled rotation and the lease reaper now",
        None,
        ("200", None),
    ),
];

fn string() -> Value {
    json!({"type": "string"})
}

fn object(required: &[&str], properties: &[(&str, Value)]) -> Value {
    let props: Map<String, Value> = properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    json!({"type": "object", "required": required, "properties": props})
}

fn array_of(name: &str) -> Value {
    json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}})
}

fn schemas() -> Value {
    let platform = json!({"type": "string", "enum": ["uipath", "automation-anywhere", "blue-prism", "power-automate", "script", "other"]});
    let state =
        json!({"type": "string", "enum": ["active", "suspended", "quarantined", "retired"]});
    json!({
        "Error": object(&["error"], &[("error", object(&["code", "message"], &[("code", string()), ("message", string()), ("field", string())]))]),
        "CreatePerson": object(&["name", "email"], &[("name", string()), ("email", string())]),
        "Person": object(&["id", "name", "email", "status"], &[("id", string()), ("name", string()), ("email", string()), ("status", json!({"type": "string", "enum": ["active", "left"]})), ("created_at", string()), ("left_at", string())]),
        "PersonList": array_of("Person"),
        "CreateBot": object(&["name", "purpose", "owner", "backup_owner", "platform"], &[("name", string()), ("purpose", string()), ("owner", string()), ("backup_owner", string()), ("platform", platform.clone()), ("review_by", string())]),
        "Bot": object(&["id", "name", "state"], &[("id", string()), ("name", string()), ("purpose", string()), ("owner_id", string()), ("backup_owner_id", string()), ("platform", platform), ("state", state), ("state_reason", string()), ("review_by", string()), ("review_overdue", json!({"type": "boolean"})), ("owner_flag", string()), ("created_by", string())]),
        "BotList": array_of("Bot"),
        "Reason": object(&["reason"], &[("reason", string())]),
        "Review": object(&["certify"], &[("certify", json!({"type": "boolean"})), ("review_by", string()), ("note", string())]),
        "UploadWorkflow": object(&["name", "summary"], &[("name", string()), ("content", string()), ("content_base64", string()), ("summary", string())]),
        "WorkflowVersion": object(&["id", "version", "content_sha256"], &[("id", string()), ("name", string()), ("version", json!({"type": "integer"})), ("content_sha256", string()), ("changed_by", string()), ("changed_at", string()), ("outside_working_hours", json!({"type": "boolean"}))]),
        "CreateRequest": object(&["bot", "privilege", "justification"], &[("bot", string()), ("privilege", string()), ("justification", string())]),
        "AccessRequest": object(&["id", "status"], &[("id", string()), ("bot_id", string()), ("privilege", string()), ("status", string()), ("requested_by", string()), ("decided_by", string())]),
        "Decision": object(&[], &[("note", string())]),
        "Login": object(&["username", "password"], &[("username", string()), ("password", string()), ("totp", string())]),
        "Session": object(&["token"], &[("token", string()), ("operator_id", string()), ("expires_at", string())]),
        "CreateOperator": object(&["person", "username", "password", "roles"], &[("person", string()), ("username", string()), ("password", string()), ("roles", json!({"type": "array", "items": {"type": "string", "enum": ["admin", "builder", "approver", "operator", "auditor"]}}))]),
        "AdvanceClock": object(&["advance"], &[("advance", string())]),
        "LifecycleReport": object(&[], &[("review_overdue", json!({"type": "array"})), ("quarantined", json!({"type": "array"})), ("handed_to_backup", json!({"type": "array"})), ("flagged", json!({"type": "array"}))]),
        "AuditRecord": object(&["seq", "at", "actor", "action", "outcome", "hash"], &[("seq", json!({"type": "integer"})), ("at", string()), ("actor", string()), ("action", string()), ("bot", string()), ("target", string()), ("outcome", string()), ("details", string()), ("prev_hash", string()), ("hash", string())]),
        "AuditList": array_of("AuditRecord"),
        "EventLines": {"type": "string", "description": "Ward events, one JSON object a line"},
        "IngestSummary": object(&["accepted", "duplicates", "rejected"], &[("accepted", json!({"type": "integer"})), ("duplicates", json!({"type": "integer"})), ("rejected", json!({"type": "array"})), ("alerts", json!({"type": "integer"}))]),
        "FindingReport": object(&["findings"], &[("scanner", string()), ("version", string()), ("findings", json!({"type": "array", "items": {"type": "object"}}))]),
    })
}

/// Builds the document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for operation in OPERATIONS {
        let mut entry = json!({
            "tags": [operation.tag],
            "summary": operation.summary,
            "responses": {
                operation.ok.0: match operation.ok.1 {
                    Some(schema) => json!({"description": "success", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
                    None => json!({"description": "success"}),
                },
                "default": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if let Some(body) = operation.body {
            let media = if body == "EventLines" {
                "application/x-ndjson"
            } else {
                "application/json"
            };
            entry["requestBody"] = json!({"required": true, "content": {media: {"schema": {"$ref": format!("#/components/schemas/{body}")}}}});
        }
        let params: Vec<Value> = operation
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            entry["parameters"] = Value::Array(params);
        }
        let item = paths
            .entry(operation.path.to_string())
            .or_insert_with(|| json!({}));
        item[operation.method] = entry;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Ward API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Ward's own API and its Vault-compatible endpoints. Authenticate with `Authorization: Bearer <token>` or `X-Vault-Token`."},
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "vaultToken": {"type": "apiKey", "in": "header", "name": "X-Vault-Token"}},
        },
        "security": [{"bearer": []}, {"vaultToken": []}],
        "paths": paths,
    })
}

pub async fn serve_document() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name: String = reference
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                doc["components"]["schemas"].get(&name).is_some(),
                "schema `{name}` is referenced but not defined"
            );
        }
    }

    #[test]
    fn core_paths_documented() {
        let doc = document();
        for path in [
            "/v1/bots",
            "/v1/bots/{id}/suspend",
            "/v1/audit",
            "/v1/events",
            "/v1/people",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
    }
}
