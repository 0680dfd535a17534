//! Notice e-mails to providers outside the network: the message ([`compose`]) and the SMTP
//! client that sends it ([`Mailer`]).
//!
//! The message is `multipart/mixed`: a UTF-8 `text/plain` part for the person at the abuse desk
//! (the URL, category, classification, the gateway's reference, which notice this is, the
//! confirmation link when there is one, and what to do) and the machine-readable attachment of
//! [`super::xarf`]. Its `Message-ID` is the notice's report id at the `From` domain, so a notice
//! sent again after a failure is the same message to the provider. Never the submitter's note,
//! never the submitter, never content.
//!
//! The client is lettre over rustls (ring): `smtp://host:port` (port 25 if none) upgrades with
//! STARTTLS when the relay offers it, `smtps://host:port` (port 465 if none) speaks TLS from the
//! start; the relay's certificate is checked against the system's CA store. `user:password@`
//! (percent-encoded) logs in. Every connection and command times out after
//! [`COMMAND_TIMEOUT`], and a whole send after [`SEND_TIMEOUT`], so a dead or stalling relay
//! never holds the caller. One connection per message (notices are few).

use std::fmt;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::xarf::{self, NoticeFacts};

mod text;

/// How long the relay may take to accept the connection or answer one command.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one whole send may take, however the relay trickles its answers.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// The notice e-mail for `facts`, from `from`.
pub fn compose(from: &Mailbox, facts: &NoticeFacts) -> anyhow::Result<Message> {
    let to = Mailbox::new(
        Some(facts.contact.name.clone()),
        facts.contact.email.clone(),
    );
    let attachment = serde_json::to_vec_pretty(&xarf::attachment(facts))
        .context("serialising the notice's attachment")?;
    let json = ContentType::parse("application/json").context("the attachment's content type")?;
    // Base64, as attachments usually are (quoted-printable would break every line of the JSON).
    let attachment = Body::new_with_encoding(attachment, ContentTransferEncoding::Base64)
        .map_err(|_| anyhow::anyhow!("the attachment cannot be encoded in base64"))?;
    let message_id = format!(
        "<{}@{}>",
        xarf::report_id(facts).simple(),
        from.email.domain()
    );
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(text::subject(facts))
        .message_id(Some(message_id))
        .date(SystemTime::from(facts.at))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(text::body(facts)))
                .singlepart(
                    Attachment::new(xarf::attachment_name(facts).to_owned()).body(attachment, json),
                ),
        )
        .context("building the notice e-mail")
}

/// Sends notice e-mails through one SMTP relay.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for messages (never the credentials).
    relay: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// Why a notice e-mail was not sent. The text is short and names no password, no address of
/// reported content and nothing the relay said (a relay's refusal may quote the message).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A 4xx answer: the relay may take it later.
    #[error("the SMTP relay refused the message for now ({code})")]
    Deferred { code: String },
    /// A 5xx answer: this message will not be taken as it is.
    #[error("the SMTP relay refused the message ({code})")]
    Rejected { code: String },
    #[error("the SMTP relay did not answer in time")]
    Timeout,
    /// No connection, or it broke (the cause: an OS or I/O error).
    #[error("no connection to the SMTP relay: {cause}")]
    Connection { cause: String },
    /// The relay's certificate was refused or the TLS handshake failed.
    #[error("TLS with the SMTP relay failed: {cause}")]
    Tls { cause: String },
    /// The relay answered something that is not SMTP, or lettre gave up on its own.
    #[error("the SMTP exchange failed")]
    Protocol,
    /// The notice could not be made into a message (an address lettre refuses).
    #[error("the notice could not be made into an e-mail")]
    Compose,
}

impl MailError {
    /// Whether sending the same message again cannot help: a 5xx answer, or a message that
    /// cannot be composed. Everything else is worth retrying later.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Rejected { .. } | MailError::Compose => true,
            MailError::Deferred { .. }
            | MailError::Timeout
            | MailError::Connection { .. }
            | MailError::Tls { .. }
            | MailError::Protocol => false,
        }
    }

    fn of(error: &lettre::transport::smtp::Error) -> MailError {
        let code = || error.status().map_or_else(String::new, |c| c.to_string());
        // The source of a lettre error is an I/O or rustls error (no secret, nothing the relay
        // said) for these kinds; for a refusal it is the relay's text, which is left out.
        let cause = || {
            std::error::Error::source(error)
                .map_or_else(|| "no detail".to_owned(), ToString::to_string)
        };
        if error.is_permanent() {
            MailError::Rejected { code: code() }
        } else if error.is_transient() {
            MailError::Deferred { code: code() }
        } else if error.is_timeout() {
            MailError::Timeout
        } else if error.is_tls() || tls_failure(error) {
            MailError::Tls { cause: cause() }
        } else if error.is_response() || error.is_client() {
            MailError::Protocol
        } else {
            MailError::Connection { cause: cause() }
        }
    }
}

/// Whether rustls refused somewhere in `error`'s chain (lettre reports a certificate the
/// relay's STARTTLS presents that is not trusted as a connection error).
fn tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        let io_inner = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
        if error.is::<rustls::Error>() || io_inner.is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        next = error.source();
    }
    false
}

impl Mailer {
    /// None when `smtp_url` is empty (no e-mail at all). Errors name the setting
    /// (`notices.smtp_url`, `notices.from`) and never print the password.
    pub fn new(smtp_url: &str, from: &str) -> anyhow::Result<Option<Mailer>> {
        let smtp_url = smtp_url.trim();
        if smtp_url.is_empty() {
            return Ok(None);
        }
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("notices.from: `{from}` is not an e-mail address: {e}"))?;
        let relay = Relay::parse(smtp_url)?;
        let tls = TlsParameters::new(relay.host.clone())
            .map_err(|e| anyhow::anyhow!("notices.smtp_url: TLS for the relay: {e}"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
            .port(relay.port)
            .tls(if relay.implicit_tls {
                Tls::Wrapper(tls)
            } else {
                Tls::Opportunistic(tls)
            })
            .hello_name(ClientId::Domain(from.email.domain().to_owned()))
            .timeout(Some(COMMAND_TIMEOUT));
        if let Some(credentials) = relay.credentials {
            builder = builder.credentials(credentials);
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            relay: format!("{}:{}", relay.host, relay.port),
        }))
    }

    /// Composes the notice for `facts` and hands it to the relay.
    pub async fn send(&self, facts: &NoticeFacts<'_>) -> Result<(), MailError> {
        let message = compose(&self.from, facts).map_err(|_| MailError::Compose)?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(MailError::of(&e)),
            Err(_) => Err(MailError::Timeout),
        }
    }

    /// The `From` of every notice.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The relay as `host:port`, for logs and messages.
    pub fn relay(&self) -> &str {
        &self.relay
    }
}

/// `notices.smtp_url`, taken apart.
struct Relay {
    host: String,
    port: u16,
    implicit_tls: bool,
    credentials: Option<Credentials>,
}

impl Relay {
    /// Every error names the setting and never repeats the URL (it may hold a password).
    fn parse(raw: &str) -> anyhow::Result<Relay> {
        const WHAT: &str = "smtp://host:port (STARTTLS when offered) or smtps://host:port \
             (TLS), with user:password@ before the host if the relay wants a login";
        let url = url::Url::parse(raw)
            .map_err(|e| anyhow::anyhow!("notices.smtp_url is not a URL ({e}): write {WHAT}"))?;
        let (implicit_tls, default_port) = match url.scheme() {
            "smtp" => (false, 25),
            "smtps" => (true, 465),
            other => {
                bail!("notices.smtp_url: the scheme `{other}` is not smtp or smtps: write {WHAT}")
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => bail!("notices.smtp_url has no host: write {WHAT}"),
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            bail!("notices.smtp_url has a path, query or fragment, which mean nothing here: write {WHAT}");
        }
        let decode = |part: &str, what: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    anyhow::anyhow!(
                        "notices.smtp_url: the {what} is not UTF-8 once percent-decoded"
                    )
                })
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => Some(Credentials::new(
                decode(user, "user name")?,
                decode(password, "password")?,
            )),
            _ => bail!(
                "notices.smtp_url: a login needs both a user name and a password (user:password@host)"
            ),
        };
        Ok(Relay {
            host,
            port: url.port().unwrap_or(default_port),
            implicit_tls,
            credentials,
        })
    }
}

#[cfg(test)]
#[path = "mail_tests.rs"]
mod tests;
