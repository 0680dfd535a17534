//! IP-to-country lookup, which decides whose hotline a reported URL goes to.
//!
//! Two database formats are read, chosen by file extension:
//! - `.mmdb`: a MaxMind DB (GeoIP2/GeoLite2 Country or City, or any database with the same
//!   record shape), read through the `maxminddb` crate. The country is `country.iso_code`,
//!   or `registered_country.iso_code` when the record has no `country.iso_code`.
//! - `.csv`: lines `first_ip,last_ip,CC`, inclusive IPv4 or IPv6 ranges, for operators who
//!   keep their own allocation list. Blank lines and `#` comments are skipped, as is a first
//!   line `first_ip,last_ip,country` (any case); fields are trimmed; codes may be lower-case.
//!   Both ends of a range are of one family (`::ffff:a.b.c.d` counts as IPv4) and in order.
//!
//! Invariants: a loaded [`GeoIp`] never panics on lookup; whatever the database holds, an
//! address it cannot place in a valid [`Country`] is unknown (`None`). CSV ranges never
//! overlap, so an address has at most one answer. IPv4-mapped IPv6 addresses
//! (`::ffff:a.b.c.d`) are looked up as the IPv4 address they carry, because that is where
//! both formats keep IPv4 data.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use anyhow::{anyhow, bail, Context};

use crate::domain::Country;

/// A loaded IP-to-country database; cheap to share behind an `Arc`, never changes once open.
pub struct GeoIp {
    source: Source,
}

enum Source {
    Mmdb(maxminddb::Reader<Vec<u8>>),
    Csv {
        v4: Vec<Span<u32>>,
        v6: Vec<Span<u128>>,
    },
}

/// An inclusive range of addresses as integers. Invariant (kept by [`parse_csv`]): a table's
/// spans are sorted by `first`, `first <= last`, and no two overlap.
struct Span<T> {
    first: T,
    last: T,
    country: Country,
}

impl GeoIp {
    /// Opens a database by its extension: `.mmdb` (MaxMind DB, through the maxminddb crate,
    /// country read from the `country.iso_code` field, falling back to
    /// `registered_country.iso_code`) or `.csv` (lines `first_ip,last_ip,CC`, IPv4 and IPv6
    /// ranges, inclusive).
    /// Errors name the file (and for CSV the line number and what is wrong).
    pub fn open(path: &Path) -> anyhow::Result<GeoIp> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if extension.eq_ignore_ascii_case("mmdb") {
            // maxminddb's error says its cause and gives it again as its source: once is enough.
            let reader = maxminddb::Reader::open_readfile(path)
                .map_err(|e| anyhow::anyhow!("cannot open MaxMind DB {}: {e}", path.display()))?;
            Ok(GeoIp {
                source: Source::Mmdb(reader),
            })
        } else if extension.eq_ignore_ascii_case("csv") {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read GeoIP CSV {}", path.display()))?;
            GeoIp::from_csv(&text).with_context(|| format!("invalid GeoIP CSV {}", path.display()))
        } else {
            bail!(
                "GeoIP database {} has an unsupported extension; supported are .mmdb (MaxMind DB) \
                 and .csv (first_ip,last_ip,country)",
                path.display()
            );
        }
    }

    /// Reads a CSV table from its text (the `.csv` format of the module doc); [`GeoIp::open`]
    /// reads `.csv` files through this. Errors say `line N: what`, without a file name.
    pub fn from_csv(text: &str) -> anyhow::Result<GeoIp> {
        let (v4, v6) = parse_csv(text)?;
        Ok(GeoIp {
            source: Source::Csv { v4, v6 },
        })
    }

    /// The country hosting `ip`, if the database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        let ip = ip.to_canonical();
        match &self.source {
            Source::Mmdb(reader) => mmdb_country(reader, ip),
            Source::Csv { v4, v6 } => match ip {
                IpAddr::V4(v4_ip) => find(v4, u32::from(v4_ip)),
                IpAddr::V6(v6_ip) => find(v6, u128::from(v6_ip)),
            },
        }
    }
}

impl fmt::Debug for GeoIp {
    // The CSV tables can hold hundreds of thousands of spans; print their size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Mmdb(reader) => f
                .debug_struct("GeoIp::Mmdb")
                .field("database_type", &reader.metadata().database_type)
                .field("build_epoch", &reader.metadata().build_epoch)
                .finish(),
            Source::Csv { v4, v6 } => f
                .debug_struct("GeoIp::Csv")
                .field("v4_ranges", &v4.len())
                .field("v6_ranges", &v6.len())
                .finish(),
        }
    }
}

fn mmdb_country(reader: &maxminddb::Reader<Vec<u8>>, ip: IpAddr) -> Option<Country> {
    use maxminddb::path;
    // A lookup error (an IPv6 address in an IPv4-only database) or a record of another
    // shape is not a reason to fail a report; the address is simply not placed. Only an
    // absent `country.iso_code` falls back: a present but broken one means the record is
    // not to be trusted, and routing by a second-best field would hide that.
    let record = reader.lookup(ip).ok()?;
    let code = match record.decode_path::<&str>(&path!["country", "iso_code"]) {
        Ok(None) => record.decode_path::<&str>(&path!["registered_country", "iso_code"]),
        found => found,
    };
    Country::parse(code.ok()??).ok()
}

fn find<T: Ord + Copy>(spans: &[Span<T>], ip: T) -> Option<Country> {
    let after = spans.partition_point(|span| span.first <= ip);
    let span = spans.get(after.checked_sub(1)?)?;
    (ip <= span.last).then(|| span.country.clone())
}

type Tables = (Vec<Span<u32>>, Vec<Span<u128>>);

const HEADER: [&str; 3] = ["first_ip", "last_ip", "country"];

/// Parses the CSV format described in the module doc; errors say `line N: what`.
fn parse_csv(text: &str) -> anyhow::Result<Tables> {
    // Line numbers travel with each span until the overlap check can name both lines.
    let mut v4: Vec<(Span<u32>, usize)> = Vec::new();
    let mut v6: Vec<(Span<u128>, usize)> = Vec::new();
    let mut seen_first_line = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split(',').map(str::trim).collect();
        let is_header = fields.iter().map(|f| f.to_ascii_lowercase()).eq(HEADER);
        if !seen_first_line && is_header {
            seen_first_line = true;
            continue;
        }
        seen_first_line = true;
        let [first, last, code] = fields[..] else {
            bail!(
                "line {line}: expected 3 fields `first_ip,last_ip,country`, found {}",
                fields.len()
            );
        };
        let ip = |field: &str, name: &str| {
            field
                .parse::<IpAddr>()
                .map(|ip| ip.to_canonical())
                .map_err(|_| anyhow!("line {line}: {name} `{field}` is not an IP address"))
        };
        let (first_ip, last_ip) = (ip(first, "first_ip")?, ip(last, "last_ip")?);
        let country = Country::parse(&code.to_ascii_uppercase())
            .map_err(|why| anyhow!("line {line}: country: {why}"))?;
        match (first_ip, last_ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                v4.push((span(line, a.into(), b.into(), country)?, line))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                v6.push((span(line, a.into(), b.into(), country)?, line))
            }
            _ => bail!(
                "line {line}: `{first}` and `{last}` are not the same IP family \
                 (an IPv4-mapped IPv6 address counts as IPv4)"
            ),
        }
    }
    if v4.is_empty() && v6.is_empty() {
        bail!("no ranges: the file holds no `first_ip,last_ip,country` line");
    }
    Ok((sorted_disjoint(v4)?, sorted_disjoint(v6)?))
}

fn span<T: Ord>(line: usize, first: T, last: T, country: Country) -> anyhow::Result<Span<T>> {
    if first > last {
        bail!("line {line}: first_ip is after last_ip");
    }
    Ok(Span {
        first,
        last,
        country,
    })
}

fn sorted_disjoint<T: Ord + Copy>(
    mut spans: Vec<(Span<T>, usize)>,
) -> anyhow::Result<Vec<Span<T>>> {
    spans.sort_by_key(|(span, _)| span.first);
    // Sorted by start, any overlap shows up between neighbours.
    for pair in spans.windows(2) {
        let ((earlier, earlier_line), (later, later_line)) = (&pair[0], &pair[1]);
        if later.first <= earlier.last {
            let mut lines = [*earlier_line, *later_line];
            lines.sort();
            bail!(
                "line {}: range overlaps the range on line {}",
                lines[1],
                lines[0]
            );
        }
    }
    Ok(spans.into_iter().map(|(span, _)| span).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> GeoIp {
        GeoIp::from_csv(text).unwrap()
    }

    const TABLE: &str = "\
# allocations, as the registry published them
First_IP, Last_IP, Country

10.0.0.0,10.0.0.255,nl
10.0.1.0 , 10.0.1.0 , FR
  # an indented comment
2001:db8::,2001:db8::ffff,DE
::ffff:192.0.2.0,::ffff:192.0.2.255,BE
255.255.255.0,255.255.255.255,IT
";

    #[test]
    fn csv_lookups_hit_inside_and_at_the_edges_of_ranges() {
        let geo = load(TABLE);
        let cases = [
            ("10.0.0.0", Some("NL")),
            ("10.0.0.77", Some("NL")),
            ("10.0.0.255", Some("NL")),
            ("10.0.1.0", Some("FR")),
            ("10.0.1.1", None),
            ("9.255.255.255", None),
            ("0.0.0.0", None),
            ("255.255.255.255", Some("IT")),
            ("2001:db8::", Some("DE")),
            ("2001:db8::ffff", Some("DE")),
            ("2001:db8::1:0", None),
            ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("::", None),
            // A mapped address is its IPv4 address, whichever way either side writes it.
            ("::ffff:10.0.0.1", Some("NL")),
            ("192.0.2.9", Some("BE")),
            ("::ffff:192.0.2.9", Some("BE")),
            // An IPv4-compatible (not mapped) address stays IPv6.
            ("::10.0.0.1", None),
        ];
        for (ip, want) in cases {
            let got = geo.country(ip.parse().unwrap());
            assert_eq!(got.as_ref().map(Country::as_str), want, "{ip}");
        }
    }

    #[test]
    fn csv_errors_name_the_line_and_the_problem() {
        #[rustfmt::skip]
        let cases = [
            ("10.0.0.0,10.0.0.9\n", "line 1: expected 3 fields"),
            ("# c\n10.0.0.0,10.0.0.9,NL,x\n", "line 2: expected 3 fields"),
            ("10.0.0.x,10.0.0.9,NL\n", "line 1: first_ip `10.0.0.x` is not an IP address"),
            ("\n\n10.0.0.0,,NL\n", "line 3: last_ip `` is not an IP address"),
            ("10.0.0.0,10.0.0.9,NLD\n", "line 1: country: `NLD` is not an ISO 3166-1"),
            ("10.0.0.0,10.0.0.9,\n", "line 1: country: `` is not an ISO 3166-1"),
            ("10.0.0.0,::1,NL\n", "line 1: `10.0.0.0` and `::1` are not the same IP family"),
            ("::ffff:10.0.0.0,::1,NL\n", "line 1: `::ffff:10.0.0.0` and `::1` are not the same"),
            ("10.0.0.9,10.0.0.0,NL\n", "line 1: first_ip is after last_ip"),
            ("::2,::1,NL\n", "line 1: first_ip is after last_ip"),
            ("10.0.0.0,10.0.0.9,NL\n10.0.1.0,10.0.1.9,NL\n10.0.0.9,10.0.0.20,FR\n",
             "line 3: range overlaps the range on line 1"),
            ("10.0.0.5,10.0.0.6,FR\n10.0.0.0,10.0.0.9,NL\n",
             "line 2: range overlaps the range on line 1"),
            ("::,::ffff,NL\n::5,::5,FR\n", "line 2: range overlaps the range on line 1"),
            ("10.0.0.0,10.0.0.9,NL\nfirst_ip,last_ip,country\n", "line 2: first_ip `first_ip`"),
            ("", "no ranges"),
            ("# only a comment\nfirst_ip,last_ip,country\n\n", "no ranges"),
        ];
        for (text, want) in cases {
            let err = format!("{:#}", parse_csv(text).err().unwrap());
            assert!(err.contains(want), "{text:?}: got {err:?}, want {want:?}");
        }
    }
}
