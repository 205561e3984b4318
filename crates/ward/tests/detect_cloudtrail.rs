//! CloudTrail parsing through the real binary: gzip and digest files,
//! identity types and the spellings of "access denied".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed setup step should abort the test

mod detect_support;

use detect_support::{assumed_role_bot, cloudtrail_record, gzip, parse, stderr, ward, write};
use serde_json::{Value, json};

fn iam_user() -> Value {
    json!({"type":"IAMUser","principalId":"AIDAFAKEFAKEFAKE2345","arn":"arn:aws:iam::111122223333:user/svc-rpa-invoice","accountId":"111122223333","userName":"svc-rpa-invoice"})
}

fn records_file(ids: [&str; 2]) -> Vec<u8> {
    let records: Vec<Value> = ids
        .iter()
        .map(|id| cloudtrail_record(id, "2024-05-01T12:01:00Z", iam_user(), "s3", "GetObject"))
        .collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

#[test]
fn bucket_copy_with_digest_gzip_and_truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("case16");
    let valid_gz = gzip(&records_file(["ev-1", "ev-2"]));
    write(
        &root,
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1200Z_FAKEfake0001.json.gz",
        &valid_gz,
    );
    let digest = json!({
        "awsAccountId": "111122223333",
        "digestStartTime": "2024-05-01T12:00:00Z",
        "digestEndTime": "2024-05-01T13:00:00Z",
        "digestS3Bucket": "fake-trail-bucket",
        "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/x.json.gz",
        "digestPublicKeyFingerprint": "00ff",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "previousDigestHashValue": null,
        "logFiles": [{"s3Bucket": "fake-trail-bucket", "s3Object": "x.json.gz", "hashValue": "ab12", "hashAlgorithm": "SHA-256"}]
    });
    write(
        &root,
        "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/05/01/111122223333_CloudTrail-Digest_eu-west-1_ward-trail_eu-west-1_20240501T130000Z.json.gz",
        &gzip(&serde_json::to_vec(&digest).unwrap()),
    );
    write(
        &root,
        "plain-named-gz.json.gz",
        &records_file(["ev-3", "ev-4"]),
    );
    write(
        &root,
        "gzip-named-plain.json",
        &gzip(&records_file(["ev-5", "ev-6"])),
    );
    write(&root, "cut.json.gz", &valid_gz[..100]);

    let (events, output) = parse("cloudtrail", &[&root]);
    let err = stderr(&output);
    let mut ids: Vec<&str> = events.iter().map(|e| e["uid"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["ev-1", "ev-2", "ev-3", "ev-4", "ev-5", "ev-6"],
        "{err}"
    );
    assert!(err.contains("digest file, no events"), "{err}");
    assert!(err.contains("cut.json.gz: truncated gzip"), "{err}");
    assert!(
        err.contains("5 read, 1 failed, 1 digest files skipped"),
        "{err}"
    );
    assert!(
        err.contains("0 malformed"),
        "the digest is not a parse failure: {err}"
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "a failed file sets the exit status"
    );

    let replay = ward(&[
        "detect",
        "replay",
        "--format",
        "cloudtrail",
        "--output",
        "json",
        root.to_str().unwrap(),
    ]);
    let document: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(document["summary"]["events"], 6);
    assert_eq!(document["summary"]["files_failed"], 1);
    assert_eq!(document["summary"]["digest_files"], 1);
}

#[test]
fn identity_types_stay_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let identities = [
        iam_user(),
        assumed_role_bot(),
        json!({"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}),
        json!({"type":"AWSService","invokedBy":"cloudformation.amazonaws.com"}),
        json!({"type":"AWSAccount","principalId":"","accountId":"ANONYMOUS_PRINCIPAL"}),
        json!({"type":"IdentityCenterUser","accountId":"111122223333","onBehalfOf":{"userId":"11111111-2222-4333-8444-000000000006","identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-1234567890"},"credentialId":"FAKEcred6"}),
    ];
    let mut lines = String::new();
    for (index, identity) in identities.into_iter().enumerate() {
        let mut record = cloudtrail_record(
            &format!("id-{index}"),
            "2024-05-01T12:00:00Z",
            identity,
            "secretsmanager",
            "GetSecretValue",
        );
        record["requestParameters"] = json!({"secretId": "rpa/invoice"});
        lines.push_str(&record.to_string());
        lines.push('\n');
    }
    let file = write(dir.path(), "identities.jsonl", lines.as_bytes());

    let (events, output) = parse("cloudtrail", &[&file]);
    assert_eq!(events.len(), 6, "{}", stderr(&output));
    let actor = |i: usize| &events[i]["actor"];
    assert_eq!(actor(0)["kind"], "iam_user");
    assert_eq!(actor(0)["name"], "svc-rpa-invoice");
    assert_eq!(actor(1)["kind"], "assumed_role");
    assert_eq!(actor(1)["name"], "bot-invoice-07");
    assert_eq!(actor(1)["role"], "RpaRunner");
    assert!(
        actor(1)["uid"]
            .as_str()
            .unwrap()
            .ends_with("RpaRunner/bot-invoice-07")
    );
    assert_eq!(actor(2)["kind"], "aws_root");
    assert_eq!(actor(2)["high_risk"], true);
    assert_eq!(actor(3)["kind"], "aws_service");
    assert_eq!(actor(3)["name"], "cloudformation.amazonaws.com");
    assert_eq!(actor(4)["kind"], "anonymous");
    assert!(
        actor(4).get("account_uid").is_none(),
        "ANONYMOUS_PRINCIPAL is not an account id"
    );
    assert_eq!(actor(5)["kind"], "identity_center_user");
    assert_eq!(actor(5)["name"], "11111111-2222-4333-8444-000000000006");
    let mut uids: Vec<&str> = events
        .iter()
        .map(|e| e["actor"]["uid"].as_str().unwrap())
        .collect();
    assert!(uids.iter().all(|uid| !uid.is_empty()));
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 6, "no two records share an identity");
    assert!(events.iter().all(|e| e["secret_read"] == true));

    let replay = ward(&[
        "detect",
        "replay",
        "--format",
        "cloudtrail",
        "--output",
        "json",
        file.to_str().unwrap(),
    ]);
    let document: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(
        document["summary"]["identities"], 6,
        "six baselines, none merged"
    );
}

/// The eight rows of the denied-calls case: (source, name, errorCode, errorMessage).
const DENIED: [(&str, &str, Option<&str>, Option<&str>); 8] = [
    (
        "s3",
        "GetObject",
        Some("AccessDenied"),
        Some("Access Denied"),
    ),
    (
        "kms",
        "Decrypt",
        Some("AccessDeniedException"),
        Some("is not authorized to perform: kms:Decrypt"),
    ),
    (
        "ec2",
        "DescribeInstances",
        Some("Client.UnauthorizedOperation"),
        Some("You are not authorized"),
    ),
    (
        "secretsmanager",
        "GetSecretValue",
        Some("AccessDeniedException"),
        Some("because no identity-based policy allows"),
    ),
    (
        "dynamodb",
        "PutItem",
        Some("ThrottlingException"),
        Some("Rate exceeded"),
    ),
    (
        "s3",
        "GetObject",
        Some("NoSuchKey"),
        Some("The specified key does not exist."),
    ),
    (
        "signin",
        "ConsoleLogin",
        None,
        Some("Failed authentication"),
    ),
    ("s3", "GetObject", None, None),
];

fn denied_record(row: usize, id: &str, time: &str) -> Value {
    let (source, name, code, message) = DENIED[row];
    let mut record = cloudtrail_record(id, time, assumed_role_bot(), source, name);
    if let Some(code) = code {
        record["errorCode"] = json!(code);
    }
    if let Some(message) = message {
        record["errorMessage"] = json!(message);
    }
    if row == 6 {
        record["responseElements"] = json!({"ConsoleLogin": "Failure"});
    }
    record
}

#[test]
fn denied_error_codes_map_to_failure_classes() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..8)
        .map(|row| {
            format!(
                "{}\n",
                denied_record(
                    row,
                    &format!("d-{row}"),
                    &format!("2024-05-01T12:{:02}:00Z", row * 10 % 60)
                )
            )
        })
        .collect();
    let file = write(dir.path(), "denied.jsonl", lines.as_bytes());
    let (events, output) = parse("cloudtrail", &[&file]);
    assert_eq!(events.len(), 8, "{}", stderr(&output));
    let classes: Vec<&Value> = events.iter().map(|e| &e["failure"]).collect();
    for (row, class) in classes.iter().take(4).enumerate() {
        assert_eq!(*class, "permission_denied", "row {}", row + 1);
    }
    assert_eq!(classes[4], "throttled");
    assert_eq!(classes[5], "error");
    assert_eq!(classes[6], "auth_failed");
    assert!(events[7].get("failure").is_none());
    assert_eq!(events[7]["status"], "success");
    assert_eq!(
        events[3]["service"], "secretsmanager.amazonaws.com",
        "null requestParameters keeps the event"
    );
}

#[test]
fn denied_burst_raises_one_failure_spike() {
    let dir = tempfile::tempdir().unwrap();
    // Eight days of a clean baseline: the bot reads its bucket every 20 minutes.
    let mut baseline = String::new();
    let start = time::macros::datetime!(2024-05-01 00:00 UTC);
    for step in 0..(8 * 72) {
        let at = start + time::Duration::minutes(20 * step);
        let mut record = denied_record(7, &format!("base-{step}"), &rfc3339(at));
        record["requestParameters"] = json!({"bucketName": "corp-invoices"});
        baseline.push_str(&format!("{record}\n"));
    }
    let mut burst = String::new();
    let burst_start = start + time::Duration::days(8) + time::Duration::minutes(5);
    for copy in 0..30 {
        for row in 0..4 {
            let at = burst_start + time::Duration::seconds(i64::from(copy * 4 + row as i32) * 7);
            burst.push_str(&format!(
                "{}\n",
                denied_record(row, &format!("burst-{copy}-{row}"), &rfc3339(at))
            ));
        }
    }
    let baseline_file = write(dir.path(), "baseline.jsonl", baseline.as_bytes());
    let burst_file = write(dir.path(), "denied-x30.jsonl", burst.as_bytes());

    let output = ward(&[
        "detect",
        "replay",
        "--format",
        "cloudtrail",
        "--output",
        "json",
        baseline_file.to_str().unwrap(),
        burst_file.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let alerts = document["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    assert_eq!(alert["identity_name"], "bot-invoice-07");
    let spike = alert["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["detector"] == "failure_spike")
        .expect("a failure spike signal");
    let observed = spike["observed"].as_str().unwrap();
    assert!(observed.starts_with("120 permission_denied"), "{observed}");
    for code in [
        "AccessDenied ×30",
        "AccessDeniedException ×60",
        "Client.UnauthorizedOperation ×30",
    ] {
        assert!(observed.contains(code), "{code} missing from {observed}");
    }

    let ocsf = ward(&[
        "detect",
        "replay",
        "--format",
        "cloudtrail",
        "--output",
        "ocsf",
        baseline_file.to_str().unwrap(),
        burst_file.to_str().unwrap(),
    ]);
    let findings: Vec<Value> = String::from_utf8_lossy(&ocsf.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["class_uid"], 2004);
    assert_eq!(findings[0]["actor"]["user"]["name"], "bot-invoice-07");
    let types = findings[0]["finding_info"]["types"].as_array().unwrap();
    assert!(types.contains(&json!("failure_spike")), "{types:?}");
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
