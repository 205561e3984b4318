//! Descriptions of the detectors written in code rather than in the rule file.

use crate::detect::generic::{
    CONNECTION_STRING_PASSWORD, CREDENTIAL_CONSTRUCTOR, GENERIC_PASSWORD, URL_CREDENTIALS,
};
use crate::formats::json::JSON_NAME_VALUE;
use crate::formats::pad::{PAD_CREDENTIAL_LITERAL, PAD_FIELD_LITERAL};
use crate::formats::xlsx::EXCEL_CONFIG_SECRET;
use crate::formats::xml::{
    BLUEPRISM_PASSWORD, BLUEPRISM_TEXT, XML_ATTRIBUTE, XML_ELEMENT, XML_KEY_VALUE,
};

/// Every code detector's rule id with its description.
pub const CODE_RULES: &[(&str, &str)] = &[
    (GENERIC_PASSWORD, "Value assigned to a credential-like name"),
    (
        CONNECTION_STRING_PASSWORD,
        "Password in an ADO.NET, ODBC or JDBC connection string",
    ),
    (URL_CREDENTIALS, "Password in the user information of a URL"),
    (
        CREDENTIAL_CONSTRUCTOR,
        "Literal password passed to NetworkCredential or ConvertTo-SecureString",
    ),
    (
        XML_ATTRIBUTE,
        "XML attribute or XAML activity property named like a credential",
    ),
    (
        XML_KEY_VALUE,
        "XML key/value pair whose key names a credential",
    ),
    (
        XML_ELEMENT,
        "Text of an XML element named like a credential",
    ),
    (
        BLUEPRISM_PASSWORD,
        "Blue Prism password data item with a stored initial value",
    ),
    (
        BLUEPRISM_TEXT,
        "Blue Prism text data item named like a credential with an initial value",
    ),
    (
        EXCEL_CONFIG_SECRET,
        "Spreadsheet value next to a credential-like name",
    ),
    (
        PAD_FIELD_LITERAL,
        "Power Automate Desktop literal typed into a password field",
    ),
    (
        PAD_CREDENTIAL_LITERAL,
        "Power Automate Desktop literal in a credential-like variable or parameter",
    ),
    (
        JSON_NAME_VALUE,
        "JSON name/value object (Automation Anywhere variable or attribute) holding a credential",
    ),
];

/// Returns the description of a code detector's rule id.
pub fn describe(rule_id: &str) -> &'static str {
    CODE_RULES
        .iter()
        .find(|(id, _)| *id == rule_id)
        .map_or("Hardcoded secret", |(_, d)| d)
}
