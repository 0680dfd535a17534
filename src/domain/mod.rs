//! Validated domain types. Each is built only by parsing, so a value of one of these types has
//! already passed every check: nothing unvalidated can be routed, stored or signed.

mod country;
mod member;
mod report;
mod status;
mod url;

pub use country::Country;
pub use member::{Member, Role};
pub use report::{Category, Classification, ContentKind, Hashes, Hosting, Item, Report, ReportId};
pub use status::Status;
pub use url::{ReportedUrl, MAX_URL_LEN};
