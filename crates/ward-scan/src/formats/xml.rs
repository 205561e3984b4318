//! XML documents read as structure: UiPath XAML workflows, Blue Prism releases and
//! processes, .NET `app.config`/`web.config`, project and package manifests.
//!
//! Reported here: attributes named like credentials (`Password="..."`, also
//! `this:Main.in_Password` argument defaults), key/value pairs such as
//! `<add key="ApiKey" value="..."/>` or `<Variable Name="pwd" Default="..."/>`,
//! element text under a credential-like element name or `x:Key`, and Blue Prism
//! data items of type `password` that carry an initial value.

use quick_xml::Reader;
use quick_xml::escape::unescape;
use quick_xml::events::{BytesStart, Event};
use ward_core::finding::RpaContext;

use crate::detect::names::is_secret_name;
use crate::detect::value::{generic_confidence, is_plausible_secret};
use crate::detect::{Candidate, Priority};

/// An attribute named like a credential, such as a XAML activity's `Password`.
pub const XML_ATTRIBUTE: &str = "xml-credential-attribute";
/// A `key`/`name` attribute naming a credential next to a `value`/`Default` attribute.
pub const XML_KEY_VALUE: &str = "xml-credential-value";
/// Text of an element named like a credential.
pub const XML_ELEMENT: &str = "xml-credential-element";
/// A Blue Prism `password` data item with a stored initial value.
pub const BLUEPRISM_PASSWORD: &str = "blueprism-password-data-item";
/// A Blue Prism text data item named like a credential with an initial value.
pub const BLUEPRISM_TEXT: &str = "blueprism-credential-data-item";

const NAME_ATTRIBUTES: &[&str] = &["x:Key", "key", "Key", "name", "Name"];
const VALUE_ATTRIBUTES: &[&str] = &["value", "Value", "Default", "defaultValue", "DefaultValue"];
const MIN_LEN: usize = 4;

/// Flavour of an XML document, used for the RPA context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlKind {
    /// UiPath workflow.
    Xaml,
    /// Blue Prism release or process.
    BluePrism,
    /// Anything else.
    Other,
}

struct Frame {
    local: String,
    /// Credential name under which this element's text is a candidate.
    text_name: Option<String>,
    text_start: usize,
    has_child: bool,
    display_name: Option<String>,
}

#[derive(Default)]
struct Stage {
    name: String,
    datatype: String,
}

struct Walker<'a> {
    text: &'a str,
    kind: XmlKind,
    workflow: String,
    stack: Vec<Frame>,
    stage: Option<Stage>,
    out: &'a mut Vec<Candidate>,
}

/// Appends candidates from an XML document. Returns an error message when the XML
/// is malformed; candidates found before the error are kept.
pub fn scan(
    text: &str,
    kind: XmlKind,
    workflow: &str,
    out: &mut Vec<Candidate>,
) -> Result<(), String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut walker = Walker {
        text,
        kind,
        workflow: workflow.to_string(),
        stack: Vec::new(),
        stage: None,
        out,
    };
    let mut last = 0usize;
    loop {
        let event = reader.read_event();
        let pos = usize::try_from(reader.buffer_position())
            .unwrap_or(text.len())
            .min(text.len());
        match event {
            Ok(Event::Start(tag)) => walker.open(&tag, last, pos, false),
            Ok(Event::Empty(tag)) => walker.open(&tag, last, pos, true),
            Ok(Event::End(_)) => walker.close(last),
            Ok(Event::Eof) => return Ok(()),
            Err(err) => return Err(format!("invalid XML at byte {pos}: {err}")),
            Ok(_) => {}
        }
        last = pos;
    }
}

impl Walker<'_> {
    fn open(&mut self, tag: &BytesStart<'_>, start: usize, end: usize, empty: bool) {
        if let Some(parent) = self.stack.last_mut() {
            parent.has_child = true;
        }

        let raw_tag = self.text.get(start..end).unwrap_or("");
        let local = tag.local_name().as_ref().to_string();
        let mut name_attr: Option<String> = None;
        let mut value_attr: Option<(String, usize, usize)> = None;
        let mut display_name = None;
        let mut stage_type = None;
        let mut cursor = 0usize;
        for attr in tag.attributes().with_checks(false).flatten() {
            let key = attr.key.as_ref().to_string();
            let raw_value = attr.value.as_ref();
            let Some((value_start, value_end)) = find_attr_value(raw_tag, &key, &mut cursor) else {
                continue;
            };
            let decoded = unescape(raw_value)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| raw_value.to_string());
            let offset = start + value_start;
            if key == "DisplayName" {
                display_name = Some(decoded.clone());
            }
            if local == "stage" && key == "type" {
                stage_type = Some(decoded.clone());
            }
            if local == "process" && key == "name" && self.kind == XmlKind::BluePrism {
                self.workflow = decoded.clone();
            }
            if key == "x:Class" {
                self.workflow = decoded.clone();
            }
            if NAME_ATTRIBUTES.contains(&key.as_str()) && name_attr.is_none() {
                name_attr = Some(decoded.clone());
            }
            if VALUE_ATTRIBUTES.contains(&key.as_str()) {
                value_attr = Some((decoded.clone(), offset, start + value_end));
            }
            let attr_local = key.rsplit(':').next().unwrap_or(&key);
            if is_secret_name(attr_local) {
                let activity = display_name
                    .clone()
                    .or_else(|| self.activity())
                    .unwrap_or_else(|| local.clone());
                self.push_literal(
                    XML_ATTRIBUTE,
                    &decoded,
                    raw_tag_slice(raw_tag, value_start, value_end),
                    offset,
                    attr_local,
                    Some(activity),
                );
            }
        }

        if let (Some(name), Some((value, offset, value_end))) = (&name_attr, &value_attr)
            && is_secret_name(name)
        {
            let raw = self.text.get(*offset..*value_end).unwrap_or("");
            let activity = display_name.clone().or_else(|| self.activity());
            self.push_literal(XML_KEY_VALUE, value, raw, *offset, name, activity);
        }

        if local == "stage" {
            self.stage = (stage_type.as_deref() == Some("Data")).then(|| Stage {
                name: name_attr.clone().unwrap_or_default(),
                datatype: String::new(),
            });
        }

        if empty {
            return;
        }

        let text_name = if is_secret_name(&local) {
            Some(local.clone())
        } else {
            name_attr.filter(|n| is_secret_name(n) && value_attr.is_none() && local != "stage")
        };

        self.stack.push(Frame {
            local,
            text_name,
            text_start: end,
            has_child: false,
            display_name,
        });
    }

    fn close(&mut self, end_tag_start: usize) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if frame.has_child {
            return;
        }
        let raw = self.text.get(frame.text_start..end_tag_start).unwrap_or("");
        let value = unescape(raw.trim())
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| raw.trim().to_string());
        let lead = raw.len() - raw.trim_start().len();
        let offset = frame.text_start + lead;
        let trimmed_raw = raw.trim();
        match frame.local.as_str() {
            "datatype" => {
                if let Some(stage) = self.stage.as_mut() {
                    stage.datatype = value.clone();
                }
            }
            "initialvalueenc" | "initialvalue" => {
                self.close_initial_value(&frame.local, &value, trimmed_raw, offset)
            }
            _ => {}
        }
        if let Some(name) = frame.text_name {
            let activity = self.activity();
            self.push_literal(XML_ELEMENT, &value, trimmed_raw, offset, &name, activity);
        }
    }

    fn close_initial_value(&mut self, element: &str, value: &str, raw: &str, offset: usize) {
        let Some(stage) = &self.stage else { return };
        if value.trim().is_empty() {
            return;
        }
        let rule = if stage.datatype == "password" {
            BLUEPRISM_PASSWORD
        } else if (stage.datatype == "text" || element == "initialvalueenc")
            && is_secret_name(&stage.name)
        {
            BLUEPRISM_TEXT
        } else {
            return;
        };
        if rule == BLUEPRISM_TEXT && !is_plausible_secret(value, MIN_LEN) {
            return;
        }
        let context = RpaContext {
            platform: Some("blueprism".to_string()),
            workflow: Some(self.workflow.clone()),
            activity: Some(stage.name.clone()),
            argument: Some(stage.name.clone()),
            ..RpaContext::default()
        };
        self.out.push(Candidate::span(
            rule,
            offset,
            offset + raw.len(),
            value,
            ward_core::finding::Confidence::High,
            Priority::Structured,
            context,
        ));
    }

    fn activity(&self) -> Option<String> {
        self.stack.iter().rev().find_map(|f| f.display_name.clone())
    }

    /// Reports `decoded` when it is a literal: a plain value, or a bracketed VB/C#
    /// expression that is one string literal (`["pw"]`). Other expressions and markup
    /// extensions (`{x:Null}`) are references, not secrets.
    fn push_literal(
        &mut self,
        rule: &str,
        decoded: &str,
        raw: &str,
        offset: usize,
        name: &str,
        activity: Option<String>,
    ) {
        let Some(literal) = literal_value(decoded) else {
            return;
        };
        if !is_plausible_secret(&literal, MIN_LEN) {
            return;
        }
        // NOTE: a value escaped differently from quick-xml's escaping (`&#34;` for `"`)
        // is not found verbatim, and the finding then points at the start of the raw value.
        let escaped = quick_xml::escape::escape(literal.as_str());
        let (start, len) = match raw.find(escaped.as_ref()) {
            Some(at) => (offset + at, escaped.len()),
            None => (offset, raw.len()),
        };
        let platform = match self.kind {
            XmlKind::Xaml => Some("uipath".to_string()),
            XmlKind::BluePrism => Some("blueprism".to_string()),
            XmlKind::Other => None,
        };
        let mut confidence = generic_confidence(&literal);
        if self.kind != XmlKind::Other {
            confidence = confidence.raised();
        }
        self.out.push(Candidate::span(
            rule,
            start,
            start + len,
            &literal,
            confidence,
            Priority::Structured,
            RpaContext {
                platform,
                workflow: Some(self.workflow.clone()),
                activity,
                argument: Some(name.to_string()),
                ..RpaContext::default()
            },
        ));
    }
}

fn raw_tag_slice(raw_tag: &str, start: usize, end: usize) -> &str {
    raw_tag.get(start..end).unwrap_or("")
}

/// Returns the literal that `value` stands for, or `None` for an expression.
fn literal_value(value: &str) -> Option<String> {
    let v = value.trim();
    if v.starts_with('{') {
        return None;
    }
    if let Some(inner) = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let inner = inner.trim();
        let literal = inner.strip_prefix('"')?.strip_suffix('"')?;
        return (!literal.contains('"')).then(|| literal.to_string());
    }
    Some(v.to_string())
}

/// Finds the byte range of attribute `key`'s value inside a raw start tag, searching
/// from `cursor` (attributes come in order) and moving the cursor past it.
fn find_attr_value(raw_tag: &str, key: &str, cursor: &mut usize) -> Option<(usize, usize)> {
    let mut from = *cursor;
    while let Some(found) = raw_tag.get(from..)?.find(key) {
        let key_start = from + found;
        let key_end = key_start + key.len();
        let before_ok = key_start == 0 || raw_tag.as_bytes()[key_start - 1].is_ascii_whitespace();
        let rest = &raw_tag[key_end..];
        let after = rest.trim_start();
        if before_ok && after.starts_with('=') {
            let after_eq = after[1..].trim_start();
            let quote = after_eq.chars().next()?;
            if quote == '"' || quote == '\'' {
                let value_start = raw_tag.len() - after_eq.len() + 1;
                let value_len = raw_tag[value_start..].find(quote)?;
                *cursor = value_start + value_len + 1;
                return Some((value_start, value_start + value_len));
            }
        }
        from = key_end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(xml: &str, kind: XmlKind) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        scan(xml, kind, "wf", &mut out).unwrap();
        out.iter()
            .map(|c| {
                let crate::detect::Location::Span { start, end } = c.location else {
                    panic!("span expected")
                };
                (
                    c.rule_id.clone(),
                    c.secret.clone(),
                    xml[start..end].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn config_shapes() {
        let xml = r#"<configuration>
  <appSettings>
    <add key="OrchestratorApiKey" value="q8Zr2mXw7Lp4Tn9Vb3Kd6Hs1Fg5JyFAKE" />
  </appSettings>
  <credentials>
    <api>Fk9Lm2Qp7Rs4Tv8Wx1Yz3Ab6Cd0EfFAKE</api>
    <password>FakeXmlPassw0rd!77</password>
    <password></password>
    <username>svc_rpa_invoice</username>
  </credentials>
</configuration>"#;
        let found = secrets(xml, XmlKind::Other);
        let values: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(
            values,
            vec![
                "q8Zr2mXw7Lp4Tn9Vb3Kd6Hs1Fg5JyFAKE",
                "Fk9Lm2Qp7Rs4Tv8Wx1Yz3Ab6Cd0EfFAKE",
                "FakeXmlPassw0rd!77"
            ]
        );
        for (_, secret, raw) in &found {
            assert_eq!(secret, raw, "span must cover exactly the value");
        }
    }

    #[test]
    fn xaml_properties_and_expressions() {
        let xml = r#"<Activity x:Class="Main" this:Main.in_Password="Arg-Default-9" xmlns:x="x" xmlns:this="t">
  <Sequence DisplayName="Login">
    <Variable x:TypeArguments="x:String" Default="Var-Default-8" Name="dbPassword" />
    <ucas:Login Password="Kgnrmcl6" SecurePassword="{x:Null}" Username="GBI-019" />
    <ui:Excel Password="[sPW]" />
    <InArgument x:TypeArguments="x:String" x:Key="in_Password">[&quot;Quoted-Lit-7&quot;]</InArgument>
    <OutArgument x:Key="out_Password">[sPW]</OutArgument>
  </Sequence>
</Activity>"#;
        let values: Vec<String> = secrets(xml, XmlKind::Xaml)
            .into_iter()
            .map(|f| f.1)
            .collect();
        assert_eq!(
            values,
            vec!["Arg-Default-9", "Var-Default-8", "Kgnrmcl6", "Quoted-Lit-7"]
        );
    }

    #[test]
    fn blueprism_password_item() {
        let xml = r#"<process name="P"><stage name="Data1" type="Data"><datatype>password</datatype><initialvalueenc>115,38,106</initialvalueenc></stage><stage name="Email" type="Data"><datatype>text</datatype><initialvalue>a@example.com</initialvalue></stage></process>"#;
        let found = secrets(xml, XmlKind::BluePrism);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, BLUEPRISM_PASSWORD);
        assert_eq!(found[0].2, "115,38,106");
    }

    #[test]
    fn malformed_xml_reports_error() {
        let mut out = Vec::new();
        assert!(scan("<a><b>text</a", XmlKind::Other, "wf", &mut out).is_err());
    }
}
