//! `TestApp` acting as a member: each method sends a request and checks what the test relies on
//! before it goes on (a 2xx, the content type, the published schema). The raw requests, for
//! tests that look at an answer themselves, are `post_report`, `get` and the `post_*` here.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::app::TestApp;
use crate::support::bodies::{item, report_of};
use crate::support::checks::assert_matches_schema;

impl TestApp {
    /// `POST /v1/reports` of `body` as `member`: a 202 with a receipt that matches the schema,
    /// names this member and report and has one item per reported item. Returns the receipt.
    pub async fn submit(&self, member: &str, body: &Value) -> Value {
        let response = self.post_report(member, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(
            status, 202,
            "report {} from {member} was not accepted: {text}",
            body["report_id"]
        );
        let receipt: Value = serde_json::from_str(&text).unwrap();
        assert_matches_schema("receipt.schema.json", &receipt);
        assert_eq!(receipt["receipt"]["member"], member);
        assert_eq!(receipt["receipt"]["report_id"], body["report_id"]);
        assert_eq!(
            receipt["receipt"]["items"].as_array().unwrap().len(),
            body["items"].as_array().unwrap().len(),
            "one receipt item per reported item"
        );
        receipt
    }

    /// `submit`; returns the receipt's items.
    pub async fn submit_items(&self, member: &str, body: &Value) -> Vec<Value> {
        let receipt = self.submit(member, body).await;
        receipt["receipt"]["items"].as_array().unwrap().clone()
    }

    /// `submit` of a one-item report of `item`; returns the receipt's item.
    pub async fn submit_item(&self, member: &str, report_id: &str, item: Value) -> Value {
        let body = report_of(report_id, vec![item]);
        self.submit_items(member, &body).await.remove(0)
    }

    /// `submit` of a one-item report of `url`, hosted as `hosting`; returns the item's id.
    pub async fn submit_id(
        &self,
        member: &str,
        report_id: &str,
        url: &str,
        hosting: Value,
    ) -> String {
        let item = self
            .submit_item(member, report_id, item(url, hosting))
            .await;
        item["item_id"].as_str().unwrap().to_owned()
    }

    /// Submits `n` NL-hosted reports from hotline-fr (`FR-{first}`..); returns their item ids, in
    /// order. Each one lands in hotline-nl's and police-nl's inboxes as a referral.
    pub async fn submit_nl(&self, first: usize, n: usize) -> Vec<String> {
        let mut item_ids = Vec::new();
        for i in first..first + n {
            let url = format!("https://files.example.nl/{i}.jpg");
            let report_id = format!("FR-{i}");
            let hosting = json!({"country": "NL"});
            item_ids.push(
                self.submit_id("hotline-fr", &report_id, &url, hosting)
                    .await,
            );
        }
        item_ids
    }

    /// `POST /v1/items/{item_id}/status` as `member`, any body.
    pub async fn post_status_raw(
        &self,
        member: &str,
        item_id: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client(member)
            .post(self.url(&format!("/v1/items/{item_id}/status")))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /v1/items/{item_id}/status` of `body` as `member`.
    pub async fn post_status(
        &self,
        member: &str,
        item_id: &str,
        body: &Value,
    ) -> reqwest::Response {
        let body = body.to_string().into_bytes();
        self.post_status_raw(member, item_id, "application/json", body)
            .await
    }

    /// A change that must be accepted: 200 JSON; returns the receipt and its exact bytes.
    pub async fn set_status(&self, member: &str, item_id: &str, body: Value) -> (Value, String) {
        let response = self.post_status(member, item_id, &body).await;
        let code = response.status();
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned()),
            Some("application/json".to_owned())
        );
        let text = response.text().await.unwrap();
        assert_eq!(code, 200, "{member} {body} on {item_id}: {text}");
        (serde_json::from_str(&text).unwrap(), text)
    }

    /// `set_status` to `status`, with nothing else in the body.
    pub async fn change(&self, member: &str, item_id: &str, status: &str) {
        self.set_status(member, item_id, json!({ "status": status }))
            .await;
    }

    /// `GET /v1/inbox{query}` as `member`: a 200 JSON page that matches the schema.
    pub async fn inbox_page(&self, member: &str, query: &str) -> Value {
        let response = self.get(member, &format!("/v1/inbox{query}")).await;
        assert_eq!(response.status(), 200, "{member}'s inbox{query}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let page = response.json().await.unwrap();
        assert_matches_schema("inbox-page.schema.json", &page);
        page
    }

    /// The raw page `GET /v1/inbox?after=0&limit=500`: every entry, acknowledged or not.
    pub async fn inbox_text(&self, member: &str) -> String {
        let response = self.get(member, "/v1/inbox?after=0&limit=500").await;
        assert_eq!(response.status(), 200, "{member}'s inbox");
        response.text().await.unwrap()
    }

    /// Every entry of `member`'s inbox, acknowledged or not.
    pub async fn inbox(&self, member: &str) -> Vec<Value> {
        let page = self.inbox_page(member, "?after=0&limit=500").await;
        page["entries"].as_array().unwrap().clone()
    }

    /// `POST /v1/inbox/ack` as `member`, any body.
    pub async fn post_ack_raw(
        &self,
        member: &str,
        content_type: &str,
        body: String,
    ) -> reqwest::Response {
        self.client(member)
            .post(self.url("/v1/inbox/ack"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /v1/inbox/ack` of `cursor` as `member`.
    pub async fn post_ack(&self, member: &str, cursor: &str) -> reqwest::Response {
        let body = json!({ "cursor": cursor }).to_string();
        self.post_ack_raw(member, "application/json", body).await
    }

    /// Acknowledges `member`'s inbox up to `cursor`: 204.
    pub async fn ack(&self, member: &str, cursor: &str) {
        let response = self.post_ack(member, cursor).await;
        let code = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(code, 204, "{member} acks {cursor}: {text}");
    }

    /// Acknowledges everything in `member`'s inbox (its referrals become `delivered`).
    pub async fn ack_all(&self, member: &str) {
        let entries = self.inbox(member).await;
        let last = entries.last().expect("an entry to acknowledge");
        self.ack(member, last["cursor"].as_str().unwrap()).await;
    }

    /// `GET /v1/inbox/delivery` as `member`: 200.
    pub async fn delivery(&self, member: &str) -> Value {
        let response = self.get(member, "/v1/inbox/delivery").await;
        assert_eq!(response.status(), 200, "{member}'s delivery status");
        response.json().await.unwrap()
    }

    /// The report view as sent: 200, matching the schema.
    pub async fn view_text(&self, member: &str, report_id: &str) -> String {
        let response = self.get_report(member, report_id).await;
        assert_eq!(response.status(), 200, "{member} reading {report_id}");
        let text = response.text().await.unwrap();
        let view: Value = serde_json::from_str(&text).unwrap();
        assert_matches_schema("report-view.schema.json", &view);
        text
    }

    /// The report view: 200, matching the schema.
    pub async fn view(&self, member: &str, report_id: &str) -> Value {
        serde_json::from_str(&self.view_text(member, report_id).await).unwrap()
    }

    /// Waits (20 s at most) until `member`'s report is gone: 404.
    pub async fn until_purged(&self, member: &str, report_id: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.get_report(member, report_id).await.status() != 404 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{report_id} was not purged"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `GET /v1/stats` as `member`: 200.
    pub async fn stats(&self, member: &str) -> Value {
        let response = self.get(member, "/v1/stats").await;
        assert_eq!(response.status(), 200, "{member}'s stats");
        response.json().await.unwrap()
    }
}
