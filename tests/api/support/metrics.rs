//! The admin listener as the tests reach it (plain HTTP, no certificate) and the OpenMetrics text
//! it serves, read back as samples.

use std::time::Duration;

use crate::support::app::TestApp;

/// A client for the admin listener: plain HTTP (a client with no TLS use: rustls wants a
/// provider anyway).
pub fn plain_client() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(hotline_gateway::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `GET path` on the admin listener at `port`.
pub async fn admin_get(port: u16, path: &str) -> reqwest::Response {
    plain_client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .expect("admin request sent")
}

impl TestApp {
    /// `GET path` on the admin listener.
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        admin_get(self.admin_port, path).await
    }

    /// `GET /metrics` on the admin listener: 200, OpenMetrics (or plain) text.
    pub async fn scrape(&self) -> String {
        let response = self.admin_get("/metrics").await;
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/openmetrics-text")
                || content_type.starts_with("text/plain"),
            "{content_type}"
        );
        response.text().await.unwrap()
    }
}

/// One sample of the exposition: its name, its labels, its value.
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// Every sample of an exposition, in order; comments and blank lines left out.
pub fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name_end = line.find(['{', ' ']).expect("a sample line");
        let name = line[..name_end].to_owned();
        let mut labels = Vec::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            // `k="v",...}`: values may hold braces (route patterns) and escaped quotes.
            let (mut key, mut value, mut in_value, mut escaped) =
                (String::new(), String::new(), false, false);
            let mut end = inner.len();
            for (i, c) in inner.char_indices() {
                match (in_value, escaped, c) {
                    (true, true, c) => {
                        value.push(c);
                        escaped = false;
                    }
                    (true, false, '\\') => escaped = true,
                    (true, false, '"') => {
                        in_value = false;
                        labels.push((std::mem::take(&mut key), std::mem::take(&mut value)));
                    }
                    (true, false, c) => value.push(c),
                    (false, _, '"') => in_value = true,
                    (false, _, '}') => {
                        end = i + 1;
                        break;
                    }
                    (false, _, '=' | ',') => {}
                    (false, _, c) => key.push(c),
                }
            }
            rest = &inner[end..];
        }
        let value = rest.split_whitespace().next().expect("a value");
        out.push(Sample {
            name,
            labels,
            value: value.parse().expect("a number"),
        });
    }
    out
}

/// The value of the sample `name` whose labels include `labels`; `None` if there is none, and
/// a panic if several match.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<f64> = samples(text)
        .into_iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|(k2, v2)| k2 == k && v2 == v))
        })
        .map(|s| s.value)
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?}: {found:?}");
    found.first().copied()
}
