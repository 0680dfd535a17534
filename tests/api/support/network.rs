//! The test network, one list for every gateway the suites start, in this process (`app`) or as
//! a child (`process`): hotlines in FR, NL and DE (DE takes csam and terrorist content only),
//! police in FR, NL and BE (BE has no hotline), a hosting provider in NL, a suspended hotline
//! in IT, and `fallback` (`routing.fallback`). `stranger` has a certificate from the right CA
//! but is no member.

use hotline_gateway::domain::Member;

/// Each member: id, role, country, and more TOML lines of its `[[members]]` entry.
const NETWORK: [(&str, &str, &str, &str); 9] = [
    ("hotline-fr", "hotline", "FR", ""),
    ("hotline-nl", "hotline", "NL", ""),
    (
        "hotline-de",
        "hotline",
        "DE",
        "categories = [\"csam\", \"terrorist_content\"]",
    ),
    ("police-fr", "lea", "FR", ""),
    ("police-nl", "lea", "NL", ""),
    ("police-be", "lea", "BE", ""),
    ("hoster-nl", "hosting_provider", "NL", "asns = [64500]"),
    ("hotline-it", "hotline", "IT", "suspended = true"),
    ("fallback", "hotline", "EU", ""),
];

/// One `[[members]]` entry; `extra` is more TOML lines (`suspended = true`, `endpoint = "..."`).
pub fn member(id: &str, role: &str, country: &str, extra: &str) -> String {
    format!("\n[[members]]\nid = \"{id}\"\nrole = \"{role}\"\ncountry = \"{country}\"\n{extra}\n")
}

/// The network as `[[members]]` entries.
pub fn standard_members() -> String {
    standard_members_with("", "")
}

/// The network as `[[members]]` entries, with `extra` TOML lines in the entry of member `id`.
pub fn standard_members_with(id: &str, extra: &str) -> String {
    NETWORK
        .iter()
        .map(|&(m, role, country, own)| {
            let extra = if m == id { extra } else { "" };
            member(m, role, country, &format!("{own}\n{extra}"))
        })
        .collect()
}

/// The network as the gateway reads it, for settings built in code.
pub fn test_members() -> Vec<Member> {
    config::Config::builder()
        .add_source(config::File::from_str(
            &standard_members(),
            config::FileFormat::Toml,
        ))
        .build()
        .and_then(|c| c.get("members"))
        .expect("test members")
}
