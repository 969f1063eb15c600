//! Reading a CSV file of people to add: the file's rules, checked before anything is written.
//!
//! The file is UTF-8 (a byte order mark is allowed), comma- or semicolon-separated (the
//! header line decides), with a header naming the columns in any order: `username`,
//! `first_name`, `last_name` and `email` are required, `phone` and `groups` optional. The
//! `groups` cell holds group names separated by `|` (or by commas, when the cell is quoted).
//! A cell starting with `=`, `+`, `-` or `@` is refused, because spreadsheets run such cells
//! as formulas; the one exception is a phone number such as `+48 600 100 200`, which holds
//! nothing but digits and separators.

use super::user::{Profile, Username};
use std::collections::HashMap;

/// Largest file accepted, bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows accepted.
pub const MAX_ROWS: usize = 10_000;

const REQUIRED: [&str; 4] = ["username", "first_name", "last_name", "email"];
const OPTIONAL: [&str; 2] = ["phone", "groups"];

/// A person the file asks to add, with every field valid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    /// Login name.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email address.
    pub email: String,
    /// Phone number, if given.
    pub phone: Option<String>,
    /// Names of the groups to join.
    pub groups: Vec<String>,
}

/// One data row of the file: its line number and the person, or why it cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// 1-based line of the file where the row starts.
    pub line: u64,
    /// The username as written, for the table, even when the row is invalid.
    pub username: String,
    /// The email as written.
    pub email: String,
    /// The person, or the reasons the row is refused.
    pub result: Result<Candidate, String>,
}

/// Why a whole file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Over [`MAX_BYTES`].
    #[error("The file is larger than 5 MB. Split it into smaller files.")]
    TooLarge,
    /// Over [`MAX_ROWS`].
    #[error("The file has more than 10,000 rows. Split it into smaller files.")]
    TooManyRows,
    /// Not UTF-8.
    #[error(
        "The file is not UTF-8 text (at byte {0}). Save it as \"CSV UTF-8\" and upload it again."
    )]
    Encoding(usize),
    /// Nothing in it.
    #[error("The file is empty. It needs a header line and one line per person.")]
    Empty,
    /// A required column is missing.
    #[error("The header has no column \"{0}\". The first line must name the columns: username, first_name, last_name, email, and optionally phone and groups.")]
    MissingColumn(&'static str),
    /// A column onramp does not know.
    #[error("The header names a column \"{0}\" that onramp does not know. Use username, first_name, last_name, email, phone and groups.")]
    UnknownColumn(String),
    /// A column named twice.
    #[error("The header names the column \"{0}\" twice.")]
    DuplicateColumn(String),
    /// Broken quoting and the like.
    #[error("Line {line}: {message}")]
    Malformed {
        /// Where.
        line: u64,
        /// The reader's complaint.
        message: String,
    },
}

/// Reads `bytes` as a CSV file of people.
pub fn parse(bytes: &[u8]) -> Result<Vec<ParsedRow>, FileError> {
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| FileError::Encoding(e.valid_up_to()))?;
    // The reader counts lines wrongly after a CRLF header; with LF alone it counts right, and
    // no cell may hold a line break anyway.
    let text = text.replace("\r\n", "\n");
    let header_line = text.lines().next().unwrap_or_default();
    if header_line.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let columns = columns(reader.headers().map_err(malformed)?)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let line = record.position().map_or(0, csv::Position::line);
        let cells = Cells {
            columns: &columns,
            record: &record,
        };
        rows.push(ParsedRow {
            line,
            username: cells.get("username").to_owned(),
            email: cells.get("email").to_owned(),
            result: candidate(&cells),
        });
    }
    Ok(rows)
}

/// One record's cells by column name.
struct Cells<'a> {
    columns: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl Cells<'_> {
    /// The trimmed cell of column `name`; empty when the column or cell is missing.
    fn get(&self, name: &str) -> &str {
        self.columns
            .get(name)
            .and_then(|i| self.record.get(*i))
            .unwrap_or_default()
            .trim()
    }
}

fn malformed(e: csv::Error) -> FileError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8.".to_owned(),
        _ => "the line cannot be read as CSV (check the quotes).".to_owned(),
    };
    FileError::Malformed { line, message }
}

/// Each known column's index.
fn columns(header: &csv::StringRecord) -> Result<HashMap<String, usize>, FileError> {
    let mut found = HashMap::new();
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        if name.is_empty() {
            continue;
        }
        if !REQUIRED.contains(&name.as_str()) && !OPTIONAL.contains(&name.as_str()) {
            return Err(FileError::UnknownColumn(raw.trim().to_owned()));
        }
        if found.insert(name.clone(), i).is_some() {
            return Err(FileError::DuplicateColumn(name));
        }
    }
    match REQUIRED.iter().find(|c| !found.contains_key(**c)) {
        Some(missing) => Err(FileError::MissingColumn(missing)),
        None => Ok(found),
    }
}

/// Whether a spreadsheet would run `cell` as a formula.
pub fn is_formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The person in one row, or every reason it is refused, in one sentence.
fn candidate(cells: &Cells<'_>) -> Result<Candidate, String> {
    let cell = |name: &str| cells.get(name).to_owned();
    let mut problems = Vec::new();
    for name in REQUIRED.iter().chain(OPTIONAL.iter()) {
        let value = cell(name);
        let phone_number = *name == "phone"
            && super::user::Phone::parse_optional("phone", &value).is_ok_and(|p| p.is_some());
        if is_formula_like(&value) && !phone_number {
            problems.push(format!(
                "{name} starts with \"{}\", which spreadsheets run as a formula",
                value.chars().next().unwrap_or_default()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(sentence(&problems));
    }
    let username = Username::parse("username", &cell("username"));
    let profile = Profile::parse(
        &cell("first_name"),
        &cell("last_name"),
        &cell("email"),
        &cell("phone"),
    );
    if let Err(e) = &username {
        problems.push(e.message.trim_end_matches('.').to_owned());
    }
    if let Err(es) = &profile {
        problems.extend(
            es.iter()
                .map(|e| e.message.trim_end_matches('.').to_owned()),
        );
    }
    let groups = group_names(&cell("groups"));
    match (username, profile) {
        (Ok(username), Ok(profile)) if problems.is_empty() => Ok(Candidate {
            username: username.as_str().to_owned(),
            first_name: profile.first_name.as_str().to_owned(),
            last_name: profile.last_name.as_str().to_owned(),
            email: profile.email.as_str().to_owned(),
            phone: profile.phone.map(|p| p.as_str().to_owned()),
            groups,
        }),
        _ => Err(sentence(&problems)),
    }
}

fn sentence(parts: &[String]) -> String {
    let mut s = parts.join("; ");
    s.push('.');
    s
}

/// The group names in a `groups` cell: separated by `|` or `,`, blanks dropped.
pub fn group_names(cell: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in cell
        .split(['|', ','])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(rows: &[ParsedRow]) -> Vec<&Candidate> {
        rows.iter().filter_map(|r| r.result.as_ref().ok()).collect()
    }

    #[test]
    fn reads_bom_semicolons_and_any_column_order() {
        let file = "\u{feff}email;last_name;username;first_name;groups\r\n\
                    anna@example.com;Nowak;anna.nowak;Anna;\"devs, ops\"\r\n";
        let rows = parse(file.as_bytes()).unwrap_or_default();
        assert_eq!(rows.len(), 1);
        let anna = ok(&rows)[0].clone();
        assert_eq!(anna.username, "anna.nowak");
        assert_eq!(anna.groups, vec!["devs".to_owned(), "ops".to_owned()]);
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn refuses_formulas_but_not_phone_numbers() {
        let file = "username,first_name,last_name,email,phone\n\
                    jan,=HYPERLINK(\"x\"),Kowal,jan@example.com,\n\
                    ewa,Ewa,Lis,ewa@example.com,+48 600 100 200\n\
                    olaf,Olaf,Berg,olaf@example.com,=1+1\n";
        let rows = parse(file.as_bytes()).unwrap_or_default();
        assert!(rows[0]
            .result
            .as_ref()
            .is_err_and(|e| e.contains("first_name starts with \"=\"")));
        assert!(rows[1].result.is_ok());
        assert!(rows[2].result.is_err());
    }

    #[test]
    fn refuses_bad_files() {
        assert_eq!(
            parse(b"username,email\n"),
            Err(FileError::MissingColumn("first_name"))
        );
        assert_eq!(parse(b"\xff\xfeu\0"), Err(FileError::Encoding(0)));
        assert_eq!(parse(b""), Err(FileError::Empty));
        assert!(matches!(
            parse(b"username,first_name,last_name,email,shoe\n"),
            Err(FileError::UnknownColumn(_))
        ));
        let mut big = String::from("username,first_name,last_name,email\n");
        for i in 0..=MAX_ROWS {
            big.push_str(&format!("u{i},A,B,u{i}@example.com\n"));
        }
        assert_eq!(parse(big.as_bytes()), Err(FileError::TooManyRows));
    }

    #[test]
    fn says_every_problem_of_a_row() {
        let rows = parse(b"username,first_name,last_name,email\nX,,B,nope\n").unwrap_or_default();
        let message = rows[0].result.clone().err().unwrap_or_default();
        assert!(message.contains("username"), "{message}");
        assert!(message.contains("first name"), "{message}");
        assert!(message.contains("not a valid email"), "{message}");
    }
}
