//! Who is calling: the client certificate's Subject Common Name (`member_name`, the one rule of
//! what a certificate's member name is: the TLS verifier refuses a certificate it rejects), read
//! once per connection, and the `Caller` extractor that resolves it to an active member (or
//! answers 403), within its rate limit (or answers 429).

use std::future::{ready, Ready};

use actix_web::dev::{Extensions, Payload};
use actix_web::{web, FromRequest, HttpRequest};

use crate::domain::{Member, Role};
use crate::error::ApiError;
use crate::server::Connection;
use crate::state::AppState;

/// The Common Name of the verified client certificate of a connection; absent if it has none.
#[derive(Clone, Debug)]
struct PeerName(String);

/// The API server's connect hook (`server::api`): rustls has verified the chain by now; keep
/// the name.
pub fn on_connect(connection: &Connection, data: &mut Extensions) {
    let (_, session) = connection.get_ref().get_ref();
    let name = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| member_name(leaf.as_ref()).ok().flatten());
    if let Some(name) = name {
        data.insert(PeerName(name));
    }
}

/// The Common Name of the connection's client certificate, for logs.
pub fn peer_name(req: &HttpRequest) -> Option<String> {
    req.conn_data::<PeerName>().map(|name| name.0.clone())
}

/// Why a certificate names no member: the TLS verifier refuses it at the handshake.
#[derive(Debug, thiserror::Error)]
pub enum BadName {
    #[error("the certificate cannot be parsed")]
    Unparsable,
    #[error("the certificate's subject has {0} Common Names; a member's has one")]
    SeveralCommonNames(usize),
    #[error("the certificate's Common Name is not UTF-8 text")]
    NotText,
    #[error("the certificate's Common Name holds a control character")]
    ControlCharacter,
}

/// What a certificate says its member is: its subject's one Common Name, UTF-8 text without
/// control characters; `None` when it has no Common Name (answered 403). The one rule, for the
/// handshake (`tls`) and for the requests on the connection (`on_connect`).
pub fn member_name(der: &[u8]) -> Result<Option<String>, BadName> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|_| BadName::Unparsable)?;
    let mut names = cert.subject().iter_common_name();
    let Some(name) = names.next() else {
        return Ok(None);
    };
    let more = names.count();
    if more > 0 {
        return Err(BadName::SeveralCommonNames(more + 1));
    }
    let name = name.as_str().map_err(|_| BadName::NotText)?;
    if name.chars().any(char::is_control) {
        return Err(BadName::ControlCharacter);
    }
    Ok(Some(name.to_owned()))
}

/// The Common Names of a certificate's subject as text (lossily decoded), joined by ", ", for
/// the log line of a refused certificate (a peer chose them: log them `Escaped`); "-" when it
/// has none or does not parse.
pub fn common_names_for_log(der: &[u8]) -> String {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return "-".into();
    };
    let names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .map(|cn| String::from_utf8_lossy(cn.as_slice()).into_owned())
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(", ")
    }
}

/// The member making the request: an active member of the directory.
#[derive(Clone, Debug)]
pub struct Caller(pub Member);

impl Caller {
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// 403 unless the member has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} member may not call this endpoint",
                self.0.role.as_str()
            )))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(resolve(req))
    }
}

fn resolve(req: &HttpRequest) -> Result<Caller, ApiError> {
    let name = req
        .conn_data::<PeerName>()
        .ok_or_else(|| ApiError::Forbidden("the client certificate has no Common Name".into()))?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let directory = state.directory();
    match directory.get(&name.0) {
        Some(member) if member.suspended => Err(ApiError::Forbidden(
            "this member is suspended; contact the gateway's operator".into(),
        )),
        Some(member) => {
            // Rate limits are per member, so one member's flood never uses another's budget.
            if let Err(not_until) = state.limiter.check_key(&member.id) {
                let wait =
                    not_until.wait_time_from(governor::clock::Clock::now(state.limiter.clock()));
                return Err(ApiError::RateLimited {
                    retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                });
            }
            Ok(Caller(member.clone()))
        }
        None => Err(ApiError::Forbidden(
            "the client certificate does not name a member of this gateway".into(),
        )),
    }
}
