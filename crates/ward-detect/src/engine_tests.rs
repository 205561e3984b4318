use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use ward_core::event::{Actor, Event, FailureClass, IdentityKind};

use super::*;

const START: OffsetDateTime = datetime!(2026-09-07 00:00 UTC);

fn event(id: &str, at: OffsetDateTime, ip: &str) -> Event {
    let mut event = Event::new(
        id,
        at,
        Actor::new("bot-1", IdentityKind::WardBot).with_name("invoice"),
        "GetObject",
        "s3.amazonaws.com",
    );
    event.resource = Some("corp-invoices".into());
    event.src_ip = Some(ip.into());
    event.user_agent = Some("aws-sdk-java/1.12.600".into());
    event
}

/// `days` of a bot that calls every 15 minutes, weekdays and weekends.
fn normal_days(days: i64) -> Vec<Event> {
    (0..days * 96)
        .map(|step| {
            event(
                &format!("n-{step}"),
                START + Duration::minutes(15 * step),
                "10.0.0.5",
            )
        })
        .collect()
}

fn run(engine: &mut Engine, events: &[Event]) -> Vec<Alert> {
    latest_revisions(events.iter().flat_map(|e| engine.process(e)).collect())
}

fn detectors(alert: &Alert) -> Vec<Detector> {
    alert.signals.iter().map(|s| s.detector).collect()
}

#[test]
fn learning_period_raises_nothing() {
    let mut engine = Engine::new(Config::default());
    let mut events = normal_days(3);
    events.push(event("odd", START + Duration::days(3), "203.0.113.9"));
    assert!(run(&mut engine, &events).is_empty());
}

#[test]
fn new_source_after_learning_alerts() {
    let mut engine = Engine::new(Config::default());
    assert!(
        run(&mut engine, &normal_days(10)).is_empty(),
        "steady behaviour raises nothing"
    );
    let alerts = engine.process(&event("odd", START + Duration::days(10), "203.0.113.9"));
    assert_eq!(alerts.len(), 1);
    assert!(detectors(&alerts[0]).contains(&Detector::NewSourceAddress));
    assert!(
        alerts[0].summary.contains("203.0.113.9"),
        "{}",
        alerts[0].summary
    );
    assert!(alerts[0].score >= engine.config().alert_threshold);
}

#[test]
fn duplicates_and_stale_events_are_skipped() {
    let mut engine = Engine::new(Config::default());
    let events = normal_days(2);
    run(&mut engine, &events);
    run(&mut engine, &events[events.len() - 3..]);
    run(&mut engine, &events[..3]);
    let stats = engine.stats();
    assert_eq!(stats.processed, events.len() as u64);
    assert_eq!(stats.duplicates, 3);
    assert_eq!(stats.stale, 3);
}

#[test]
fn restored_baseline_neither_forgets_nor_realerts() {
    let mut first = Engine::new(Config::default());
    let history = normal_days(10);
    let attack = event("odd", START + Duration::days(10), "203.0.113.9");
    run(&mut first, &history);
    let snapshot = first.snapshot_identity("bot-1").unwrap();
    let text = serde_json::to_string(&snapshot).unwrap();

    let mut second = Engine::new(Config::default());
    let uid = second
        .restore_identity(serde_json::from_str(&text).unwrap())
        .unwrap();
    assert_eq!(uid, "bot-1");
    assert!(
        run(&mut second, &history[history.len() - 50..]).is_empty(),
        "replayed events raise nothing"
    );
    assert_eq!(second.stats().processed, 0);

    let expected = first.process(&attack);
    let found = second.process(&attack);
    assert_eq!(found.len(), 1, "the restored baseline still knows normal");
    assert_eq!(detectors(&found[0]), detectors(&expected[0]));
    assert_eq!(found[0].score, expected[0].score);
}

#[test]
fn restore_rejects_newer_snapshot() {
    let mut engine = Engine::new(Config::default());
    run(&mut engine, &normal_days(1));
    let mut snapshot = engine.snapshot_identity("bot-1").unwrap();
    snapshot["version"] = serde_json::json!(SNAPSHOT_VERSION + 1);
    assert!(matches!(
        engine.restore_identity(snapshot),
        Err(RestoreError::Version { .. })
    ));
}

#[test]
fn false_positive_feedback_teaches_the_baseline() {
    let mut engine = Engine::new(Config::default());
    run(&mut engine, &normal_days(10));
    let alert = engine
        .process(&event("odd", START + Duration::days(10), "203.0.113.9"))
        .remove(0);
    engine.feedback(&alert, Verdict::FalsePositive).unwrap();
    // Three hours later, past the alert window, the same address is normal.
    let later = engine.process(&event(
        "odd-2",
        START + Duration::days(10) + Duration::hours(3),
        "203.0.113.9",
    ));
    assert!(later.is_empty(), "{later:#?}");
    let other = engine.process(&event(
        "odd-3",
        START + Duration::days(10) + Duration::hours(6),
        "198.51.100.7",
    ));
    assert_eq!(
        other.len(),
        1,
        "feedback teaches only what the alert observed"
    );
}

#[test]
fn acknowledged_alert_changes_nothing() {
    let mut engine = Engine::new(Config::default());
    run(&mut engine, &normal_days(10));
    let alert = engine
        .process(&event("odd", START + Duration::days(10), "203.0.113.9"))
        .remove(0);
    let before = engine.snapshot_identity("bot-1");
    engine.feedback(&alert, Verdict::Acknowledged).unwrap();
    assert_eq!(engine.snapshot_identity("bot-1"), before);
    let unknown = Alert {
        identity: "nobody".into(),
        ..alert
    };
    assert!(matches!(
        engine.feedback(&unknown, Verdict::FalsePositive),
        Err(FeedbackError::UnknownIdentity(_))
    ));
}

#[test]
fn failure_burst_and_schedule_signals() {
    let mut engine = Engine::new(Config::default());
    // Weekday office hours only, for three weeks.
    let mut events = Vec::new();
    for day in 0..21 {
        let date = START + Duration::days(day);
        if hour_weekday(date).1 >= 5 {
            continue;
        }
        for minute in (8 * 60..17 * 60).step_by(10) {
            events.push(event(
                &format!("w-{day}-{minute}"),
                date + Duration::minutes(minute),
                "10.0.0.5",
            ));
        }
    }
    assert!(run(&mut engine, &events).is_empty());
    // A Sunday 03:00 run full of denied calls.
    let sunday = START + Duration::days(27) + Duration::hours(3);
    let burst: Vec<Event> = (0..20)
        .map(|i| {
            event(
                &format!("d-{i}"),
                sunday + Duration::seconds(i * 10),
                "10.0.0.5",
            )
            .failed(FailureClass::PermissionDenied)
        })
        .collect();
    let alerts = run(&mut engine, &burst);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let found = detectors(&alerts[0]);
    for expected in [
        Detector::OutsideSchedule,
        Detector::NewFailurePattern,
        Detector::FailureSpike,
    ] {
        assert!(
            found.contains(&expected),
            "{expected:?} missing from {found:?}"
        );
    }
    let finished = engine.finish();
    let last = finished.last().unwrap_or(&alerts[0]);
    assert!(
        last.summary.contains("20 permission_denied"),
        "{}",
        last.summary
    );
}

fn hour_weekday(at: OffsetDateTime) -> (u8, u8) {
    crate::baseline::hour_and_weekday(at.unix_timestamp())
}

#[test]
fn ocsf_detection_finding_shape() {
    let mut engine = Engine::new(Config::default());
    run(&mut engine, &normal_days(10));
    let alert = engine
        .process(&event("odd", START + Duration::days(10), "203.0.113.9"))
        .remove(0);
    let finding = alert.to_ocsf();
    assert_eq!(finding["class_uid"], 2004);
    assert_eq!(finding["type_uid"], 200401);
    assert_eq!(finding["finding_info"]["uid"], serde_json::json!(alert.id));
    assert_eq!(finding["actor"]["user"]["uid"], "bot-1");
    assert_eq!(finding["risk_score"], serde_json::json!(alert.score));
    assert!(
        finding["finding_info"]["types"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("new_source_address"))
    );
    assert_eq!(finding["finding_info"]["related_events"][0]["uid"], "odd");
}

#[test]
fn evict_idle_returns_snapshots() {
    let mut engine = Engine::new(Config::default());
    run(&mut engine, &normal_days(1));
    let mut other = event("x", START, "10.0.0.6");
    other.actor = Actor::new("bot-2", IdentityKind::WardBot);
    engine.process(&other);
    let evicted = engine.evict_idle(START + Duration::hours(1));
    assert_eq!(evicted.len(), 1);
    assert_eq!(evicted[0].0, "bot-2");
    assert!(!engine.contains_identity("bot-2"));
    assert!(engine.contains_identity("bot-1"));
    engine.restore_identity(evicted[0].1.clone()).unwrap();
    assert!(engine.contains_identity("bot-2"));
}
