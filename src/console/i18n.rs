//! The console's two languages, English and French: one catalogue of strings each
//! (`i18n/en.json`, `i18n/fr.json`, compiled into the binary), chosen from the browser's
//! `Accept-Language`. Templates hold no text of their own: every string a person reads comes
//! from here (the tests check that both catalogues have the same keys, that every key a
//! template uses exists, and that templates hold no bare text).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::HttpRequest;

const EN: &str = include_str!("i18n/en.json");
const FR: &str = include_str!("i18n/fr.json");

/// A catalogue: key -> text.
pub type Catalogue = BTreeMap<String, String>;

fn parse(name: &str, text: &str) -> Catalogue {
    // Both files are part of the binary and checked by the tests; a broken one is a build bug.
    serde_json::from_str(text).unwrap_or_else(|e| panic!("the {name} catalogue is not JSON: {e}"))
}

static CATALOGUES: LazyLock<[Catalogue; 2]> = LazyLock::new(|| [parse("en", EN), parse("fr", FR)]);

/// A language the console speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// The language tag (`<html lang>`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The first language of `Accept-Language` (by weight) that the console speaks; English
    /// when none is.
    pub fn negotiate(req: &HttpRequest) -> Lang {
        let Some(value) = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::En;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "fr" => Lang::Fr,
                "en" => Lang::En,
                _ => continue,
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// This language's catalogue.
    pub fn catalogue(self) -> &'static Catalogue {
        &CATALOGUES[match self {
            Lang::En => 0,
            Lang::Fr => 1,
        }]
    }
}

/// What templates call to get their text: `t.get("key")`, or `t.of("status", name)` for a
/// value's name.
#[derive(Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; the key itself if the catalogue lacks it (the tests see to it that
    /// none does).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        match self.0.catalogue().get(key) {
            Some(text) => text.as_str(),
            None => key,
        }
    }

    /// The text of `group.name` (a status, a kind, a category...), or `name` itself.
    pub fn of(&self, group: &str, name: &str) -> String {
        match self.0.catalogue().get(&format!("{group}.{name}")) {
            Some(text) => text.clone(),
            None => name.to_owned(),
        }
    }

    pub fn lang(&self) -> &'static str {
        self.0.tag()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn both_catalogues_have_the_same_keys_and_no_empty_text() {
        let [en, fr] = &*CATALOGUES;
        let en_keys: Vec<_> = en.keys().collect();
        let fr_keys: Vec<_> = fr.keys().collect();
        assert_eq!(en_keys, fr_keys);
        for (key, text) in en.iter().chain(fr.iter()) {
            assert!(!text.trim().is_empty(), "{key} is empty");
        }
    }

    #[test]
    fn accept_language_picks_by_weight() {
        for (header, lang) in [
            ("fr-FR,fr;q=0.9,en;q=0.8", Lang::Fr),
            ("en-GB,fr;q=0.5", Lang::En),
            ("de,fr;q=0.4", Lang::Fr),
            ("de", Lang::En),
            ("fr;q=0, en;q=0.1", Lang::En),
        ] {
            let req = TestRequest::default()
                .insert_header((header::ACCEPT_LANGUAGE, header))
                .to_http_request();
            assert_eq!(Lang::negotiate(&req), lang, "{header}");
        }
        assert_eq!(
            Lang::negotiate(&TestRequest::default().to_http_request()),
            Lang::En
        );
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;

    fn templates() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/console");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            found.push((path.display().to_string(), text));
        }
        assert!(found.len() >= 8, "templates in {}", dir.display());
        found
    }

    /// Removes everything between `open` and `close` (template code, tags).
    fn strip(text: &str, open: &str, close: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find(open) {
            out.push_str(&rest[..start]);
            match rest[start..].find(close) {
                Some(end) => rest = &rest[start + end + close.len()..],
                None => return out,
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn templates_hold_no_text_of_their_own() {
        for (name, text) in templates() {
            // Attributes a person reads are template expressions, never literal text.
            for attribute in ["aria-label=\"", "alt=\"", "title=\"", "placeholder=\""] {
                for (at, _) in text.match_indices(attribute) {
                    let value = &text[at + attribute.len()..];
                    assert!(value.starts_with("{{"), "{name}: literal {attribute}…");
                }
            }
            let code = strip(&strip(&strip(&text, "{{", "}}"), "{%", "%}"), "{#", "#}");
            let bare = strip(&code, "<", ">");
            let letters: String = bare.chars().filter(|c| c.is_alphabetic()).collect();
            assert!(
                letters.is_empty(),
                "{name} holds text of its own: {letters:?} in {bare:?}"
            );
        }
    }

    #[test]
    fn every_key_a_template_or_the_code_asks_for_is_in_the_catalogues() {
        let mut keys: Vec<String> = Vec::new();
        let sources = templates().into_iter().map(|(_, t)| t).chain(
            std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console"))
                .unwrap()
                .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok()),
        );
        for text in sources {
            for (at, _) in text.match_indices("t.get(\"") {
                let rest = &text[at + 7..];
                keys.push(rest[..rest.find('"').unwrap()].to_owned());
            }
        }
        // Keys made from values: every status, page title and chart.
        keys.extend(
            crate::domain::Status::ALL
                .iter()
                .map(|s| format!("status.{}", s.as_str())),
        );
        for page in [
            "inbox", "reports", "notices", "item", "stats", "results", "error",
        ] {
            keys.push(format!("{page}.title"));
        }
        keys.extend(
            super::super::stats::CHARTS
                .iter()
                .map(|c| format!("chart.{c}")),
        );
        for lang in [Lang::En, Lang::Fr] {
            for key in keys.iter().filter(|k| *k != "key") {
                assert!(
                    lang.catalogue().contains_key(key),
                    "{key} missing from {}",
                    lang.tag()
                );
            }
        }
    }
}
