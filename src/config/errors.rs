//! What a configuration that does not load gets told: the key as the file spells it, the value,
//! what would be valid, and whether the file or the environment (`HGW__SECTION__KEY`) is to
//! blame. The `config` crate's own messages name keys as `members[3]role` (counted from 0, no
//! dot) and blame the file for an unknown variable of the environment.
//!
//! Invariant: an array entry is named as a person counts it in the file, from 1:
//! `members[4].role` is the fourth `[[members]]` table.

/// One `HGW__` variable of the environment: its name and the key it sets (`gateway.listen`).
#[derive(Clone, Debug)]
pub struct Override {
    pub variable: String,
    pub key: String,
}

/// The `HGW__SECTION__KEY` variables of this process's environment.
pub fn overrides() -> Vec<Override> {
    let mut found: Vec<Override> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter_map(|variable| {
            let rest = variable.strip_prefix("HGW__")?;
            let key = rest.split("__").collect::<Vec<_>>().join(".");
            Some(Override {
                key: key.to_ascii_lowercase(),
                variable,
            })
        })
        .collect();
    found.sort_by(|a, b| a.variable.cmp(&b.variable));
    found
}

/// The values an enum of the configuration takes, by the Rust name the `config` crate's message
/// gives it.
const ENUMS: &[(&str, &str, &str)] = &[
    ("Role", "role", "hotline, lea, hosting_provider"),
    ("Backend", "store backend", "sled, postgres"),
    (
        "Category",
        "category",
        "csam, terrorist_content, hate_speech, other",
    ),
];

/// Says what is wrong with a configuration the `config` crate refused, from its message
/// (`error`), for a file described as `origin`.
pub fn explain(error: &str, origin: &str, overrides: &[Override]) -> String {
    let (message, key) = match error.rsplit_once(" for key `") {
        Some((message, key)) => (message, key.strip_suffix('`').map(human_key)),
        None => (error, None),
    };
    if let Some((field, known)) = unknown_field(message) {
        let full = match &key {
            Some(section) => format!("{section}.{field}"),
            None => field.to_owned(),
        };
        if let Some(o) = overrides
            .iter()
            .find(|o| o.key == full || o.key.starts_with(&format!("{full}.")))
        {
            let within = key
                .as_deref()
                .map_or("the configuration".to_owned(), |s| format!("[{s}]"));
            return format!(
                "the environment variable {} names no setting: {within} has no key `{field}` \
                 (its keys: {known}); unset it or correct its name (HGW__SECTION__KEY)",
                o.variable
            );
        }
        let within = key
            .as_deref()
            .map_or("at the top level".to_owned(), |s| format!("in [{s}]"));
        return format!("{origin}: unknown key `{field}` {within}; valid keys there: {known}");
    }
    let message = explain_enum(message);
    let blame = key.as_deref().and_then(|key| {
        overrides
            .iter()
            .find(|o| o.key == key.to_ascii_lowercase())
            .map(|o| format!(" (set by the environment variable {})", o.variable))
    });
    match (key, blame) {
        (Some(key), Some(blame)) => format!("{key}{blame}: {message}"),
        (Some(key), None) => format!("{origin}: {key}{}: {message}", nth_entry(&key)),
        (None, _) if !overrides.is_empty() => {
            let variables: Vec<&str> = overrides.iter().map(|o| o.variable.as_str()).collect();
            format!(
                "{origin}, with {} from the environment: {message} (check those variables too)",
                variables.join(", ")
            )
        }
        (None, _) => format!("{origin}: {message}"),
    }
}

/// `members[3]role` (the `config` crate's spelling, from 0) as the file counts it:
/// `members[4].role`.
fn human_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut rest = key;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        match rest[open + 1..close].parse::<usize>() {
            Ok(n) => out.push_str(&format!("[{}]", n + 1)),
            Err(_) => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
        if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            out.push('.');
        }
    }
    out.push_str(rest);
    out
}

/// " (the 4th [[members]] table)" for a key inside an array of tables.
fn nth_entry(key: &str) -> String {
    let Some((array, rest)) = key.split_once('[') else {
        return String::new();
    };
    let Some(n) = rest.split(']').next().and_then(|n| n.parse::<usize>().ok()) else {
        return String::new();
    };
    let suffix = match (n % 10, n % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    format!(" (the {n}{suffix} [[{array}]] table, counting from 1)")
}

/// serde's "unknown field `x`, expected one of `a`, `b`": the field and the valid names.
fn unknown_field(message: &str) -> Option<(&str, String)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let known = rest
        .split_once("expected ")
        .map(|(_, known)| known.replace("one of ", "").replace('`', ""))
        .unwrap_or_default();
    Some((field, known))
}

/// "enum Role does not have variant constructor police" as "`police` is not a role; valid
/// roles: hotline, lea, hosting_provider".
fn explain_enum(message: &str) -> String {
    let Some(rest) = message.strip_prefix("enum ") else {
        return message.to_owned();
    };
    let Some((name, value)) = rest.split_once(" does not have variant constructor ") else {
        return message.to_owned();
    };
    match ENUMS.iter().find(|(rust, ..)| *rust == name) {
        Some((_, what, valid)) => {
            format!("{value:?} is not a valid {what}; valid: {valid}")
        }
        None => format!("{value:?} is not a valid value for this key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_entries_are_counted_from_one_with_a_dot() {
        assert_eq!(human_key("members[3]role"), "members[4].role");
        assert_eq!(human_key("members[0].asns[1]"), "members[1].asns[2]");
        assert_eq!(human_key("tls.cert"), "tls.cert");
        assert_eq!(
            nth_entry("members[1].role"),
            " (the 1st [[members]] table, counting from 1)"
        );
        assert_eq!(
            nth_entry("members[12].id"),
            " (the 12th [[members]] table, counting from 1)"
        );
    }
}
