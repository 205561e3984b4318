//! Readers for file formats whose structure carries the meaning of a value.

pub mod decode;
pub mod json;
pub mod pad;
pub mod xlsx;
pub mod xml;

/// The kind of a file, from its name and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An Excel workbook.
    Workbook,
    /// A zip archive, including `.nupkg` packages.
    Zip,
    /// Anything else; decoded and searched as text.
    Text,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const EMPTY_ZIP_MAGIC: &[u8] = b"PK\x05\x06";

/// Classifies a file by extension and magic bytes.
pub fn classify(path: &str, bytes: &[u8]) -> FileKind {
    let ext = extension(path);
    let is_zip = bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(EMPTY_ZIP_MAGIC);
    match ext.as_str() {
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => FileKind::Workbook,
        _ if is_zip => FileKind::Zip,
        "zip" | "nupkg" | "jar" => FileKind::Zip,
        _ => FileKind::Text,
    }
}

/// Returns the lower-case extension of the last path component (after any `!`).
pub fn extension(path: &str) -> String {
    let name = file_name(path);
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Returns the last component of a path, an archive member or a plain file.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\', '!']).next().unwrap_or(path)
}

/// Returns the XML flavour of a text file, or `None` when it is not XML.
pub fn xml_kind(path: &str, text: &str) -> Option<xml::XmlKind> {
    let ext = extension(path);
    let kind = match ext.as_str() {
        "xaml" => xml::XmlKind::Xaml,
        "bprelease" | "bpprocess" | "bpobject" => xml::XmlKind::BluePrism,
        _ => xml::XmlKind::Other,
    };
    let head = text.trim_start_matches('\u{feff}').trim_start();
    let looks_xml = head.starts_with('<');
    let xml_ext = matches!(
        ext.as_str(),
        "xml"
            | "config"
            | "xaml"
            | "bprelease"
            | "bpprocess"
            | "bpobject"
            | "csproj"
            | "vbproj"
            | "nuspec"
            | "props"
            | "targets"
            | "dtsx"
            | "pubxml"
            | "settings"
            | "resx"
    );
    if kind != xml::XmlKind::Other {
        return Some(kind);
    }
    if xml_ext || head.starts_with("<?xml") {
        return Some(kind);
    }
    // Another extension that opens with a tag: XAML or Blue Prism content under a new name.
    if looks_xml
        && (head.contains("schemas.microsoft.com/netfx/2009/xaml")
            || text.contains("xmlns=\"http://schemas.microsoft.com/netfx"))
    {
        return Some(xml::XmlKind::Xaml);
    }
    if looks_xml && text.contains("blueprism.co.uk") {
        return Some(xml::XmlKind::BluePrism);
    }
    None
}

/// Returns true when a text file should also be parsed as JSON.
pub fn is_json(path: &str, text: &str) -> bool {
    let ext = extension(path);
    let head = text.trim_start_matches('\u{feff}').trim_start();
    matches!(ext.as_str(), "json" | "bot" | "atmx") || (ext.is_empty() && (head.starts_with('{')))
}

/// Returns true when a text file is a Power Automate Desktop flow.
pub fn is_pad_flow(path: &str, text: &str) -> bool {
    extension(path) == "robin" || text.contains("$'''")
}

/// Returns the RPA platform implied by a file name, if any.
pub fn platform(path: &str) -> Option<&'static str> {
    match extension(path).as_str() {
        "xaml" => Some("uipath"),
        "bprelease" | "bpprocess" | "bpobject" => Some("blueprism"),
        "robin" => Some("power-automate-desktop"),
        "atmx" | "bot" => Some("automation-anywhere"),
        "xlsx" | "xlsm" => Some("excel-config"),
        _ if file_name(path).eq_ignore_ascii_case("project.json") => Some("uipath"),
        _ => None,
    }
}
