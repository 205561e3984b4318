//! Printing results as a table or as JSON.

use serde_json::Value;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
}

/// Prints `value` as pretty JSON, or as a table of `columns` (field names)
/// when it is an array of objects or a single object.
pub fn print(format: OutputFormat, value: &Value, columns: &[&str]) {
    match format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        ),
        OutputFormat::Table => match value {
            Value::Array(rows) => print_table(rows, columns),
            Value::Object(_) => print_record(value),
            other => println!("{other}"),
        },
    }
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

fn print_table(rows: &[Value], columns: &[&str]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| cell(row.get(*c))).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<String>| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|c| c.to_uppercase()).collect());
    for row in cells {
        line(row);
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

fn print_record(value: &Value) {
    let Some(map) = value.as_object() else { return };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    for (key, val) in map {
        println!("{key:<width$}  {}", cell(Some(val)));
    }
}
