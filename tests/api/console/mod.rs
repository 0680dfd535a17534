//! The console: its pages and forms over mutual TLS on each backend (`pages`), and the same in
//! a real Chromium (`browser`).

mod browser;
mod pages;
