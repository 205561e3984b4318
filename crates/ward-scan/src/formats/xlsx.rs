//! Excel workbooks (`.xlsx`, `.xlsm`), such as UiPath REFramework `Config.xlsx`:
//! every string cell is searched, and a cell whose left neighbour is a
//! credential-like name (`Password | s3cret`) is reported as that name's value.

use std::io::Cursor;

use calamine::{Data, Reader};
use ward_core::finding::RpaContext;

use crate::detect::names::is_secret_name;
use crate::detect::value::{generic_confidence, is_plausible_secret};
use crate::detect::{Candidate, Location, Priority, TextDetector};

/// A cell whose left neighbour names a credential.
pub const EXCEL_CONFIG_SECRET: &str = "excel-config-secret";

/// Column headers whose cells hold names of Orchestrator assets or prose, not values.
const REFERENCE_HEADERS: &[&str] = &[
    "asset",
    "assetname",
    "description",
    "comment",
    "comments",
    "note",
    "notes",
];

/// Appends candidates from every sheet of a workbook. Returns an error message when
/// the workbook cannot be opened; a sheet that fails to read is skipped.
pub fn scan(
    bytes: &[u8],
    path: &str,
    detector: &TextDetector,
    out: &mut Vec<Candidate>,
) -> Result<(), String> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|err| format!("invalid workbook: {err}"))?;
    for sheet in workbook.sheet_names() {
        let Ok(range) = workbook.worksheet_range(&sheet) else {
            continue;
        };
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let rows: Vec<&[Data]> = range.rows().collect();
        let header: Vec<String> = rows
            .first()
            .map(|r| {
                r.iter()
                    .map(|c| {
                        cell_text(c)
                            .unwrap_or_default()
                            .to_ascii_lowercase()
                            .replace(' ', "")
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let Some(value) = cell_text(cell) else {
                    continue;
                };
                if header
                    .get(c)
                    .is_some_and(|h| REFERENCE_HEADERS.contains(&h.as_str()))
                    && r > 0
                {
                    continue;
                }
                let name = c
                    .checked_sub(1)
                    .and_then(|left| row.get(left))
                    .and_then(cell_text);
                let row_index = first_row + r as u32;
                let col_index = first_col + c as u32;
                let context = RpaContext {
                    platform: Some("excel-config".to_string()),
                    sheet: Some(sheet.clone()),
                    cell: Some(cell_ref(row_index, col_index)),
                    argument: name.clone(),
                    ..RpaContext::default()
                };
                for mut found in detector.scan(&value, path) {
                    found.location = Location::Cell {
                        row: row_index,
                        col: col_index,
                    };
                    found.context.sheet = context.sheet.clone();
                    found.context.cell = context.cell.clone();
                    found.context.platform = context.platform.clone();
                    if name.is_some() {
                        found.context.argument = name.clone();
                    }
                    out.push(found);
                }
                if name.as_deref().is_some_and(is_secret_name) && is_plausible_secret(&value, 4) {
                    out.push(Candidate {
                        rule_id: EXCEL_CONFIG_SECRET.to_string(),
                        location: Location::Cell {
                            row: row_index,
                            col: col_index,
                        },
                        confidence: generic_confidence(&value).raised(),
                        secret: value,
                        priority: Priority::Structured,
                        context,
                        rule_index: None,
                        matched: None,
                    });
                }
            }
        }
    }
    Ok(())
}

fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// Returns an A1-style reference for 0-based `row` and `col`.
pub fn cell_ref(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(row + 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_refs() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(3, 1), "B4");
        assert_eq!(cell_ref(0, 26), "AA1");
    }
}
