//! The `abuse_contacts` file: hosting providers outside the network, by ASN, with the address
//! their notices go to.
//!
//! One provider a line, `asn,email,name`, no header line, read as CSV: a name in double quotes
//! may hold commas (`64500,abuse@host.example,"Host, Inc."`). Blank lines and lines that start
//! with `#` are skipped; spaces around a field are trimmed. The ASN is a 32-bit number, written
//! `64500` or `AS64500`. Anything else refuses the whole file, naming the line: a file half
//! read would send some notices and silently drop others.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use anyhow::Context as _;

/// A provider outside the network and where its abuse notices go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbuseContact {
    pub asn: u32,
    pub email: lettre::Address,
    /// Never empty, no control characters (it goes into the `To` header).
    pub name: String,
}

/// Every contact of an `abuse_contacts` file, at most one per ASN.
#[derive(Clone, Debug, Default)]
pub struct AbuseContacts {
    by_asn: HashMap<u32, AbuseContact>,
}

/// Why a contacts file was refused: the line (from 1) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ContactsError {
    pub line: usize,
    pub message: String,
}

impl AbuseContacts {
    /// Reads the text of an `abuse_contacts` file (no header line).
    pub fn parse(text: &str) -> Result<AbuseContacts, ContactsError> {
        let mut by_asn: HashMap<u32, (usize, AbuseContact)> = HashMap::new();
        // Line by line rather than one CSV stream: the csv crate does not count skipped
        // comment and blank lines, and a name never spans lines.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let contact = contact(raw).map_err(|message| ContactsError { line, message })?;
            if let Some((first, _)) = by_asn.get(&contact.asn) {
                return Err(ContactsError {
                    line,
                    message: format!(
                        "AS{} is already on line {first}: one contact per ASN",
                        contact.asn
                    ),
                });
            }
            by_asn.insert(contact.asn, (line, contact));
        }
        Ok(AbuseContacts {
            by_asn: by_asn
                .into_iter()
                .map(|(asn, (_, contact))| (asn, contact))
                .collect(),
        })
    }

    /// Reads an `abuse_contacts` file; the error names the file and the line.
    pub fn load(path: &Path) -> anyhow::Result<AbuseContacts> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the abuse contacts file {}", path.display()))?;
        AbuseContacts::parse(&text)
            .map_err(|e| anyhow::anyhow!("abuse contacts file {}: {e}", path.display()))
    }

    pub fn get(&self, asn: u32) -> Option<&AbuseContact> {
        self.by_asn.get(&asn)
    }

    pub fn len(&self) -> usize {
        self.by_asn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_asn.is_empty()
    }
}

/// One line's contact, or what is wrong with it.
fn contact(line: &str) -> Result<AbuseContact, String> {
    if line.matches('"').count() % 2 == 1 {
        return Err("a quote is not closed (a name cannot span lines)".to_owned());
    }
    let record = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(line.as_bytes())
        .records()
        .next()
        .unwrap_or_else(|| Ok(csv::StringRecord::new()))
        .map_err(|e| format!("not readable as CSV: {e}"))?;
    let [asn, email, name] = [0, 1, 2].map(|i| record.get(i).unwrap_or_default());
    if record.len() != 3 {
        // CSV takes a quote as one only right after the comma: `, "A, B"` is two fields.
        let hint = if record.iter().any(|field| field.starts_with('"')) {
            "a quoted name must start right after the comma, with no space before the quote"
        } else {
            "quote a name that holds a comma"
        };
        return Err(format!(
            "{} fields, expected 3: asn,email,name ({hint})",
            record.len()
        ));
    }
    let asn = parse_asn(asn)?;
    let email = email
        .parse::<lettre::Address>()
        .map_err(|e| format!("`{email}` is not an e-mail address: {e}"))?;
    if name.is_empty() {
        return Err("the name is empty".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("the name holds a control character (a line break?)".to_owned());
    }
    Ok(AbuseContact {
        asn,
        email,
        name: name.to_owned(),
    })
}

/// `64500` or `AS64500` (either case): a 32-bit AS number.
fn parse_asn(raw: &str) -> Result<u32, String> {
    let digits = raw
        .strip_prefix("AS")
        .or_else(|| raw.strip_prefix("as"))
        .unwrap_or(raw);
    let refused = || format!("`{raw}` is not an AS number (64500 or AS64500, at most 4294967295)");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    digits.parse::<u32>().map_err(|_| refused())
}

impl fmt::Display for AbuseContact {
    /// `Name <address> (AS64500)`: for operators' messages, never a log of reported content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <{}> (AS{})", self.name, self.email, self.asn)
    }
}

#[cfg(test)]
mod tests {
    use super::{AbuseContacts, ContactsError};

    #[test]
    fn reads_lines_comments_quotes_and_both_asn_forms() {
        let text = "# asn,email,name\n\
                    64500,abuse@host.example,Host Example\n\
                    \n\
                    \x20 AS64501 , noc@other.example ,\"Other, Inc.\"  \n\
                    as4200000000,abuse@big.example,Big\n";
        let contacts = AbuseContacts::parse(text).unwrap();
        assert_eq!(contacts.len(), 3);
        assert!(!contacts.is_empty());
        let host = contacts.get(64500).unwrap();
        assert_eq!(host.email.to_string(), "abuse@host.example");
        assert_eq!(host.name, "Host Example");
        let other = contacts.get(64501).unwrap();
        assert_eq!(other.email.to_string(), "noc@other.example");
        assert_eq!(other.name, "Other, Inc.");
        assert_eq!(contacts.get(4_200_000_000).unwrap().name, "Big");
        assert!(contacts.get(64502).is_none());
        assert!(AbuseContacts::parse("").unwrap().is_empty());
        assert!(AbuseContacts::default().is_empty());
    }

    #[test]
    fn refuses_with_the_line_number() {
        let good = "64500,abuse@host.example,Host\n";
        let cases: [(&str, usize, &str); 13] = [
            ("64501,abuse@x.example\n", 2, "2 fields, expected 3"),
            ("64501,abuse@x.example,X,extra\n", 2, "4 fields, expected 3"),
            ("64501,abuse@x.example,Host, Inc.\n", 2, "4 fields"),
            (
                "64501,abuse@x.example, \"Host, Inc.\"\n",
                2,
                "no space before the quote",
            ),
            ("AS,abuse@x.example,X\n", 2, "`AS` is not an AS number"),
            ("4294967296,abuse@x.example,X\n", 2, "not an AS number"),
            ("+64501,abuse@x.example,X\n", 2, "not an AS number"),
            ("ASN64501,abuse@x.example,X\n", 2, "not an AS number"),
            (
                "64501,not-an-address,X\n",
                2,
                "`not-an-address` is not an e-mail address",
            ),
            ("64501,abuse@x.example,\n", 2, "the name is empty"),
            (
                "64501,abuse@x.example,\"A\nB\"\n",
                2,
                "a quote is not closed",
            ),
            ("64501,abuse@x.example,\"A\tB\"\n", 2, "control character"),
            (
                "# c\n\nAS64500,dup@host.example,Again\n",
                4,
                "AS64500 is already on line 1",
            ),
        ];
        for (bad, line, message) in cases {
            let text = format!("{good}{bad}");
            let error: ContactsError = AbuseContacts::parse(&text).unwrap_err();
            assert_eq!(error.line, line, "{bad:?}: {error}");
            assert!(error.message.contains(message), "{bad:?}: {error}");
            assert!(
                error.to_string().starts_with(&format!("line {line}: ")),
                "{error}"
            );
        }
    }

    #[test]
    fn load_names_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abuse_contacts.csv");
        std::fs::write(&path, "64500,abuse@host.example,Host\n64501,nobody,X\n").unwrap();
        let error = format!("{:#}", AbuseContacts::load(&path).unwrap_err());
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(
            error.contains("line 2: `nobody` is not an e-mail address"),
            "{error}"
        );

        let missing = dir.path().join("missing.csv");
        let error = format!("{:#}", AbuseContacts::load(&missing).unwrap_err());
        assert!(error.contains(&missing.display().to_string()), "{error}");
    }
}
