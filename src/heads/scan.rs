//! Where a connection is in its stream of requests, told from the bytes the client sends and
//! nothing else: the head of a request up to the empty line that ends it, then the body as that
//! head frames it, then the next head. No I/O and no clock: [`Requests::feed`] says when a head
//! begins, whether one is in progress, and whether actix-http would refuse what came, before it
//! sees it; the stream wrapper keeps the time and answers refusals.
//!
//! It follows actix-http 3's h1 decoder (3.20, `h1/decoder.rs` and `h1/chunked.rs`) rule for
//! rule, so that it finds every head actix will parse and every one it will refuse:
//! - the head in progress is parsed with httparse (the parser actix uses, with its default
//!   configuration and its 96 header fields) as each piece of it comes, as actix does: httparse
//!   says where it ends (empty lines before a request line belong to it), or that it is
//!   malformed;
//! - a head is refused as too large (actix's 431) when it has not ended within 128 KiB, or has
//!   more than 96 header fields; actix itself takes a long head that came in all at once, and
//!   refuses one that came in pieces: here it is refused however it came;
//! - a complete head is refused (actix's 400) by actix's own checks after httparse: its method
//!   and target, `Content-Length` (one, unsigned, a number), `Transfer-Encoding` (HTTP/1.1 only,
//!   once, `chunked`, never with a `Content-Length`), one `Host` (and one at all in HTTP/1.1),
//!   and an HTTP/1.0 `POST` with a length;
//! - otherwise its framing, by actix's rules in order: `Transfer-Encoding: chunked`, else
//!   `Upgrade: websocket` (the body lasts until the connection ends), else a `Content-Length`
//!   over 0, else a CONNECT (until the connection ends), else no body;
//! - a body is skipped byte for byte, never scanned: `Expect: 100-continue` or not, a body that
//!   takes its time is a body.
//!
//! After a refused head, after a chunked body actix refuses (the request's handler answers
//! that: its body ends in an error), and during a body that lasts until the connection ends,
//! nothing more is scanned: no request can follow on the connection.

/// How much of a head is kept for parsing: actix's limit (`MAX_BUFFER_SIZE` of its decoder).
const MAX_HEAD_BYTES: usize = 131_072;

/// Header fields httparse may find in a head: actix's `MAX_HEADERS`. One more is a head too large.
const MAX_HEADERS: usize = 96;

/// A buffer kept between heads is given back past this size (a large head is rare).
const KEPT_CAPACITY: usize = 16 * 1024;

/// The requests of one connection, as far as its bytes have come in.
#[derive(Debug)]
pub struct Requests {
    phase: Phase,
    /// The bytes of the head in progress, for httparse once it is complete.
    head: Vec<u8>,
}

#[derive(Debug)]
enum Phase {
    /// Between requests: the next byte begins a head.
    Between,
    /// A head in progress (on a new connection, the first one is awaited in this phase).
    Head,
    /// This many bytes of a `Content-Length` body still to come.
    Body(u64),
    /// A chunked body.
    Chunked(Chunked),
    /// No more heads on this connection: see the module doc.
    Rest,
}

/// What [`Requests::feed`] tells the stream wrapper: how the clock goes on, or that actix would
/// refuse what came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// No head is in progress.
    Off,
    /// The head that was in progress before these bytes still is: its deadline stands.
    Same,
    /// A head began in these bytes and has not ended: its deadline runs from now.
    Restart,
    /// Actix would refuse a head in these bytes. Only the first `pass` of them come before it
    /// (whole requests); the bytes of the head that came before these are never refused by
    /// actix on their own. Nothing more is scanned.
    Refused { refusal: Refusal, pass: usize },
}

/// What actix-http would refuse, and answer itself with a bare status and no body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A malformed request line or header field, or one actix's checks refuse: actix's 400.
    BadHead,
    /// A head not ended within 128 KiB, or with more than 96 header fields: actix's 431.
    HeadTooLarge,
}

impl Requests {
    /// A new connection, its first head awaited (the caller's clock is already running).
    pub fn new() -> Requests {
        Requests {
            phase: Phase::Head,
            head: Vec::new(),
        }
    }

    /// Whether a head is in progress (or, on a new connection, still awaited).
    pub fn in_head(&self) -> bool {
        matches!(self.phase, Phase::Head)
    }

    /// Takes the next bytes the client sent.
    pub fn feed(&mut self, all: &[u8]) -> Timing {
        let mut bytes = all;
        let mut began = false;
        while !bytes.is_empty() {
            let at = all.len() - bytes.len();
            match &mut self.phase {
                Phase::Between => {
                    self.phase = Phase::Head;
                    began = true;
                }
                Phase::Head => {
                    // Where this head began among these bytes; 0 if it began before them.
                    let begins = if self.head.is_empty() { at } else { 0 };
                    match self.head(bytes) {
                        Ok(rest) => bytes = rest,
                        Err(refusal) => return self.refuse(refusal, begins),
                    }
                    began &= self.in_head();
                }
                Phase::Body(left) => {
                    let skipped = (*left).min(bytes.len() as u64);
                    *left -= skipped;
                    // `skipped` is at most `bytes.len()`, so it fits.
                    bytes = &bytes[skipped as usize..];
                    if *left == 0 {
                        self.phase = Phase::Between;
                    }
                }
                Phase::Chunked(chunked) => match chunked.skip(&mut bytes) {
                    Ok(true) => self.phase = Phase::Between,
                    Ok(false) => {}
                    // actix ends the request's body with an error, which its handler answers,
                    // and closes the connection: nothing of its own is written after it.
                    Err(Refused) => self.phase = Phase::Rest,
                },
                Phase::Rest => break,
            }
        }
        match self.phase {
            Phase::Head if began => Timing::Restart,
            Phase::Head => Timing::Same,
            _ => Timing::Off,
        }
    }

    fn refuse(&mut self, refusal: Refusal, pass: usize) -> Timing {
        self.phase = Phase::Rest;
        self.head = Vec::new();
        Timing::Refused { refusal, pass }
    }

    /// Takes `bytes` into the head in progress and parses it as actix would; what follows the
    /// head if it has ended (then the phase is its body's), or a refusal.
    fn head<'b>(&mut self, bytes: &'b [u8]) -> Result<&'b [u8], Refusal> {
        let kept = self.head.len();
        // One byte past the limit is enough to know a head is over it.
        let taken = bytes.len().min((MAX_HEAD_BYTES + 1).saturating_sub(kept));
        self.head.extend_from_slice(&bytes[..taken]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&self.head) {
            Ok(httparse::Status::Complete(length)) if length <= MAX_HEAD_BYTES => {
                self.phase = framing_of(&request)?;
                self.head.clear();
                if self.head.capacity() > KEPT_CAPACITY {
                    self.head = Vec::new();
                }
                // The head's own bytes among these: `length` in all, `kept` of them before.
                Ok(&bytes[length - kept..])
            }
            Ok(httparse::Status::Partial) if self.head.len() < MAX_HEAD_BYTES => {
                Ok(&bytes[taken..])
            }
            Ok(_) | Err(httparse::Error::TooManyHeaders) => Err(Refusal::HeadTooLarge),
            Err(_) => Err(Refusal::BadHead),
        }
    }
}

impl Default for Requests {
    fn default() -> Self {
        Requests::new()
    }
}

/// The body that follows a complete head, or its refusal, by actix's rules (see the module doc;
/// `MessageType::set_headers` and `Request::decode` in actix-http's `h1/decoder.rs`).
fn framing_of(request: &httparse::Request<'_, '_>) -> Result<Phase, Refusal> {
    use Refusal::BadHead;
    let method = request.method.ok_or(BadHead)?;
    let method = actix_http::Method::from_bytes(method.as_bytes()).map_err(|_| BadHead)?;
    actix_http::Uri::try_from(request.path.ok_or(BadHead)?).map_err(|_| BadHead)?;
    let http11 = request.version == Some(1);
    let mut content_length = None;
    let (mut encodings, mut chunked, mut hosts, mut websocket) = (0, false, 0, false);
    for header in request.headers.iter() {
        let name = header.name;
        // `HeaderValue::to_str`: visible ASCII and tabs only.
        let value = header
            .value
            .iter()
            .all(|&b| b == b'\t' || (32..127).contains(&b))
            .then(|| std::str::from_utf8(header.value).ok())
            .flatten()
            .map(str::trim);
        if name.eq_ignore_ascii_case("content-length") {
            let length = value.filter(|v| content_length.is_none() && !v.starts_with('+'));
            content_length = Some(length.and_then(|v| v.parse::<u64>().ok()).ok_or(BadHead)?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            encodings += 1;
            if http11 {
                match value {
                    _ if encodings > 1 => return Err(BadHead),
                    Some(v) if v.eq_ignore_ascii_case("chunked") => chunked = true,
                    Some(v) if v.eq_ignore_ascii_case("identity") => {}
                    _ => return Err(BadHead),
                }
            }
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if hosts > 1 {
                return Err(BadHead);
            }
        } else if name.eq_ignore_ascii_case("upgrade") {
            websocket |= value.is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        }
    }
    let refused = (http11 && hosts == 0)
        // Any in HTTP/1.0; in HTTP/1.1 it must be chunked, and not beside a length.
        || (encodings > 0 && (!http11 || !chunked || content_length.is_some()))
        || (!http11
            && method == actix_http::Method::POST
            && content_length.is_none()
            && !websocket);
    if refused {
        return Err(BadHead);
    }
    Ok(if chunked {
        Phase::Chunked(Chunked::SizeFirst)
    } else if websocket {
        Phase::Rest
    } else if let Some(length @ 1..) = content_length {
        Phase::Body(length)
    } else if method == actix_http::Method::CONNECT {
        Phase::Rest
    } else {
        Phase::Between
    })
}

/// A chunked body actix refuses: it answers 400 and closes the connection.
#[derive(Debug)]
struct Refused;

/// Where a chunked body is, step for step as actix-http's `ChunkedState`.
#[derive(Debug)]
enum Chunked {
    SizeFirst,
    Size(u64),
    SizeLws(u64),
    Extension(u64),
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
}

impl Chunked {
    /// Skips what `bytes` holds of the body; `true` once the body has ended, with `bytes` then
    /// holding what comes after it.
    fn skip(&mut self, bytes: &mut &[u8]) -> Result<bool, Refused> {
        use Chunked::*;
        while let Some((&byte, rest)) = bytes.split_first() {
            if let Data(left) = self {
                let skipped = (*left).min(bytes.len() as u64);
                *left -= skipped;
                *bytes = &bytes[skipped as usize..];
                if *left == 0 {
                    *self = DataCr;
                }
                continue;
            }
            *bytes = rest;
            *self = match (&*self, byte) {
                (SizeFirst, _) => Size(hex(byte).ok_or(Refused)?),
                (Size(size), _) if hex(byte).is_some() => Size(
                    size.checked_mul(16)
                        .and_then(|size| size.checked_add(hex(byte)?))
                        .ok_or(Refused)?,
                ),
                (Size(size) | SizeLws(size), b'\t' | b' ') => SizeLws(*size),
                (Size(size) | SizeLws(size), b';') => Extension(*size),
                (Size(size) | SizeLws(size) | Extension(size), b'\r') => SizeLf(*size),
                (Extension(_), 0x00..=0x08 | 0x0a..=0x1f | 0x7f) => return Err(Refused),
                (Extension(size), _) => Extension(*size),
                (SizeLf(0), b'\n') => EndCr,
                (SizeLf(size), b'\n') => Data(*size),
                (DataCr, b'\r') => DataLf,
                (DataLf, b'\n') => SizeFirst,
                (Trailer, b'\r') => TrailerLf,
                (Trailer, _) => Trailer,
                (TrailerLf, b'\n') => EndCr,
                (EndCr, b'\r') => EndLf,
                (EndCr, _) => Trailer,
                (EndLf, b'\n') => return Ok(true),
                _ => return Err(Refused),
            };
        }
        Ok(false)
    }
}

fn hex(byte: u8) -> Option<u64> {
    char::from(byte).to_digit(16).map(u64::from)
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "refusal_tests.rs"]
mod refusal_tests;
