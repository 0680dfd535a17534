//! HTTP/1.1 answers read off the wire, for the tests that talk to the gateway by hand (chunked
//! bodies, stalled bodies and heads, pipelining) where reqwest cannot.

use serde_json::Value;

use crate::support::checks::assert_matches_schema;

/// One answer as sent.
pub struct RawAnswer {
    pub status: u16,
    /// The header fields, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How many bytes of the wire the answer took.
    pub len: usize,
}

impl RawAnswer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// What `checks::assert_problem` checks, for an answer reqwest did not read.
    pub fn assert_problem(&self, status: u16, case: &str) -> Value {
        let text = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "{case}: {text}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{case}"
        );
        let problem: Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(problem["status"], status, "{case}");
        assert_matches_schema("problem.schema.json", &problem);
        problem
    }
}

/// The first HTTP/1.1 answer in `raw`, once all of it is there.
pub fn parse_answer(raw: &[u8]) -> Option<RawAnswer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).expect("an ASCII head");
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut answer = RawAnswer {
        status,
        headers,
        body: Vec::new(),
        len: end + 4,
    };
    if (100..200).contains(&status) {
        return Some(answer);
    }
    let (body, len) = if answer
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)?
    } else {
        let length = answer
            .header("content-length")
            .map_or(Some(0), |v| v.parse().ok())?;
        (rest.get(..length)?.to_vec(), length)
    };
    answer.body = body;
    answer.len += len;
    Some(answer)
}

/// Every complete answer in `raw`, in order (interim 1xx answers included).
pub fn parse_answers(mut raw: &[u8]) -> Vec<RawAnswer> {
    let mut answers = Vec::new();
    while let Some(answer) = parse_answer(raw) {
        raw = &raw[answer.len..];
        answers.push(answer);
    }
    answers
}

/// A chunked body, once its last chunk is in; and how many bytes it took.
fn dechunk(raw: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + raw[at..].windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&raw[at..line_end]).ok()?;
        let size = usize::from_str_radix(size_field.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // No trailers from the gateway: the empty line that ends the body.
            return raw.get(at..at + 2).map(|_| (body, at + 2));
        }
        body.extend_from_slice(raw.get(at..at + size)?);
        at += size + 2;
    }
}
