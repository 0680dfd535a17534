//! Closing the connection after an answer that left its request's body unread.
//!
//! Many answers are given without reading the body: any GET, a 403, 404, 405, 413 by
//! `Content-Length`, 415, or a 408 when the body stopped coming. actix-http closes the
//! connection after such an answer, unless the handler has dropped the body and it is chunked:
//! then actix drains it, reading on with no time limit, so a chunked body that never ends held
//! the connection (and enough of them, every connection slot) for ever.
//!
//! So the body is never dropped before the answer is written: this middleware takes it, hands
//! the handler a stream that reads through to it, and keeps it with the answer's body until
//! actix has written the answer. actix then sees a body neither finished nor dropped, answers
//! with `connection: close`, and closes the connection (after `CLIENT_DISCONNECT_TIMEOUT` at
//! most, `server.rs`). A body read to its end leaves the connection kept alive, as before.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;

/// The request body, shared by the handler's stream and the answer that keeps it.
type Held = Rc<RefCell<Payload>>;

/// The middleware: the handler reads the body through a [`ReadThrough`], and the answer keeps
/// it ([`Keeping`]) until it is written.
pub async fn close_if_unread(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Keeping>, actix_web::Error> {
    let payload = req.take_payload();
    let held = match payload {
        // No body at all (no `Content-Length` over 0, not chunked): nothing to keep.
        Payload::None => None,
        payload => {
            let held: Held = Rc::new(RefCell::new(payload));
            let stream = ReadThrough(Rc::clone(&held));
            req.set_payload(Payload::from(
                Box::pin(stream) as Pin<Box<dyn Stream<Item = _>>>
            ));
            Some(held)
        }
    };
    let response = next.call(req).await?;
    Ok(response.map_body(|_, body| Keeping {
        body: body.boxed(),
        _payload: held,
    }))
}

/// The handler's view of the request body: it reads the held body.
struct ReadThrough(Held);

impl Stream for ReadThrough {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_next(cx)
    }
}

/// An answer's body that keeps its request's body until it is written and dropped.
pub struct Keeping {
    body: BoxBody,
    _payload: Option<Held>,
}

impl MessageBody for Keeping {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}
