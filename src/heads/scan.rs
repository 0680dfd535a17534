//! Where a connection is in its stream of requests, told from the bytes the client sends and
//! nothing else: the head of a request up to the empty line that ends it, then the body as that
//! head frames it, then the next head. No I/O and no clock: [`Requests::feed`] says when a head
//! begins and whether one is in progress, and the stream wrapper keeps the time.
//!
//! It follows actix-http 3's h1 decoder, so that it finds every head actix will parse:
//! - a head ends at the first empty line (LF, or CR LF) after the request line; empty lines
//!   before a request line belong to the head (httparse skips them, and they hold the
//!   connection as well as any other byte);
//! - the complete head is parsed once with httparse (the parser actix uses, with its default
//!   configuration) for its framing, by actix's rules in order: `Transfer-Encoding: chunked`,
//!   else `Upgrade: websocket` (the body lasts until the connection ends), else a
//!   `Content-Length` over 0, else a CONNECT (until the connection ends), else no body;
//! - a body is skipped byte for byte, never scanned: `Expect: 100-continue` or not, a body that
//!   takes its time is a body.
//!
//! After a head actix refuses (httparse fails, or a `Content-Length` is not a number: actix
//! answers 400 and closes the connection), after a chunked body actix refuses, and during a body
//! that lasts until the connection ends, nothing more is scanned: no request can follow on the
//! connection. A head over 128 KiB is not kept for parsing (actix answers 431 and closes the
//! connection, unless the whole head came in at once): it is taken as having no body, so that
//! whatever follows it is timed as a head.

/// How much of a head is kept for parsing: actix's limit (`MAX_BUFFER_SIZE` of its decoder).
const MAX_HEAD_BYTES: usize = 131_072;

/// Headers httparse may find in a head kept for parsing: more than actix's 96, so that every
/// head actix parses is parsed here too.
const MAX_HEADERS: usize = 128;

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
    Head(Lines),
    /// This many bytes of a `Content-Length` body still to come.
    Body(u64),
    /// A chunked body.
    Chunked(Chunked),
    /// No more heads on this connection: see the module doc.
    Rest,
}

/// What [`Requests::feed`] tells the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// No head is in progress.
    Off,
    /// The head that was in progress before these bytes still is: its deadline stands.
    Same,
    /// A head began in these bytes and has not ended: its deadline runs from now.
    Restart,
}

impl Requests {
    /// A new connection, its first head awaited (the caller's clock is already running).
    pub fn new() -> Requests {
        Requests {
            phase: Phase::Head(Lines::default()),
            head: Vec::new(),
        }
    }

    /// Whether a head is in progress (or, on a new connection, still awaited).
    pub fn in_head(&self) -> bool {
        matches!(self.phase, Phase::Head(_))
    }

    /// Takes the next bytes the client sent.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Timing {
        let mut began = false;
        while !bytes.is_empty() {
            match &mut self.phase {
                Phase::Between => {
                    self.phase = Phase::Head(Lines::default());
                    began = true;
                }
                Phase::Head(lines) => {
                    let end = lines.find_end(bytes);
                    let (taken, rest) = bytes.split_at(end.unwrap_or(bytes.len()));
                    let room = MAX_HEAD_BYTES.saturating_sub(self.head.len());
                    self.head.extend_from_slice(&taken[..taken.len().min(room)]);
                    bytes = rest;
                    if end.is_some() {
                        if let Some(next) = self.framing() {
                            self.phase = next;
                            began = false;
                        }
                    }
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
                    Err(Refused) => self.phase = Phase::Rest,
                },
                Phase::Rest => break,
            }
        }
        match self.phase {
            Phase::Head(_) if began => Timing::Restart,
            Phase::Head(_) => Timing::Same,
            _ => Timing::Off,
        }
    }

    /// The phase after the head now complete in `self.head`, which is then cleared; `None` if
    /// httparse does not take it as complete after all (the head goes on; never seen).
    fn framing(&mut self) -> Option<Phase> {
        let next = if self.head.len() >= MAX_HEAD_BYTES {
            Phase::Between
        } else {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&self.head) {
                Ok(httparse::Status::Complete(_)) => framing_of(&request),
                Ok(httparse::Status::Partial) => return None,
                Err(_) => Phase::Rest,
            }
        };
        self.head.clear();
        if self.head.capacity() > KEPT_CAPACITY {
            self.head = Vec::new();
        }
        Some(next)
    }
}

impl Default for Requests {
    fn default() -> Self {
        Requests::new()
    }
}

/// The body that follows a parsed head, by actix's rules (see the module doc).
fn framing_of(request: &httparse::Request<'_, '_>) -> Phase {
    let value = |name: &str| {
        request
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| std::str::from_utf8(header.value).map(str::trim))
    };
    let is = |name: &str, token: &str| {
        request.headers.iter().any(|header| {
            header.name.eq_ignore_ascii_case(name)
                && std::str::from_utf8(header.value)
                    .is_ok_and(|value| value.trim().eq_ignore_ascii_case(token))
        })
    };
    if is("transfer-encoding", "chunked") {
        return Phase::Chunked(Chunked::SizeFirst);
    }
    if is("upgrade", "websocket") {
        return Phase::Rest;
    }
    match value("content-length") {
        Some(Ok(length)) if !length.starts_with('+') => match length.parse::<u64>() {
            Ok(0) => {}
            Ok(length) => return Phase::Body(length),
            Err(_) => return Phase::Rest,
        },
        Some(_) => return Phase::Rest,
        None => {}
    }
    if request.method == Some("CONNECT") {
        Phase::Rest
    } else {
        Phase::Between
    }
}

/// Where a head's scan is: before its request line, within a line, or at the start of one.
#[derive(Debug, Default)]
struct Lines {
    /// A byte other than CR or LF has come: the request line has begun.
    begun: bool,
    /// The last byte was the LF that ends a line.
    at_line_start: bool,
    /// A CR has come at the start of a line: an LF now ends the head.
    cr_at_line_start: bool,
}

impl Lines {
    /// The length of the part of `bytes` up to and including the empty line that ends the
    /// head, if it is in `bytes`.
    fn find_end(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &byte) in bytes.iter().enumerate() {
            if !self.begun {
                self.begun = byte != b'\r' && byte != b'\n';
                continue;
            }
            if self.cr_at_line_start {
                // A CR not followed by LF is a head httparse refuses; scanning goes on.
                self.cr_at_line_start = false;
                if byte == b'\n' {
                    return Some(i + 1);
                }
            } else if self.at_line_start {
                self.at_line_start = false;
                match byte {
                    b'\n' => return Some(i + 1),
                    b'\r' => {
                        self.cr_at_line_start = true;
                        continue;
                    }
                    _ => {}
                }
            }
            self.at_line_start = byte == b'\n';
        }
        None
    }
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
