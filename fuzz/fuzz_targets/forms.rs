//! Every admin, wizard and API body decoder on arbitrary bytes: errors are fine, panics not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    onramp::web::decode_bodies_for_fuzzing(data);
});
