//! ARCHITECTURE.md must not lie: every source file is on its code map, and every path the map
//! names exists. Reads files only: no server, no store.
//!
//! What is checked (under `src/` and `tests/`, skipping any `target/` and `node_modules/`):
//! every `.rs` file, and every file of `tests/browser/` (the Node side of the browser test).
//! Other files (the fixtures of `tests/data/`, the console's catalogues and assets, SQL
//! migrations) need no row of their own: they are data, described by the row of the code that
//! reads them.
//!
//! A checked file counts as named on the map when one of these holds:
//!
//! 1. Its path from the repository's root appears in backticks anywhere in ARCHITECTURE.md
//!    (`src/store/sled/audit.rs`).
//! 2. A table row names it relative to a folder of the row. A row's folders are those its
//!    first cell names in backticks by a path from the root: a folder (`src/store/sled/`), or
//!    the folder of a file (`tests/api/crash.rs` gives `tests/api/`). Any relative path in
//!    backticks in any cell of that row (`audit.rs`, `connect/uri.rs`, `support/chains.rs`)
//!    names that path under each of the row's folders.
//! 3. It lies under a folder that a row names as a whole: a folder named as in 2, either by a
//!    path from the root in the first cell (`tests/api/hostile/`) or relatively in the row
//!    (`multi/` in the row of `tests/api_postgres/`), inside which the map names (by 1 or 2)
//!    no other existing file or folder (`blobs/` in a row, a folder the gateway makes at run
//!    time, does not count). Once the map names one path inside a folder it goes file by file
//!    there, and every file in it needs its own name: so a new file nobody mentions fails.
//!
//! Stale paths fail too: a path from the root in backticks (first part `src/`, `tests/`,
//! `schemas/`, ..., any top-level entry of the repository) that names no existing file or
//! folder; and a relative file name in a row with folders (rule 2) that is a source file
//! (`.rs`, `.mjs`, `.html`, `.sh`, `.sql`) and exists under none of them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Extensions of the relative names that rule 2's stale check holds to exist.
const SOURCE_EXTENSIONS: [&str; 5] = [".rs", ".mjs", ".html", ".sh", ".sql"];

/// Folders never walked: build output and npm's packages.
const SKIPPED_FOLDERS: [&str; 2] = ["target", "node_modules"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The text between single backticks on one line (the caller skips fenced code blocks).
fn spans(line: &str) -> Vec<String> {
    line.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .collect()
}

/// A table row's cells (the line starts with `|`), split on `|` outside backticks.
fn cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut in_code = false;
    for c in line.trim().trim_start_matches('|').chars() {
        match c {
            '`' => {
                in_code = !in_code;
                current.push(c);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        cells.push(current);
    }
    cells
}

/// Whether a span reads as a path: path characters only, and a `/` or a file extension.
fn looks_like_path(span: &str) -> bool {
    !span.is_empty()
        && span
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        && !span.starts_with('.')
        && !span.starts_with('/')
        && (span.contains('/') || span.contains('.'))
}

/// The span is a path from the repository's root: its first part is a top-level entry.
fn from_root(span: &str, top_level: &BTreeSet<String>) -> bool {
    looks_like_path(span)
        && span
            .split_once('/')
            .is_some_and(|(first, _)| top_level.contains(first))
}

/// What ARCHITECTURE.md names, read once.
struct Map {
    /// Every path from the root in backticks, anywhere (rule 1); folders end with `/`.
    absolute: BTreeSet<String>,
    /// Every path a row names relative to one of its folders (rule 2); folders end with `/`.
    relative: BTreeSet<String>,
    /// Folders a row names (rule 3's candidates).
    folders: BTreeSet<String>,
    /// Relative source-file names of rows with folders that exist under none of them.
    unresolved: Vec<String>,
    /// The repository's root, which rule 3 looks in.
    root: PathBuf,
}

fn read_map(text: &str, root: &Path, top_level: &BTreeSet<String>) -> Map {
    let mut map = Map {
        absolute: BTreeSet::new(),
        relative: BTreeSet::new(),
        folders: BTreeSet::new(),
        unresolved: Vec::new(),
        root: root.to_owned(),
    };
    let mut fenced = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for span in spans(line) {
            if from_root(&span, top_level) {
                map.absolute.insert(span);
            }
        }
        if !line.trim_start().starts_with('|') {
            continue;
        }
        let cells = cells(line);
        let Some(first) = cells.first() else { continue };
        let bases: BTreeSet<String> = spans(first)
            .into_iter()
            .filter(|s| from_root(s, top_level))
            .map(|s| match s.rfind('/') {
                Some(i) => s[..=i].to_owned(),
                None => s,
            })
            .collect();
        map.folders.extend(
            spans(first)
                .into_iter()
                .filter(|s| from_root(s, top_level) && s.ends_with('/')),
        );
        if bases.is_empty() {
            continue;
        }
        for cell in &cells {
            for span in spans(cell) {
                if !looks_like_path(&span) || from_root(&span, top_level) {
                    continue;
                }
                let named: Vec<String> = bases.iter().map(|b| format!("{b}{span}")).collect();
                if span.ends_with('/') {
                    map.folders.extend(named.iter().cloned());
                }
                if SOURCE_EXTENSIONS.iter().any(|e| span.ends_with(e))
                    && !named.iter().any(|p| root.join(p).exists())
                {
                    map.unresolved.push(format!(
                        "line {}: `{span}` is under none of {bases:?}",
                        number + 1
                    ));
                }
                map.relative.extend(named);
            }
        }
    }
    map
}

impl Map {
    fn names(&self, path: &str) -> bool {
        self.absolute.contains(path)
            || self.relative.contains(path)
            || self.whole_folders().any(|f| path.starts_with(f.as_str()))
    }

    /// The paths from the root that do not exist, and the unresolved relative names.
    fn stale(&self) -> Vec<String> {
        let mut stale: Vec<String> = self
            .absolute
            .iter()
            .filter(|p| !self.root.join(p).exists())
            .map(|p| format!("`{p}` does not exist"))
            .collect();
        stale.extend(self.unresolved.iter().cloned());
        stale
    }

    /// Rule 3: the folders a row names inside which the map names nothing else.
    fn whole_folders(&self) -> impl Iterator<Item = &String> {
        self.folders.iter().filter(|folder| {
            !self
                .absolute
                .iter()
                .chain(&self.relative)
                .chain(&self.folders)
                .any(|p| {
                    p.len() > folder.len()
                        && p.starts_with(folder.as_str())
                        && self.root.join(p).exists()
                })
        })
    }
}

/// Every file under `dir`, as a path from the root with `/`, skipping `SKIPPED_FOLDERS`.
fn walk(root: &Path, dir: &str, out: &mut Vec<String>) {
    let entries = fs::read_dir(root.join(dir)).unwrap_or_else(|e| panic!("reading {dir}: {e}"));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("reading {dir}: {e}"));
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{dir}/{name}");
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        if kind.is_dir() {
            if !SKIPPED_FOLDERS.contains(&name.as_str()) {
                walk(root, &path, out);
            }
        } else {
            out.push(path);
        }
    }
}

fn top_level(root: &Path) -> BTreeSet<String> {
    fs::read_dir(root)
        .expect("reading the repository's root")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !SKIPPED_FOLDERS.contains(&n.as_str()))
        .collect()
}

fn map() -> (Map, PathBuf) {
    let root = root();
    let text = fs::read_to_string(root.join("ARCHITECTURE.md")).expect("reading ARCHITECTURE.md");
    let top = top_level(&root);
    (read_map(&text, &root, &top), root)
}

#[test]
fn every_source_file_is_on_the_code_map() {
    let (map, root) = map();
    let mut files = Vec::new();
    walk(&root, "src", &mut files);
    walk(&root, "tests", &mut files);
    let mut missing: Vec<&String> = files
        .iter()
        .filter(|f| f.ends_with(".rs") || f.starts_with("tests/browser/"))
        .filter(|f| !map.names(f))
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "{} file(s) named nowhere in ARCHITECTURE.md (add a row, or the name to the row of its \
         folder; the rules are at the top of tests/architecture.rs):\n  {}",
        missing.len(),
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn every_path_the_code_map_names_exists() {
    let (map, _) = map();
    let stale = map.stale();
    assert!(
        stale.is_empty(),
        "{} stale path(s) in ARCHITECTURE.md:\n  {}",
        stale.len(),
        stale.join("\n  ")
    );
}

/// The rules themselves, on a map of their own over a tree of empty files: a file nobody
/// mentions is caught, and so are stale names.
#[test]
fn the_rules_catch_what_they_should() {
    let named = [
        "src/store/sled/mod.rs",
        "src/store/sled/audit.rs",
        "src/store/sled/connect/uri.rs",
        "tests/api/crash.rs",
        "tests/api/process.rs",
        "tests/api/hostile/slowloris.rs",
        "tests/api_postgres/main.rs",
        "tests/api_postgres/multi/push.rs",
        "tests/api/storage_faults/mod.rs",
    ];
    let unnamed = [
        "src/store/sled/new.rs",
        "src/store/sled/connect/other.rs",
        "src/store/new.rs",
        "tests/api/new.rs",
        "tests/api_postgres/gateways.rs",
    ];
    let dir = tempfile::tempdir().expect("a temporary directory");
    for file in named.iter().chain(&unnamed) {
        let path = dir.path().join(file);
        fs::create_dir_all(path.parent().expect("a parent")).expect("making a folder");
        fs::write(&path, "").expect("writing a file");
    }
    let top: BTreeSet<String> = ["src", "tests"].map(String::from).into();
    let text = "\
| path | owns |
|---|---|
| `src/store/sled/` | the backend (`mod.rs`); `audit.rs`; `connect/uri.rs`; `gone.rs` |
| `tests/api/crash.rs`, `process.rs` | crashes |
| `tests/api/hostile/` | slow clients |
| `tests/api/storage_faults/` | read-only `blobs/`, a folder that is not in the repository |
| `tests/api_postgres/` | `main.rs`; `multi/` holds each rule |
| `tests/api/` | the black-box suite; not `src/gone.rs` |

```
`src/store/new.rs` in a fenced block names nothing
```
";
    let map = read_map(text, dir.path(), &top);
    for file in named {
        assert!(map.names(file), "{file} should count as named");
    }
    for file in unnamed {
        assert!(!map.names(file), "{file} should count as unnamed");
    }
    let stale = map.stale();
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(stale[0].starts_with("`src/gone.rs`"), "{stale:?}");
    assert!(stale[1].contains("`gone.rs` is under none"), "{stale:?}");
}
