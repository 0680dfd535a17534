//! The tracing subscriber. Logs go to stderr; `RUST_LOG` filters (default `info`).
//! Never log a body, a reported URL, a key or a certificate: spans carry ids only. A value a
//! peer chose is logged through [`Escaped`], so that it cannot forge a line of the text log.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are ignored (tests call it repeatedly).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never into a log file.
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// A value a peer chose (a certificate's Common Name, a member id, a report or item id, a
/// method, an endpoint's error), as a log field: every character that Rust's `escape_debug`
/// would not print as itself (control characters, bidirectional and other formatting marks,
/// line and paragraph separators) and the backslash are written escaped as it writes them
/// (`\n`, `\u{1b}`, `\0`, `\u{202e}`, `\\`), so that a value can neither end the line and forge
/// another, colour a terminal, nor reorder what a reader sees. Quotes are kept as they are.
pub struct Escaped<'a>(pub &'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        for c in self.0.chars() {
            let mut escaped = c.escape_debug();
            let as_itself = escaped.len() == 1 || c == '"' || c == '\'';
            if as_itself && c != '\\' {
                f.write_char(c)?;
            } else {
                escaped.try_for_each(|e| f.write_char(e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Escaped;

    #[test]
    fn escaped_values_stay_on_their_line_and_show_what_they_hold() {
        let cases = [
            ("hotline-fr", "hotline-fr"),
            ("a\nb\r\tc", r"a\nb\r\tc"),
            ("x\u{1b}[31m\0\u{7f}\u{85}", r"x\u{1b}[31m\0\u{7f}\u{85}"),
            (
                "\u{202e}gpj.exe\u{2066}\u{200f}",
                r"\u{202e}gpj.exe\u{2066}\u{200f}",
            ),
            ("line\u{2028}sep", r"line\u{2028}sep"),
            (r"back\slash", r"back\\slash"),
            ("\"quoted\" 'x' é 東京", "\"quoted\" 'x' é 東京"),
        ];
        for (raw, shown) in cases {
            assert_eq!(Escaped(raw).to_string(), shown, "{raw:?}");
        }
    }
}
