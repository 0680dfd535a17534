//! What a request got, one type for every suite that keeps answers to check later (the crash
//! and fault tests): the status, `Content-Type`, `Retry-After` and body; `None` where no whole
//! answer came (the connection refused or broken, the body cut off), so that the request may or
//! may not have been carried out.

/// An answer, read whole.
#[derive(Clone, Debug)]
pub struct Answer {
    pub code: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub text: String,
}

impl Answer {
    /// Sends `request` and reads the answer; `None` if none came whole.
    pub async fn to(request: reqwest::RequestBuilder) -> Option<Answer> {
        let response = request.send().await.ok()?;
        let header = |name: &str| {
            let value = response.headers().get(name);
            value.and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let (content_type, retry_after) = (header("content-type"), header("retry-after"));
        let code = response.status().as_u16();
        Some(Answer {
            code,
            content_type: content_type.unwrap_or_default(),
            retry_after,
            text: response.text().await.ok()?,
        })
    }
}

/// The body of `answer` if it came with a 2xx: what the gateway acknowledged.
pub fn acked(answer: &Option<Answer>) -> Option<&str> {
    answer
        .as_ref()
        .filter(|a| (200..300).contains(&a.code))
        .map(|a| a.text.as_str())
}

/// Whether `answer` came and refused (not a 2xx): the request was not carried out.
pub fn refused(answer: &Option<Answer>) -> bool {
    answer
        .as_ref()
        .is_some_and(|a| !(200..300).contains(&a.code))
}
