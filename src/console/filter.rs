//! The list pages' filters (entry kind, status, category, hosting country) and the rows they
//! show. A filter comes from the query string; a value that names nothing is ignored, as if
//! left empty. Pages read the store in bounded batches and filter as they go (`pages`).

use std::collections::HashMap;

use serde::Serialize;

use super::i18n::Tr;
use crate::domain::{Category, Country, EntryKind, ItemRecord, Status};
use crate::store::InboxEntry;

pub const CATEGORIES: [Category; 4] = [
    Category::Csam,
    Category::TerroristContent,
    Category::HateSpeech,
    Category::Other,
];
pub const KINDS: [EntryKind; 4] = [
    EntryKind::Referral,
    EntryKind::Notice,
    EntryKind::Status,
    EntryKind::Escalation,
];

/// The name of an enum value on the wire (`assessed_illegal`, `csam`...).
pub fn wire_name(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

fn parse_enum<T: serde::de::DeserializeOwned>(raw: Option<&String>) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(raw?.clone())).ok()
}

/// What a list shows: only entries and items that match every field set.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub kind: Option<EntryKind>,
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub country: Option<Country>,
}

impl Filter {
    pub fn from_query(query: &HashMap<String, String>) -> Filter {
        Filter {
            kind: parse_enum(query.get("kind")),
            status: parse_enum(query.get("status")),
            category: parse_enum(query.get("category")),
            country: query
                .get("country")
                .and_then(|c| Country::parse(&c.to_ascii_uppercase()).ok()),
        }
    }

    /// The filter of a list of reported items, from the query string: as `from_query`, without
    /// the entry kind (an item of a report was told of by no entry).
    pub fn of_reports(query: &HashMap<String, String>) -> Filter {
        Filter {
            kind: None,
            ..Filter::from_query(query)
        }
    }

    /// Whether an item (told of by an entry of `kind`, if from an inbox) matches.
    pub fn matches(&self, kind: Option<EntryKind>, item: &ItemRecord) -> bool {
        self.kind.is_none_or(|k| kind == Some(k))
            && self.status.is_none_or(|s| item.status == s)
            && self.category.is_none_or(|c| item.item.category == c)
            && self
                .country
                .as_ref()
                .is_none_or(|c| item.hosting_country.as_ref() == Some(c))
    }

    /// The filter as query parameters (`kind=…&status=…`), for paging and CSV links.
    pub fn query(&self) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(kind) = self.kind {
            pairs.append_pair("kind", &wire_name(kind));
        }
        if let Some(status) = self.status {
            pairs.append_pair("status", status.as_str());
        }
        if let Some(category) = self.category {
            pairs.append_pair("category", &wire_name(category));
        }
        if let Some(country) = &self.country {
            pairs.append_pair("country", country.as_str());
        }
        pairs.finish()
    }
}

/// One choice of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The filter form's choices, in the member's language.
pub struct FilterForm {
    pub kinds: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub country: String,
}

impl FilterForm {
    pub fn new(t: Tr, filter: &Filter) -> FilterForm {
        let choice = |group: &str, value: String, selected: bool| Choice {
            label: t.of(group, &value),
            value,
            selected,
        };
        FilterForm {
            kinds: KINDS
                .iter()
                .map(|&k| choice("kind", wire_name(k), filter.kind == Some(k)))
                .collect(),
            statuses: Status::ALL
                .iter()
                .map(|&s| choice("status", s.as_str().to_owned(), filter.status == Some(s)))
                .collect(),
            categories: CATEGORIES
                .iter()
                .map(|&c| choice("category", wire_name(c), filter.category == Some(c)))
                .collect(),
            country: filter
                .country
                .as_ref()
                .map_or_else(String::new, |c| c.as_str().to_owned()),
        }
    }
}

/// One line of a list: an item, and the inbox entry that told of it (if from an inbox).
pub struct Row {
    pub cursor: String,
    pub kind: String,
    pub at: String,
    pub item_id: String,
    pub report_id: String,
    /// Shown as text only.
    pub url: String,
    pub category: String,
    pub country: String,
    pub status: String,
}

impl Row {
    /// The line of an inbox entry and the item it tells of.
    pub fn of_entry(t: Tr, entry: &InboxEntry, member: &str) -> Row {
        Row::new(
            t,
            &entry.item,
            Some((entry.cursor, entry.entry.kind, entry.entry.at)),
            member,
        )
    }

    pub fn new(
        t: Tr,
        item: &ItemRecord,
        entry: Option<(u64, EntryKind, time::OffsetDateTime)>,
        member: &str,
    ) -> Row {
        let (cursor, kind, at) = match entry {
            Some((cursor, kind, at)) => (cursor.to_string(), t.of("kind", &wire_name(kind)), at),
            None => (String::new(), String::new(), item.received_at),
        };
        Row {
            cursor,
            kind,
            at: crate::clock::format(at),
            item_id: item.item_id.clone(),
            // The report id is the submitter's: nobody else is shown it.
            report_id: if item.submitter == member {
                item.report_id.clone()
            } else {
                String::new()
            },
            url: item.item.url.as_str().to_owned(),
            category: t.of("category", &wire_name(item.item.category)),
            country: item
                .hosting_country
                .as_ref()
                .map_or_else(String::new, |c| c.as_str().to_owned()),
            status: t.of("status", item.status.as_str()),
        }
    }
}
