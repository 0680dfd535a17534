//! Status changes from the console's forms: one item's form (`item`) and one transition
//! applied to several selected items. Each change goes through `actions::change_status`, as an
//! API call does (the same rules, its own receipt and audit event), after the form is turned
//! into the API's JSON body and validated by the same schema (`Schemas::parse_status_change`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::{Map, Value};

use super::filter::Choice;
use super::i18n::Tr;
use super::render::{error_page, html, Layout};
use super::security::{posted_form, PostedForm};
use crate::actions;
use crate::domain::{ChangeField, Status};
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;

/// At most this many items in one bulk change.
const MAX_ITEMS: usize = 200;

/// The provider choices of a form with `ChangeField::Provider`: the active hosting providers.
pub fn provider_choices(t: Tr, state: &AppState) -> Vec<Choice> {
    let mut choices = vec![Choice {
        value: String::new(),
        label: t.get("field.provider.by_asn").to_owned(),
        selected: true,
    }];
    choices.extend(
        actions::hosting_providers(state)
            .into_iter()
            .map(|p| Choice {
                label: p.id.clone(),
                value: p.id,
                selected: false,
            }),
    );
    choices
}

/// The form that applies one transition to the selected items of a list.
pub struct BulkForm {
    /// The statuses a member may ask for (the state machine decides per item).
    pub statuses: Vec<Choice>,
    pub providers: Vec<Choice>,
    /// Whether any offered status takes a provider (`Status::change_fields`).
    pub provider_field: bool,
    /// The list to go back to.
    pub back: &'static str,
}

impl BulkForm {
    pub fn new(t: Tr, state: &AppState, back: &'static str) -> BulkForm {
        // Not `moved`: each item would need its own new URL.
        let offered: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.settable_by_members())
            .filter(|s| !s.change_fields().contains(&ChangeField::NewUrl))
            .collect();
        BulkForm {
            provider_field: offered
                .iter()
                .any(|s| s.change_fields().contains(&ChangeField::Provider)),
            statuses: offered
                .iter()
                .map(|s| Choice {
                    value: s.as_str().to_owned(),
                    label: t.of("status", s.as_str()),
                    selected: false,
                })
                .collect(),
            providers: provider_choices(t, state),
            back,
        }
    }
}

/// Why a change was refused, in the member's language; `None`: it was made.
pub async fn change_one(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    item_id: &str,
    fields: &PostedForm,
) -> Result<Option<String>, ApiError> {
    let field = |name: &str| fields.field(name).map(str::trim).filter(|v| !v.is_empty());
    let status = field("status").unwrap_or("");
    let mut body = Map::new();
    body.insert("status".into(), Value::from(status));
    if let Some(note) = field("note") {
        body.insert("note".into(), Value::from(note));
    }
    // The fields this transition takes, as `Status::change_fields` says (a status the schema
    // does not know takes none, and is refused by it below).
    let extra = serde_json::from_value::<Status>(Value::from(status))
        .map_or(&[][..], |s| s.change_fields());
    for name in extra.iter().map(|f| f.name()) {
        if let Some(value) = field(name) {
            body.insert(name.into(), Value::from(value));
        }
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.into()))?;
    let parsed = state
        .schemas
        .parse_status_change(&bytes, state.clock.now())
        .map_err(ApiError::from);
    let outcome = match parsed {
        Ok((request, at)) => {
            actions::change_status(state, caller.0.clone(), item_id.to_owned(), request, at).await
        }
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(_receipt) => None,
        Err(ApiError::NotFound) => Some(t.get("refused.not_found").to_owned()),
        Err(ApiError::Forbidden(_)) => Some(t.get("refused.forbidden").to_owned()),
        Err(ApiError::StatusConflict { current }) => Some(format!(
            "{} {}",
            t.get("refused.conflict"),
            t.of("status", current.as_str())
        )),
        Err(ApiError::Validation(errors)) => Some(format!(
            "{} {}",
            t.get("refused.invalid"),
            errors
                .iter()
                .map(|e| format!("{}: {}", e.pointer, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Err(ApiError::MalformedJson(_)) => Some(t.get("refused.invalid").to_owned()),
        Err(other) => return Err(other),
    })
}

/// One item's outcome on the results page.
struct Outcome {
    item_id: String,
    refused: Option<String>,
}

#[derive(Template)]
#[template(path = "console/results.html")]
struct ResultsPage {
    base: Layout,
    status: String,
    outcomes: Vec<Outcome>,
    changed: usize,
    refused: usize,
    back: &'static str,
}

/// `POST /console/bulk` (`status`, optional `note` and `provider`, `item` repeated): the
/// transition applied to each item in turn; the page says which changed and which were
/// refused, and why.
pub async fn apply(
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(fields) = posted_form(&req, &body, caller.id()) else {
        return error_page(&req, &caller.0, StatusCode::FORBIDDEN, "error.forged");
    };
    let items: Vec<String> = fields.values("item").map(str::to_owned).collect();
    if items.is_empty() || items.len() > MAX_ITEMS {
        return error_page(
            &req,
            &caller.0,
            StatusCode::BAD_REQUEST,
            "error.bad_selection",
        );
    }
    let back = match fields.field("back") {
        Some("reports") => "reports",
        _ => "inbox",
    };
    let base = Layout::new(&req, &caller.0, "results");
    let mut outcomes = Vec::with_capacity(items.len());
    for item_id in items {
        let refused = change_one(&state, &caller, base.t, &item_id, &fields).await?;
        outcomes.push(Outcome { item_id, refused });
    }
    let status = fields
        .field("status")
        .map(|v| base.t.of("status", v))
        .unwrap_or_default();
    let refused = outcomes.iter().filter(|o| o.refused.is_some()).count();
    let page = ResultsPage {
        status,
        changed: outcomes.len() - refused,
        refused,
        outcomes,
        back,
        base,
    };
    html(StatusCode::OK, &page)
}
