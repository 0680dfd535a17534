//! The request-head timeout and actix's refusals: a stream wrapper between TLS and HTTP that
//! gives every request head, the first on a connection and every later one,
//! `gateway.header_timeout_ms` from its first byte to the empty line that ends it, and answers
//! every head actix-http would refuse itself. The first head's time runs from the end of the
//! TLS handshake instead, so silence after a handshake is timed too.
//!
//! actix-http 3's h1 dispatcher times the head of a connection's first request only; on a
//! kept-alive connection its keep-alive timer stops at the first byte of the next request and
//! nothing times the rest of that head, so a client could hold a connection for ever by
//! trickling a later head (slowloris). Its own first-head timeout is switched off (`server`),
//! and this wrapper times them all.
//!
//! What is a head and what is a body is told from the bytes read alone ([`scan`]): the end of
//! each head, and the body its head frames (`Content-Length` or chunked) skipped unscanned.
//! A body is never taken for a head, however slowly it comes (after `Expect: 100-continue` the
//! client waits for the interim answer before its body); the time between requests is actix's
//! keep-alive, and the time a body takes is the application's (`gateway.body_timeout_ms`).
//!
//! When a head's time is up the wrapper tells the dispatcher the client has finished sending
//! (a read of 0 bytes), wakened by its own timer even if no byte comes. actix then finishes the
//! answer it owes to an earlier request on the connection, if any (a pipelined request), and
//! shuts the stream down; before passing the shutdown on, the wrapper writes a complete `408`
//! problem+json answer (`header-timeout`) with `connection: close`. Anything written after it
//! is discarded.
//!
//! A head actix would refuse (malformed, or too large) ends the same way, with a `400`
//! (`malformed-request`) or a `431` (`head-too-large`) problem+json: the scanner parses each
//! head as actix does, before actix sees its bytes, and the bytes that make actix refuse it are
//! never passed on (only what came before them: earlier requests, and a start of the head
//! that actix takes as incomplete). actix answers such a head itself with a bare `400` or
//! `431` and no body, through no hook; the other way to replace those would be to find actix's
//! exact answer in what it writes and rewrite it. That is the more fragile of the two: it rests on actix's
//! bytes (status line, header names and order) staying the same across upgrades, on finding
//! where each answer begins in the written stream (an answer to a `HEAD` has a length and no
//! body, so answers cannot be framed from their own bytes), and on one `write` holding the
//! whole of it; and actix's own 431 depends on how the head was read (a long head that came
//! in at once is taken). Here the refusal is decided from the request's bytes alone, by the
//! rules actix applies (`scan`), the same however they arrive, and a refusal the scanner
//! missed would still be actix's bare answer, never a refused good request. (A chunked body
//! actix cannot decode ends the request's body in an error, which its handler answers: actix
//! writes nothing of its own then.)
//!
//! Once its answer is written the wrapper shuts its side down, then reads and discards what
//! the client still sends (the rest of a refused head, say) until the client closes, for at
//! most [`LINGER`] and [`LINGER_BYTES`]: closing with unread bytes would send a reset, which
//! can make the client drop the answer unread.

mod scan;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::error::{ApiError, PROBLEM_JSON};
use scan::{Refusal, Requests, Timing};

/// The longest the wrapper reads what a client still sends after its answer (see the module
/// doc); never longer than the header timeout.
pub const LINGER: Duration = Duration::from_secs(1);

/// The most bytes the wrapper reads and discards after its answer.
pub const LINGER_BYTES: usize = 256 * 1024;

/// A connection's stream with every request head timed (see the module doc).
pub struct HeadTimeout<IO> {
    io: IO,
    requests: Requests,
    timeout: Duration,
    /// The deadline of the head in progress; stale while none is.
    deadline: Pin<Box<Sleep>>,
    answer: Answer,
}

/// The answer the wrapper owes, and how far it is.
enum Answer {
    /// No answer owed: the client's bytes pass.
    None,
    /// The dispatcher has been told the client is done; this answer is written at shutdown.
    Owed(ApiError),
    /// The answer, and how much of it is written.
    Writing { bytes: Vec<u8>, written: usize },
    /// Written and flushed: the wrapper's side is being shut down.
    ShuttingDown,
    /// What the client still sends is read and discarded, until it closes, `until`, or
    /// `left` more bytes.
    Lingering { until: Pin<Box<Sleep>>, left: usize },
    /// Done: nothing more is written.
    Closed,
}

impl<IO> HeadTimeout<IO> {
    /// Wraps a connection whose handshake has just ended: the first head's time runs from now.
    pub fn new(io: IO, timeout: Duration) -> HeadTimeout<IO> {
        HeadTimeout {
            io,
            requests: Requests::new(),
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            answer: Answer::None,
        }
    }

    /// The wrapped stream (the TLS session, for the peer's certificate).
    pub fn get_ref(&self) -> &IO {
        &self.io
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for HeadTimeout<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !matches!(this.answer, Answer::None) {
            // The end of the stream, for ever: the dispatcher shuts the connection down.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                match this.requests.feed(&buf.filled()[before..]) {
                    Timing::Restart => {
                        this.deadline.as_mut().reset(Instant::now() + this.timeout);
                    }
                    Timing::Refused { refusal, pass } => {
                        // The refused bytes never reach actix; the end of the stream follows
                        // what came before them.
                        buf.set_filled(before + pass);
                        this.answer = Answer::Owed(match refusal {
                            Refusal::BadHead => ApiError::MalformedHead,
                            Refusal::HeadTooLarge => ApiError::HeadTooLarge,
                        });
                        tracing::debug!(?refusal, "a request actix would refuse: answered, closed");
                    }
                    Timing::Off | Timing::Same => {}
                }
                Poll::Ready(Ok(()))
            }
            // The deadline is polled only when no byte is ready, so that its waker is
            // registered whenever the dispatcher waits for the client.
            Poll::Pending if this.requests.in_head() => {
                ready!(this.deadline.as_mut().poll(cx));
                this.answer = Answer::Owed(ApiError::HeaderTimeout);
                tracing::debug!("a request head did not arrive in time: 408, then closed");
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for HeadTimeout<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.answer {
            Answer::None | Answer::Owed(_) => Pin::new(&mut this.io).poll_write(cx, buf),
            _ => Poll::Ready(Ok(buf.len())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.answer {
            Answer::None | Answer::Owed(_) => Pin::new(&mut this.io).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.answer {
                Answer::None => return Pin::new(&mut this.io).poll_shutdown(cx),
                Answer::Owed(error) => {
                    this.answer = Answer::Writing {
                        bytes: closing_answer(error),
                        written: 0,
                    }
                }
                Answer::Writing { bytes, written } => {
                    while *written < bytes.len() {
                        let n = ready!(Pin::new(&mut this.io).poll_write(cx, &bytes[*written..]))?;
                        if n == 0 {
                            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                        }
                        *written += n;
                    }
                    ready!(Pin::new(&mut this.io).poll_flush(cx))?;
                    this.answer = Answer::ShuttingDown;
                }
                Answer::ShuttingDown => {
                    ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
                    this.answer = Answer::Lingering {
                        until: Box::pin(tokio::time::sleep(this.timeout.min(LINGER))),
                        left: LINGER_BYTES,
                    };
                }
                Answer::Lingering { until, left } => {
                    let mut discard = [0u8; 4096];
                    let mut discard = ReadBuf::new(&mut discard);
                    let read = match Pin::new(&mut this.io).poll_read(cx, &mut discard) {
                        Poll::Ready(Ok(())) => discard.filled().len(),
                        Poll::Ready(Err(_)) => 0,
                        Poll::Pending => {
                            ready!(until.as_mut().poll(cx));
                            0
                        }
                    };
                    if read == 0 || read >= *left {
                        this.answer = Answer::Closed;
                    } else {
                        *left -= read;
                    }
                }
                Answer::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// The whole answer the wrapper writes for `error` before the close: the status line, the
/// headers, and the problem+json body.
fn closing_answer(error: &ApiError) -> Vec<u8> {
    let (status, problem) = error.problem();
    let body = problem.to_string();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n\
         connection: close\r\ndate: {}\r\n\r\n{body}",
        status.as_str(),
        status.canonical_reason().unwrap_or_default(),
        body.len(),
        http_date(time::OffsetDateTime::now_utc()),
    )
    .into_bytes()
}

/// An HTTP date (IMF-fixdate, RFC 9110 5.6.7), as actix writes in its `date` header.
fn http_date(at: time::OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
