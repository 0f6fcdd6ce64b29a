//! Any bytes as a profile: parsing, validation, rendering and error display must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    baogen::fuzz::exercise(data);
});
