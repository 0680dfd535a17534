//! Notices to hosting providers outside the network: who they are ([`contacts`]), what the
//! e-mail's machine-readable attachment says ([`xarf`]), and the e-mail itself and its SMTP
//! client ([`mail`]).

pub mod contacts;
pub mod mail;
pub mod xarf;
