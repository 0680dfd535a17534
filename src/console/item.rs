//! One item: its facts as the member may see them, its history (for its submitter, as the
//! report view shows it), and one form per transition this member may make now
//! (`domain::open_transitions`, asked of the state machine and the rules, so a status the
//! state machine gains shows up by itself; a transition's extra fields come from
//! `Status::change_fields`).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::bulk::{change_one, provider_choices};
use super::filter::{wire_name, Choice};
use super::render::{error_page, html, see_other, Layout};
use super::security::posted_form;
use crate::domain::{may_view, open_transitions, ChangeField, ItemRecord, Role, Status};
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;

/// A form for one transition.
struct TransitionForm {
    status: String,
    label: String,
    provider: bool,
    /// The transition takes the new URL (`moved`).
    new_url: bool,
}

/// One line of the history.
struct Step {
    status: String,
    at: String,
    by: String,
    note: String,
}

#[derive(Template)]
#[template(path = "console/item.html")]
struct ItemPage {
    base: Layout,
    item_id: String,
    /// Label key and value, in order; the URL among them, as text.
    facts: Vec<(&'static str, String)>,
    url: String,
    note: String,
    history: Vec<Step>,
    forms: Vec<TransitionForm>,
    providers: Vec<Choice>,
    done: String,
    refused: String,
}

/// `GET /console/items/{item_id}`: 404 unless the member may see the item through the API.
pub async fn page(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Only a status the state machine knows is named as done: a link cannot put other text
    // on the page.
    let done = query
        .get("done")
        .and_then(|s| serde_json::from_value::<Status>(s.as_str().into()).ok());
    let message = Message {
        done,
        refused: None,
    };
    render(&caller, &req, &state, &path, message, StatusCode::OK).await
}

/// What the page says above the item: a change made, or a change refused and why.
struct Message {
    done: Option<Status>,
    refused: Option<String>,
}

async fn render(
    caller: &Caller,
    req: &HttpRequest,
    state: &AppState,
    item_id: &str,
    message: Message,
    code: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let item = match state.store.item(item_id).await? {
        Some(item) if may_view(&item, &caller.0) => item,
        _ => return error_page(req, &caller.0, StatusCode::NOT_FOUND, "error.not_found"),
    };
    let base = Layout::new(req, &caller.0, "item");
    let t = base.t;
    let submitter = item.submitter == caller.id();
    // What the API's inbox entries and report view show this member; a hosting provider is
    // never told who submitted the item nor their note.
    let provider_only =
        caller.0.role == Role::HostingProvider && !item.routed_to.contains(&caller.0.id);
    let forms = open_transitions(&item, &caller.0, state.clock.now())
        .into_iter()
        .map(|s| TransitionForm {
            status: s.as_str().to_owned(),
            label: t.of("status", s.as_str()),
            provider: s.change_fields().contains(&ChangeField::Provider),
            new_url: s.change_fields().contains(&ChangeField::NewUrl),
        })
        .collect();
    let history = if submitter {
        item.history
            .iter()
            .map(|h| Step {
                status: t.of("status", h.status.as_str()),
                at: crate::clock::format(h.at),
                by: h.by.clone(),
                note: h.note.clone().unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = ItemPage {
        item_id: item.item_id.clone(),
        facts: facts(&base, &item, submitter, provider_only),
        url: item.item.url.as_str().to_owned(),
        note: if provider_only {
            String::new()
        } else {
            item.item.note.clone().unwrap_or_default()
        },
        history,
        forms,
        providers: provider_choices(t, state),
        done: message
            .done
            .map(|s| t.of("status", s.as_str()))
            .unwrap_or_default(),
        refused: message.refused.unwrap_or_default(),
        base,
    };
    html(code, &page)
}

fn facts(
    base: &Layout,
    item: &ItemRecord,
    submitter: bool,
    provider_only: bool,
) -> Vec<(&'static str, String)> {
    let t = base.t;
    let hosting = item.item.hosting.clone().unwrap_or_default();
    let mut facts = vec![
        ("fact.status", t.of("status", item.status.as_str())),
        (
            "fact.category",
            t.of("category", &wire_name(item.item.category)),
        ),
        (
            "fact.content_kind",
            t.of("content_kind", &wire_name(item.item.content_kind)),
        ),
        (
            "fact.classification",
            t.of("classification", &wire_name(item.item.classification)),
        ),
        (
            "fact.hosting_country",
            item.hosting_country.as_ref().map_or_else(
                || t.get("fact.unknown").to_owned(),
                |c| c.as_str().to_owned(),
            ),
        ),
        ("fact.basis", t.of("basis", &wire_name(item.basis))),
        (
            "fact.ip",
            hosting.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        ),
        (
            "fact.asn",
            hosting
                .asn
                .map(|asn| format!("AS{asn}"))
                .unwrap_or_default(),
        ),
        ("fact.received_at", crate::clock::format(item.received_at)),
    ];
    if let Some(hashes) = &item.item.hashes {
        for (key, value) in [
            ("fact.sha256", &hashes.sha256),
            ("fact.sha1", &hashes.sha1),
            ("fact.md5", &hashes.md5),
            ("fact.pdq", &hashes.pdq),
        ] {
            if let Some(value) = value {
                facts.push((key, value.clone()));
            }
        }
    }
    if submitter {
        facts.push(("fact.report_id", item.report_id.clone()));
    } else if !provider_only {
        facts.push(("fact.from", item.submitter.clone()));
    }
    if let Some(original) = &item.duplicate_of {
        facts.push(("fact.duplicate_of", original.clone()));
    }
    facts.retain(|(_, v)| !v.is_empty());
    facts
}

/// `POST /console/items/{item_id}/status` (`status`, optional `note`, `provider`, `back`):
/// the change made as the API makes it; back to the item (or the notices) saying how it went.
pub async fn change(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(fields) = posted_form(&req, &body, caller.id()) else {
        return error_page(&req, &caller.0, StatusCode::FORBIDDEN, "error.forged");
    };
    let t = Layout::new(&req, &caller.0, "item").t;
    let item_id = path.into_inner();
    let back_to_notices = fields.values("back").any(|v| v == "notices");
    match change_one(&state, &caller, t, &item_id, &fields).await? {
        None if back_to_notices => Ok(see_other("/console/notices")),
        None => {
            let status = fields.field("status").unwrap_or("");
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("done", status);
            let id: String = url::form_urlencoded::byte_serialize(item_id.as_bytes()).collect();
            Ok(see_other(&format!(
                "/console/items/{id}?{}",
                query.finish()
            )))
        }
        // Refused: the page again, saying why (and nothing changed).
        Some(why) => {
            let message = Message {
                done: None,
                refused: Some(why),
            };
            render(
                &caller,
                &req,
                &state,
                &item_id,
                message,
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}
