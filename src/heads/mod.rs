//! The request-head timeout: a stream wrapper between TLS and HTTP that gives every request
//! head, the first on a connection and every later one, `gateway.header_timeout_ms` from its
//! first byte to the empty line that ends it. The first head's time runs from the end of the
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

mod scan;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::error::{ApiError, PROBLEM_JSON};
use scan::{Requests, Timing};

/// A connection's stream with every request head timed (see the module doc).
pub struct HeadTimeout<IO> {
    io: IO,
    requests: Requests,
    timeout: Duration,
    /// The deadline of the head in progress; stale while none is.
    deadline: Pin<Box<Sleep>>,
    answer: Answer,
}

/// The 408 of a head whose time is up.
enum Answer {
    /// No head's time is up.
    None,
    /// The dispatcher has been told the client is done; the 408 is written at shutdown.
    Owed,
    /// The 408, and how much of it is written.
    Writing { bytes: Vec<u8>, written: usize },
    /// The 408 is written and flushed: nothing more is.
    Written,
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
            Poll::Ready(Ok(())) => {
                let read = &buf.filled()[before..];
                if !read.is_empty() && this.requests.feed(read) == Timing::Restart {
                    this.deadline.as_mut().reset(Instant::now() + this.timeout);
                }
                Poll::Ready(Ok(()))
            }
            // The deadline is polled only when no byte is ready, so that its waker is
            // registered whenever the dispatcher waits for the client.
            Poll::Pending if this.requests.in_head() => {
                ready!(this.deadline.as_mut().poll(cx));
                this.answer = Answer::Owed;
                tracing::debug!("a request head did not arrive in time: 408, then closed");
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for HeadTimeout<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.answer {
            Answer::Written => Poll::Ready(Ok(buf.len())),
            _ => Pin::new(&mut this.io).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.answer {
            Answer::Written => Poll::Ready(Ok(())),
            _ => Pin::new(&mut this.io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.answer {
                Answer::Owed => {
                    this.answer = Answer::Writing {
                        bytes: timeout_answer(),
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
                    this.answer = Answer::Written;
                }
                Answer::None | Answer::Written => return Pin::new(&mut this.io).poll_shutdown(cx),
            }
        }
    }
}

/// The whole answer to a head that did not arrive in time: the status line, the headers, and
/// the problem+json body (`ApiError::HeaderTimeout`).
fn timeout_answer() -> Vec<u8> {
    let (status, problem) = ApiError::HeaderTimeout.problem();
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
