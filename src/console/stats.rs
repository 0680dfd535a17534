//! `GET /console/stats` and its charts (`GET /console/stats/{chart}.svg`): items by status and
//! by hosting country, time to removal (p50, p90 and the distribution) by hosting country, and
//! the share removed within 72 h by week, each as a chart and as a table. Everything is read
//! from the store's counters (`store::counters`), which the changes themselves keep: a page
//! reads a few counters per status, country and week, never the items.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::charts::{self, Bar};
use super::i18n::{Lang, Tr};
use super::render::{html, Layout};
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;
use crate::store::counters::{Stats, DISTRIBUTION_BOUNDS};

/// The charts, by name.
pub const CHARTS: [&str; 5] = ["status", "country", "removal", "spread", "weeks"];

/// A duration in the member's language, to the two largest units.
fn duration(t: Tr, seconds: u64) -> String {
    let units = [
        (86_400, "unit.d"),
        (3600, "unit.h"),
        (60, "unit.min"),
        (1, "unit.s"),
    ];
    let mut parts = Vec::new();
    let mut rest = seconds;
    for (size, key) in units {
        if rest >= size || (size == 1 && parts.is_empty()) {
            parts.push(format!("{} {}", rest / size, t.get(key)));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        String::new()
    } else {
        format!("{:.0} %", part as f64 * 100.0 / whole as f64)
    }
}

/// The names of the distribution's ranges (`< 1 h`, `1 h – 6 h`, …, `> 7 d`).
fn ranges(t: Tr) -> Vec<String> {
    let mut names = Vec::new();
    let mut low = 0;
    for &bound in &DISTRIBUTION_BOUNDS {
        names.push(if low == 0 {
            format!("< {}", duration(t, bound))
        } else {
            format!("{} – {}", duration(t, low), duration(t, bound))
        });
        low = bound;
    }
    names.push(format!("≥ {}", duration(t, low)));
    names
}

struct CountryRemoval {
    country: String,
    count: u64,
    p50: String,
    p90: String,
    spread: Vec<u64>,
}

struct WeekRow {
    week: String,
    removed: u64,
    within: u64,
    share: String,
}

#[derive(Template)]
#[template(path = "console/stats.html")]
struct StatsPage {
    base: Layout,
    total: u64,
    by_status: Vec<(String, u64)>,
    by_country: Vec<(String, u64)>,
    removed: u64,
    p50: String,
    p90: String,
    share: String,
    ranges: Vec<String>,
    countries: Vec<CountryRemoval>,
    weeks: Vec<WeekRow>,
    charts: Vec<(String, String)>,
}

pub async fn page(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let base = Layout::new(&req, &caller.0, "stats");
    let t = base.t;
    let stats = state.store.stats().await?;
    let pct = |p: f64| {
        stats
            .removal_percentile(p)
            .map(|s| duration(t, s))
            .unwrap_or_default()
    };
    let page = StatsPage {
        total: stats.by_status.values().sum(),
        by_status: stats
            .by_status
            .iter()
            .map(|(s, n)| (t.of("status", s), *n))
            .collect(),
        by_country: stats
            .by_country
            .iter()
            .map(|(c, n)| (c.clone(), *n))
            .collect(),
        removed: stats.removed,
        p50: pct(0.5),
        p90: pct(0.9),
        share: stats
            .removed_within_72h()
            .map(|r| format!("{:.0} %", r * 100.0))
            .unwrap_or_default(),
        ranges: ranges(t),
        countries: countries(t, &stats),
        weeks: stats
            .weeks
            .iter()
            .rev()
            .map(|(week, w)| WeekRow {
                week: week.clone(),
                removed: w.removed,
                within: w.within_72h,
                share: percent(w.within_72h, w.removed),
            })
            .collect(),
        charts: CHARTS
            .iter()
            .map(|name| {
                (
                    format!("/console/stats/{name}.svg"),
                    t.get(&format!("chart.{name}")).to_owned(),
                )
            })
            .collect(),
        base,
    };
    html(StatusCode::OK, &page)
}

fn countries(t: Tr, stats: &Stats) -> Vec<CountryRemoval> {
    stats
        .removal_by_country
        .iter()
        .map(|(country, h)| CountryRemoval {
            country: country.clone(),
            count: h.count,
            p50: h
                .percentile(0.5)
                .map(|s| duration(t, s))
                .unwrap_or_default(),
            p90: h
                .percentile(0.9)
                .map(|s| duration(t, s))
                .unwrap_or_default(),
            spread: h.distribution().to_vec(),
        })
        .collect()
}

/// `GET /console/stats/{name}.svg`: one chart, in the member's language.
pub async fn chart(
    _caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let t = Tr(Lang::negotiate(&req));
    let Some(name) = path.strip_suffix(".svg").filter(|n| CHARTS.contains(n)) else {
        return Ok(super::render::not_found().await);
    };
    let stats = state.store.stats().await?;
    let title = t.get(&format!("chart.{name}")).to_owned();
    let count = |label: String, n: u64| Bar {
        label,
        value: n as f64,
        text: n.to_string(),
    };
    let svg = match name {
        "status" => charts::bars(
            &title,
            &stats
                .by_status
                .iter()
                .map(|(s, &n)| count(t.of("status", s), n))
                .collect::<Vec<_>>(),
        ),
        "country" => charts::bars(
            &title,
            &stats
                .by_country
                .iter()
                .map(|(c, &n)| count(c.clone(), n))
                .collect::<Vec<_>>(),
        ),
        "removal" => {
            let mut bars = Vec::new();
            for (country, h) in &stats.removal_by_country {
                for (p, key) in [(0.5, "stats.p50"), (0.9, "stats.p90")] {
                    if let Some(s) = h.percentile(p) {
                        bars.push(Bar {
                            label: format!("{country} {}", t.get(key)),
                            value: s as f64,
                            text: duration(t, s),
                        });
                    }
                }
            }
            charts::bars(&title, &bars)
        }
        "spread" => charts::stacked(
            &title,
            &ranges(t),
            &countries(t, &stats)
                .into_iter()
                .map(|c| (c.country, c.spread))
                .collect::<Vec<_>>(),
        ),
        _ => charts::bars(
            &title,
            &stats
                .weeks
                .iter()
                .rev()
                .take(26)
                .rev()
                .map(|(week, w)| Bar {
                    label: week.clone(),
                    value: if w.removed == 0 {
                        0.0
                    } else {
                        w.within_72h as f64 / w.removed as f64
                    },
                    text: format!(
                        "{} ({}/{})",
                        percent(w.within_72h, w.removed),
                        w.within_72h,
                        w.removed
                    ),
                })
                .collect::<Vec<_>>(),
        ),
    }
    .map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .body(svg))
}
