//! Fuzz target `receipt`: raw bytes through [`hotline_gateway_fuzz::receipt`], which says what is
//! checked. A panic there is a crash; `fuzz/run.sh` runs this target.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hotline_gateway_fuzz::receipt(data));
