//! Scanner behaviour on inputs that other scanners got wrong: connection strings,
//! XML element secrets, assembly public key tokens, private keys with escaped
//! newlines, UTF-16 files, and malformed inputs. Every fixture is written to a
//! temporary folder by the test; keys are generated with `openssl` at test time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ward_core::finding::Finding;
use ward_scan::rules::RuleSet;
use ward_scan::walk::{Progress, ScanOutcome, WalkOptions, scan_paths};
use ward_scan::{ScanOptions, Scanner};

fn scanner() -> Scanner {
    Scanner::new(RuleSet::builtin().unwrap(), ScanOptions::default()).unwrap()
}

fn scan(root: &Path) -> ScanOutcome {
    scan_paths(
        &scanner(),
        &[root.to_path_buf()],
        &WalkOptions::default(),
        &Progress::default(),
    )
}

fn in_file<'a>(outcome: &'a ScanOutcome, name: &str) -> Vec<&'a Finding> {
    outcome
        .findings
        .iter()
        .filter(|f| f.file.ends_with(name))
        .collect()
}

fn secret(finding: &Finding) -> &str {
    finding.secret.as_deref().unwrap()
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

const CONNECTION_STRINGS: &str = r#"var a = "Server=tcp:db01.example.invalid,1433;Database=Payroll;User ID=svc_rpa@db01;Password=Fake!Passw0rd-2024;Encrypt=True;";
var b = "Data Source=ora01.example.invalid:1521/FIN;User ID=svc_fin;Password=FakeOraPw77;";
var c = "Driver={ODBC Driver 18 for SQL Server};Server=db02.example.invalid;Uid=svc_rpa;Pwd=Fake#Pwd-7731;";
var d = "jdbc:sqlserver://db03.example.invalid:1433;databaseName=HR;user=svc_hr;password=Fake-Jdbc-Pw9;";
var e = "Server=db04.example.invalid;Database=Ops;Integrated Security=SSPI;";
var f = "Server=db05.example.invalid;User ID=svc;Password=;";
"#;

#[test]
fn connection_string_passwords_exact() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Program.cs", CONNECTION_STRINGS);
    let outcome = scan(dir.path());
    let found = in_file(&outcome, "Program.cs");
    let got: Vec<(u32, &str)> = found.iter().map(|f| (f.line, secret(f))).collect();
    assert_eq!(
        got,
        vec![
            (1, "Fake!Passw0rd-2024"),
            (2, "FakeOraPw77"),
            (3, "Fake#Pwd-7731"),
            (4, "Fake-Jdbc-Pw9")
        ]
    );
    for finding in found {
        let line = CONNECTION_STRINGS
            .lines()
            .nth(finding.line as usize - 1)
            .unwrap();
        let column = line.find(secret(finding)).unwrap() + 1;
        assert_eq!(
            finding.column as usize,
            column,
            "column of {}",
            secret(finding)
        );
        assert_eq!(finding.rule_id, "connection-string-password");
    }
}

#[test]
fn connection_string_in_config_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let conn = CONNECTION_STRINGS
        .lines()
        .next()
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap();
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Settings").unwrap();
    sheet.write_string(0, 0, "Name").unwrap();
    sheet.write_string(0, 1, "Value").unwrap();
    sheet.write_string(1, 0, "OrchestratorQueueName").unwrap();
    sheet.write_string(1, 1, "InvoiceQueue").unwrap();
    sheet.write_string(2, 0, "PayrollDb").unwrap();
    sheet.write_string(2, 1, conn).unwrap();
    sheet.write_string(3, 0, "SapPassword").unwrap();
    sheet.write_string(3, 1, "Xlsx-Sap-Pw-5").unwrap();
    workbook.save(dir.path().join("Config.xlsx")).unwrap();

    let outcome = scan(dir.path());
    let found = in_file(&outcome, "Config.xlsx");
    assert_eq!(found.len(), 2, "{found:#?}");
    let payroll = found[0];
    assert_eq!(secret(payroll), "Fake!Passw0rd-2024");
    assert_eq!(payroll.rpa.sheet.as_deref(), Some("Settings"));
    assert_eq!(payroll.rpa.cell.as_deref(), Some("B3"));
    assert_eq!(payroll.rpa.argument.as_deref(), Some("PayrollDb"));
    assert_eq!((payroll.line, payroll.column), (3, 2));
    assert_eq!(secret(found[1]), "Xlsx-Sap-Pw-5");
    assert_eq!(found[1].rpa.cell.as_deref(), Some("B4"));
}

const ROBOT_CONFIG: &str = r#"<configuration>
  <appSettings>
    <add key="OrchestratorApiKey" value="q8Zr2mXw7Lp4Tn9Vb3Kd6Hs1Fg5JyFAKE" />
  </appSettings>
  <credentials>
    <api>Fk9Lm2Qp7Rs4Tv8Wx1Yz3Ab6Cd0EfFAKE</api>
    <password>FakeXmlPassw0rd!77</password>
    <password></password>
    <username>svc_rpa_invoice</username>
  </credentials>
</configuration>
"#;

#[test]
fn xml_element_and_attribute_secrets() {
    for name in ["Robot.config", "Robot.bprelease", "Robot.xaml"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, ROBOT_CONFIG);
        let outcome = scan(dir.path());
        let found = in_file(&outcome, name);
        let got: Vec<(u32, &str)> = found.iter().map(|f| (f.line, secret(f))).collect();
        assert_eq!(
            got,
            vec![
                (3, "q8Zr2mXw7Lp4Tn9Vb3Kd6Hs1Fg5JyFAKE"),
                (6, "Fk9Lm2Qp7Rs4Tv8Wx1Yz3Ab6Cd0EfFAKE"),
                (7, "FakeXmlPassw0rd!77")
            ],
            "as {name}"
        );
        for finding in found {
            let line = ROBOT_CONFIG.lines().nth(finding.line as usize - 1).unwrap();
            assert_eq!(
                finding.column as usize,
                line.find(secret(finding)).unwrap() + 1,
                "{name}"
            );
            assert!(!secret(finding).contains(['<', '>', '"']));
        }
    }
}

const APP_CONFIG: &str = r#"<configuration>
  <configSections>
    <section name="entityFramework" type="System.Data.Entity.Internal.ConfigFile.EntityFrameworkSection, EntityFramework, Version=6.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089" requirePermission="false" />
    <section name="host" type="System.Web.WebPages.Razor.Configuration.HostSection, System.Web.WebPages.Razor, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31BF3856AD364E35" />
  </configSections>
  <appSettings>
    <add key="QueueApiToken" value="Zx81Lq0Pw3Rt6Yu9Io2Pa5Sd8FgFAKE" />
  </appSettings>
</configuration>
"#;

#[test]
fn public_key_token_not_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.config", APP_CONFIG);
    write(
        dir.path(),
        "CustomActivities.csproj",
        r#"<Project><ItemGroup><Reference Include="Newtonsoft.Json, Version=13.0.0.0, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed" /></ItemGroup></Project>"#,
    );
    let outcome = scan(dir.path());
    assert_eq!(outcome.findings.len(), 1, "{:#?}", outcome.findings);
    assert_eq!(outcome.findings[0].line, 7);
    assert_eq!(
        secret(&outcome.findings[0]),
        "Zx81Lq0Pw3Rt6Yu9Io2Pa5Sd8FgFAKE"
    );
    assert_eq!(
        outcome.findings[0].rpa.argument.as_deref(),
        Some("QueueApiToken")
    );

    let without: String = APP_CONFIG
        .lines()
        .filter(|l| !l.contains("QueueApiToken"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(dir.path(), "app.config", without);
    assert!(scan(dir.path()).findings.is_empty());
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed for this test");
    assert!(
        status.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn private_keys_escaped_flattened_and_plain() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    openssl(
        keys.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "k.pem",
        ],
    );
    openssl(
        keys.path(),
        &[
            "req", "-x509", "-key", "k.pem", "-subj", "/CN=fake", "-out", "cert.pem",
        ],
    );
    openssl(
        keys.path(),
        &["pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"],
    );
    let pem = std::fs::read_to_string(keys.path().join("k.pem")).unwrap();
    for name in ["k.pem", "cert.pem", "pub.pem"] {
        std::fs::copy(keys.path().join(name), dir.path().join(name)).unwrap();
    }
    let sa = serde_json::json!({"type": "service_account", "client_email": "bot@fake-project.iam.example", "private_key": pem});
    write(dir.path(), "sa.json", serde_json::to_string(&sa).unwrap());
    write(
        dir.path(),
        "key.env",
        format!("PRIVATE_KEY={}\n", pem.trim_end().replace('\n', " ")),
    );
    write(
        dir.path(),
        "key.js",
        format!("const k = '{}';\n", pem.trim_end().replace('\n', "\\r\\n")),
    );

    let outcome = scan(dir.path());
    let mut secrets = Vec::new();
    for name in ["sa.json", "key.env", "key.js", "k.pem"] {
        let found = in_file(&outcome, name);
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        assert_eq!(found[0].rule_id, "private-key", "{name}");
        assert_eq!(found[0].line, 1, "{name}");
        secrets.push(secret(found[0]).to_string());
    }
    assert!(
        secrets.windows(2).all(|w| w[0] == w[1]),
        "the same key must read the same in every file"
    );
    assert!(in_file(&outcome, "cert.pem").is_empty());
    assert!(in_file(&outcome, "pub.pem").is_empty());
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xFE, 0xFF]
        } else {
            &[0xFF, 0xFE]
        });
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_files_scanned_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let script = "$password = \"Fake-Utf16-Pa55!\"\r\n$token = \"ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000\"\r\n";
    write(dir.path(), "u8.ps1", script);
    write(dir.path(), "le-bom.ps1", utf16(script, false, true));
    write(dir.path(), "be-bom.ps1", utf16(script, true, true));
    write(dir.path(), "le-nobom.ps1", utf16(script, false, false));
    let reg = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\FakeRpa]\r\n\"ServicePassword\"=\"Fake-Reg-Pw-42\"\r\n";
    write(dir.path(), "deploy.reg", utf16(reg, false, true));
    write(
        dir.path(),
        "logo.png",
        [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
        ],
    );

    let outcome = scan(dir.path());
    for name in ["u8.ps1", "le-bom.ps1", "be-bom.ps1", "le-nobom.ps1"] {
        let got: Vec<(u32, u32, &str)> = in_file(&outcome, name)
            .iter()
            .map(|f| (f.line, f.column, secret(f)))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 14, "Fake-Utf16-Pa55!"),
                (2, 11, "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000")
            ],
            "{name}"
        );
    }
    let reg_found = in_file(&outcome, "deploy.reg");
    assert_eq!(reg_found.len(), 1);
    assert_eq!(secret(reg_found[0]), "Fake-Reg-Pw-42");
    let skipped: Vec<&str> = outcome.skipped.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].ends_with("logo.png"));
}

#[test]
fn nupkg_members_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("Bot.1.0.0.nupkg")).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file(
        "lib/net45/Main.xaml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(
        &mut zip,
        br#"<Activity x:Class="Main"><ucas:Login Password="Nupkg-Sap-Pw-3" /></Activity>"#,
    )
    .unwrap();
    zip.finish().unwrap();
    let outcome = scan(dir.path());
    assert_eq!(outcome.findings.len(), 1, "{:#?}", outcome);
    assert!(
        outcome.findings[0]
            .file
            .ends_with("Bot.1.0.0.nupkg!lib/net45/Main.xaml")
    );
    assert_eq!(outcome.findings[0].rpa.platform.as_deref(), Some("uipath"));
}

#[cfg(unix)]
#[test]
fn malformed_inputs_warn_and_continue() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{PermissionsExt, symlink};

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.env", "DB_PASSWORD=Good-Env-Pw-1\n");
    let mut zip = Vec::new();
    {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
        writer
            .start_file("a.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut writer, &[b'x'; 4096]).unwrap();
        writer.finish().unwrap();
    }
    write(dir.path(), "truncated.zip", &zip[..zip.len() / 2]);
    write(
        dir.path(),
        "broken.xml",
        "<a><password>Broken-Xml-Pw-2</password><b></a",
    );
    let big = std::fs::File::create(dir.path().join("huge.bin")).unwrap();
    big.set_len(2 * 1024 * 1024 * 1024).unwrap();
    std::fs::create_dir(dir.path().join("loop")).unwrap();
    symlink(dir.path().join("loop"), dir.path().join("loop/again")).unwrap();
    symlink(
        dir.path().join("missing-target"),
        dir.path().join("dangling"),
    )
    .unwrap();
    let locked = write(dir.path(), "locked.txt", "nothing");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::write(
        dir.path()
            .join(std::ffi::OsStr::from_bytes(b"bad-\xff.ini")),
        "password=NonUtf8-Name-Pw\n",
    )
    .unwrap();

    let outcome = scan(dir.path());
    let warned = |needle: &str| outcome.warnings.iter().any(|w| w.path.contains(needle));
    assert!(warned("truncated.zip"), "{:#?}", outcome.warnings);
    assert!(warned("broken.xml"), "{:#?}", outcome.warnings);
    assert!(warned("huge.bin"), "{:#?}", outcome.warnings);
    assert!(warned("again"), "{:#?}", outcome.warnings);
    assert!(warned("dangling"), "{:#?}", outcome.warnings);
    assert!(warned("bad-"), "{:#?}", outcome.warnings);
    let secrets: Vec<&str> = outcome.findings.iter().map(secret).collect();
    assert!(secrets.contains(&"Good-Env-Pw-1"), "{secrets:?}");
    assert!(secrets.contains(&"Broken-Xml-Pw-2"), "{secrets:?}");
    assert!(secrets.contains(&"NonUtf8-Name-Pw"), "{secrets:?}");
}

fn git(dir: &Path, args: &[&str], date: &str) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Fake Dev",
            "-c",
            "user.email=dev@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .current_dir(dir)
        .output()
        .expect("git must be installed for this test");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn git_history_reports_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"], "2024-01-01T10:00:00Z");
    write(repo, "settings.ini", "[db]\npassword=History-Pw-77\n");
    git(repo, &["add", "."], "2024-01-01T10:00:00Z");
    git(
        repo,
        &["commit", "-qm", "add settings"],
        "2024-01-01T10:00:00Z",
    );
    write(
        repo,
        "settings.ini",
        "[db]\nhost=db01\npassword=History-Pw-77\n",
    );
    git(
        repo,
        &["commit", "-qam", "move line"],
        "2024-02-01T10:00:00Z",
    );
    write(
        repo,
        "settings.ini",
        "[db]\nhost=db01\npassword=${DB_PASSWORD}\n",
    );
    git(
        repo,
        &["commit", "-qam", "remove secret"],
        "2024-03-01T10:00:00Z",
    );
    let first = String::from_utf8(
        Command::new("git")
            .args(["rev-list", "--max-parents=0", "HEAD"])
            .current_dir(repo)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();

    let outcome = ward_scan::git::scan_history(&scanner(), repo, 2, &Progress::default()).unwrap();
    assert_eq!(outcome.findings.len(), 1, "{:#?}", outcome.findings);
    let finding = &outcome.findings[0];
    let origin = finding.git.as_ref().unwrap();
    assert_eq!(origin.commit, first.trim());
    assert!(
        origin.author_date.starts_with("2024-01-01"),
        "{}",
        origin.author_date
    );
    assert_eq!(finding.file, "settings.ini");
    assert_eq!(finding.line, 2);
    assert_eq!(secret(finding), "History-Pw-77");
}

#[test]
fn gitleaks_config_loads_with_allowlist() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "gitleaks.toml",
        r#"title = "custom"
[allowlist]
paths = ['''ignored/''']
[[rules]]
id = "acme-token"
description = "ACME token"
regex = '''acme_[a-z0-9]{12}'''
keywords = ["acme_"]
[[rules.allowlists]]
stopwords = ["acme_000000000000"]
"#,
    );
    let rules = RuleSet::from_file(&config).unwrap();
    let scanner = Scanner::new(rules, ScanOptions::default()).unwrap();
    let files = tempfile::tempdir().unwrap();
    write(
        files.path(),
        "a.txt",
        "t = acme_abcdef123456\nu = acme_000000000000\n",
    );
    std::fs::create_dir(files.path().join("ignored")).unwrap();
    write(&files.path().join("ignored"), "b.txt", "acme_abcdef123456");
    let outcome = scan_paths(
        &scanner,
        &[files.path().to_path_buf()],
        &WalkOptions::default(),
        &Progress::default(),
    );
    let rules: Vec<(&str, &str)> = outcome
        .findings
        .iter()
        .filter(|f| f.rule_id == "acme-token")
        .map(|f| (f.file.as_str(), secret(f)))
        .collect();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert!(rules[0].0.ends_with("a.txt"));
}

#[test]
fn reframework_assets_sheet_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let assets = workbook.add_worksheet();
    assets.set_name("Assets").unwrap();
    for (col, header) in ["Name", "Asset", "Description"].iter().enumerate() {
        assets.write_string(0, col as u16, *header).unwrap();
    }
    assets.write_string(1, 0, "SapCredential").unwrap();
    assets.write_string(1, 1, "SAP_Login_Credential").unwrap();
    assets
        .write_string(1, 2, "Credential asset used to log in to SAP")
        .unwrap();
    workbook.save(dir.path().join("Config.xlsx")).unwrap();
    let outcome = scan(dir.path());
    assert!(outcome.findings.is_empty(), "{:#?}", outcome.findings);
}

#[test]
fn rpa_flow_formats_dispatched() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Login.robin",
        "WebAutomation.PopulateTextField.PopulateTextField BrowserInstance: Browser Control: appmask['Login']['Txt_Password'] Text: $'''Robin-Pw-61''' EmulateTyping: False\n",
    );
    write(
        dir.path(),
        "InvoiceBot.json",
        r#"{"nodes":[{"commandName":"login","attributes":[{"name":"password","value":{"type":"STRING","string":"Aa-Bot-Pw-31"}}]}]}"#,
    );
    let outcome = scan(dir.path());
    let robin = in_file(&outcome, "Login.robin");
    assert_eq!(robin.len(), 1);
    assert_eq!(robin[0].rule_id, "pad-password-field-literal");
    assert_eq!(
        robin[0].rpa.platform.as_deref(),
        Some("power-automate-desktop")
    );
    let bot = in_file(&outcome, "InvoiceBot.json");
    assert_eq!(bot.len(), 1, "{bot:#?}");
    assert_eq!(secret(bot[0]), "Aa-Bot-Pw-31");
    assert_eq!(bot[0].rpa.platform.as_deref(), Some("automation-anywhere"));
}
