//! A minimal MaxMind DB (format 2.0) writer. It exists only for tests: no maintained Rust
//! crate writes `.mmdb` files, and the GeoIP tests need databases whose contents they choose.
//!
//! What it writes follows <https://maxmind.github.io/MaxMind-DB/>: an IPv6 search tree
//! (`ip_version` 6, 24-bit records) with IPv4 networks under `::/96` (`::a.b.c.d`), the
//! 16-byte zero separator, the data section, then the `\xAB\xCD\xEFMaxMind.com` marker and
//! the metadata map. The writer itself emits no pointers ([`pointer`] lets a test put one in
//! a record), and it does not alias `::ffff:0:0/96` or `2002::/16` to the IPv4 subtree as
//! MaxMind's own databases do.
// Not every test that includes this module uses every encoder.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Error, ErrorKind};
use std::net::IpAddr;
use std::path::Path;

const RECORD_BITS: u32 = 24;
const SEPARATOR: [u8; 16] = [0; 16];
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

// Type numbers from the spec; those above 7 are "extended" and cost an extra byte.
const POINTER: u8 = 1;
const STRING: u8 = 2;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

/// Writes a GeoIP2-Country-shaped database: each network maps to
/// `{"country": {"iso_code": code}}`. A more specific network wins over one containing it.
pub fn write_country_mmdb(path: &Path, networks: &[(IpAddr, u8, &str)]) -> std::io::Result<()> {
    let records: Vec<(IpAddr, u8, Vec<u8>)> = networks
        .iter()
        .map(|&(ip, len, code)| {
            (
                ip,
                len,
                map(&[("country", map(&[("iso_code", string(code))]))]),
            )
        })
        .collect();
    write_mmdb(path, "Test-Country", &records)
}

/// Writes a database whose networks carry already-encoded data-section values (see [`map`],
/// [`string`], [`uint16`], [`pointer`]), for records of shapes other than the one above.
pub fn write_mmdb(
    path: &Path,
    database_type: &str,
    networks: &[(IpAddr, u8, Vec<u8>)],
) -> std::io::Result<()> {
    let invalid = |why: String| Error::new(ErrorKind::InvalidInput, why);

    // Identical records are stored once, as a real writer would.
    let mut data = Vec::new();
    let mut offsets: HashMap<&[u8], usize> = HashMap::new();
    let mut leaves = Vec::new();
    for (ip, len, record) in networks {
        let (bits, prefix) = match ip {
            IpAddr::V4(v4) if *len <= 32 => (u128::from(u32::from(*v4)), 96 + u32::from(*len)),
            IpAddr::V6(v6) if (1..=128).contains(len) => (u128::from(*v6), u32::from(*len)),
            _ => {
                return Err(invalid(format!(
                    "{ip}/{len} is not a network the tree can hold"
                )))
            }
        };
        let offset = *offsets.entry(record.as_slice()).or_insert_with(|| {
            data.extend_from_slice(record);
            data.len() - record.len()
        });
        leaves.push((bits, prefix, offset));
    }

    // Inserting shorter prefixes first lets a longer one split its parent's leaf.
    leaves.sort_by_key(|&(_, prefix, _)| prefix);
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty; 2]];
    for (bits, prefix, offset) in leaves {
        let mut node = 0;
        for depth in 0..prefix {
            let side = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == prefix {
                nodes[node][side] = Record::Data(offset);
                break;
            }
            node = match nodes[node][side] {
                Record::Node(child) => child,
                leaf => {
                    nodes.push([leaf; 2]);
                    nodes[node][side] = Record::Node(nodes.len() - 1);
                    nodes.len() - 1
                }
            };
        }
    }

    let node_count = nodes.len();
    if node_count + SEPARATOR.len() + data.len() >= 1 << RECORD_BITS {
        return Err(invalid("too large for 24-bit records".to_owned()));
    }
    let mut file = Vec::new();
    for pair in &nodes {
        for record in pair {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(child) => child,
                // Data records point past the tree and separator (spec: "Pointer values").
                Record::Data(offset) => node_count + SEPARATOR.len() + offset,
            };
            file.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
        }
    }
    file.extend_from_slice(&SEPARATOR);
    file.extend_from_slice(&data);
    file.extend_from_slice(METADATA_MARKER);
    let build_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    file.extend_from_slice(&map(&[
        ("binary_format_major_version", uint16(2)),
        ("binary_format_minor_version", uint16(0)),
        ("build_epoch", uint(UINT64, build_epoch)),
        ("database_type", string(database_type)),
        (
            "description",
            map(&[("en", string("hotline-gateway test database"))]),
        ),
        ("ip_version", uint16(6)),
        ("languages", array(&[string("en")])),
        ("node_count", uint(UINT32, node_count as u64)),
        ("record_size", uint16(RECORD_BITS as u16)),
    ]));
    std::fs::write(path, file)
}

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// A map; keys are strings, as the spec requires.
pub fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = control(MAP, entries.len());
    for (key, value) in entries {
        out.extend(string(key));
        out.extend_from_slice(value);
    }
    out
}

/// A UTF-8 string.
pub fn string(value: &str) -> Vec<u8> {
    let mut out = control(STRING, value.len());
    out.extend_from_slice(value.as_bytes());
    out
}

/// A uint16; lets a test put a number where a reader expects a string.
pub fn uint16(value: u16) -> Vec<u8> {
    uint(UINT16, value.into())
}

/// A pointer into the data section, as an offset from its start (a 1-byte `SS = 0` pointer,
/// so the offset must be below 2048).
pub fn pointer(offset: usize) -> Vec<u8> {
    assert!(offset < 2048, "test pointers are the 11-bit kind");
    vec![(POINTER << 5) | (offset >> 8) as u8, offset as u8]
}

fn array(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = control(ARRAY, items.len());
    items.iter().for_each(|item| out.extend_from_slice(item));
    out
}

// Unsigned integers are big-endian with leading zero bytes dropped; the size is the byte count.
fn uint(kind: u8, value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let mut out = control(kind, bytes.len() - skip);
    out.extend_from_slice(&bytes[skip..]);
    out
}

/// The control byte(s): 3 type bits and 5 size bits, then the extended type byte
/// (type - 7) when the type is above 7, then 0 to 3 bytes of larger sizes.
fn control(kind: u8, size: usize) -> Vec<u8> {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    let mut out = if kind > 7 {
        vec![size_bits, kind - 7]
    } else {
        vec![(kind << 5) | size_bits]
    };
    out.extend(extra);
    out
}
